"""The trained categorizer in the ingest path: numpy only (PyTorch never ships in a Lambda).

The training code (``ml/categorizer``) exports its weights to one ``.npz``; this module
turns descriptions into the same hashed n-gram features and computes the same scores. A
prediction below the model's confidence floor, or a description with no known features,
is answered by the keyword rules when one of them matches (they are precise on the kinds of
items the public training data barely has, such as electronics).
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import re
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lambda_src.common.model import UNCATEGORIZED
from lambda_src.ingest.categorize import Categorizer, KeywordCategorizer, Prediction

# Shipped with the function; the models bucket's ``latest`` replaces it when configured.
BUNDLED_MODEL = Path(__file__).with_name("categorizer.npz")
FORMAT_VERSION = 1
# The models bucket's pointer to the promoted run (written by ml/pipeline.py).
LATEST_KEY = "latest.json"
# Below this (calibrated) confidence a matching keyword rule answers instead of the model:
# chosen on the validation split (0.0 / 0.35 / 0.5 / 0.6 / 0.7 -> macro-F1 0.571 / 0.559 /
# 0.557 / 0.580 / 0.573), see bench/README.md.
DEFAULT_MIN_CONFIDENCE = 0.6

_log = logging.getLogger(__name__)
_WORD = re.compile(r"[a-z0-9]+")
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class FeatureSpec:
    buckets: int
    char_min: int = 2
    char_max: int = 4

    def to_json(self) -> dict[str, int]:
        return {"buckets": self.buckets, "char_min": self.char_min, "char_max": self.char_max}


def normalize(text: str) -> str:
    """Lower case, accents off, digit runs as one ``0`` (prices and codes say little)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return _DIGITS.sub("0", plain)


def feature_ids(description: str, vendor: str | None, spec: FeatureSpec) -> list[int]:
    """Hashed features of one item: words, word pairs, character n-grams of each word (OCR
    glues and truncates words, n-grams survive it), and the vendor's words. crc32, not
    ``hash()``: the ids must be the same in every process that trains or serves."""
    words = _WORD.findall(normalize(description))
    grams: list[str] = [f"w:{w}" for w in words]
    grams += [f"b:{a}_{b}" for a, b in itertools.pairwise(words)]
    for w in words:
        padded = f"<{w}>"
        for n in range(spec.char_min, spec.char_max + 1):
            grams += [padded[i : i + n] for i in range(len(padded) - n + 1)]
    if vendor:
        grams += [f"v:{w}" for w in _WORD.findall(normalize(vendor))]
    return [zlib.crc32(g.encode()) % spec.buckets for g in grams]


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return np.asarray(e / e.sum(axis=-1, keepdims=True))


@dataclass(frozen=True)
class ExportedModel:
    """Weights as exported: ``embedding_bag`` (mean of embedding rows, then a linear layer)
    or ``tfidf_lr`` (sublinear tf-idf, l2-normalized, then a linear layer)."""

    kind: str
    classes: tuple[str, ...]
    spec: FeatureSpec
    rows: np.ndarray  # bucket ids that have weights, sorted
    table: np.ndarray  # embedding_bag: (len(rows), dim); tfidf_lr: idf per row, (len(rows),)
    weight: np.ndarray  # (classes, dim) or (classes, len(rows))
    bias: np.ndarray  # (classes,)
    version: str
    min_confidence: float = DEFAULT_MIN_CONFIDENCE

    def scores(self, descriptions: Sequence[str], vendor: str | None = None) -> np.ndarray:
        """Class probabilities, one row per description."""
        out = np.zeros((len(descriptions), len(self.classes)), dtype=np.float64)
        for i, text in enumerate(descriptions):
            ids = np.asarray(feature_ids(text, vendor, self.spec), dtype=np.int64)
            out[i] = self._logits(ids)
        return softmax(out)

    def _logits(self, ids: np.ndarray) -> np.ndarray:
        # Buckets nobody trained on have zero weights in the model, so they add nothing.
        pos = np.searchsorted(self.rows, ids)
        pos = np.minimum(pos, len(self.rows) - 1)
        known = self.rows[pos] == ids
        w32 = self.weight.astype(np.float64)
        if self.kind == "embedding_bag":
            if len(ids) == 0:
                return self.bias.astype(np.float64)
            summed = self.table[pos[known]].astype(np.float64).sum(axis=0)
            return np.asarray(w32 @ (summed / len(ids)) + self.bias)
        counts: dict[int, int] = {}
        for p in pos[known].tolist():
            counts[p] = counts.get(p, 0) + 1
        if not counts:
            return self.bias.astype(np.float64)
        cols = np.fromiter(counts, dtype=np.int64)
        tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64))
        x = tf * self.table[cols].astype(np.float64)
        x /= np.linalg.norm(x) or 1.0
        return np.asarray(w32[:, cols] @ x + self.bias)

    def to_bytes(self) -> bytes:
        meta = {
            "format": FORMAT_VERSION,
            "kind": self.kind,
            "classes": list(self.classes),
            "spec": self.spec.to_json(),
            "version": self.version,
            "min_confidence": self.min_confidence,
        }
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
            rows=self.rows,
            table=self.table,
            weight=self.weight,
            bias=self.bias,
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> ExportedModel:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            meta: dict[str, Any] = json.loads(npz["meta"].tobytes().decode())
            if meta.get("format") != FORMAT_VERSION:
                raise ValueError(f"categorizer format {meta.get('format')} is not {FORMAT_VERSION}")
            return cls(
                kind=str(meta["kind"]),
                classes=tuple(meta["classes"]),
                spec=FeatureSpec(**meta["spec"]),
                rows=npz["rows"],
                table=npz["table"],
                weight=npz["weight"],
                bias=npz["bias"],
                version=str(meta["version"]),
                min_confidence=float(meta.get("min_confidence", DEFAULT_MIN_CONFIDENCE)),
            )


class ModelCategorizer:
    """The trained model behind the ``Categorizer`` protocol, keyword rules as fallback."""

    def __init__(self, model: ExportedModel, fallback: Categorizer | None = None) -> None:
        self.model = model
        self.fallback = fallback or KeywordCategorizer()

    @property
    def version(self) -> str:
        return self.model.version

    def predict(self, descriptions: Sequence[str], *, vendor: str | None = None) -> list[Prediction]:
        if not descriptions:
            return []
        probabilities = self.model.scores(descriptions, vendor)
        rules = self.fallback.predict(descriptions, vendor=vendor)
        out: list[Prediction] = []
        for row, rule in zip(probabilities, rules, strict=True):
            best = int(row.argmax())
            model = Prediction(self.model.classes[best], float(row[best]))
            # Below its floor the model defers to a keyword that matched; with no keyword
            # its own guess, however unsure, beats "uncategorized".
            unsure = model.confidence < self.model.min_confidence
            out.append(rule if unsure and rule.category != UNCATEGORIZED else model)
        return out


def load_categorizer(data: bytes | None = None) -> Categorizer:
    """The trained model from ``data`` (the models bucket's latest) or the bundled file; the
    keyword rules alone when neither is there or readable (ingest must never stop for it)."""
    try:
        raw = data if data is not None else BUNDLED_MODEL.read_bytes()
        return ModelCategorizer(ExportedModel.from_bytes(raw))
    except (OSError, ValueError, KeyError):
        return KeywordCategorizer()


def promoted_model(s3: Any, bucket: str) -> bytes | None:
    """The categorizer ``latest.json`` points to (ml/artifacts.py's layout), or None when
    there is none yet or it cannot be read (the caller falls back; a log says why)."""
    try:
        pointer = json.loads(s3.get_object(Bucket=bucket, Key=LATEST_KEY)["Body"].read())
        body: bytes = s3.get_object(Bucket=bucket, Key=f"runs/{pointer['version']}/categorizer.npz")[
            "Body"
        ].read()
    except Exception as exc:  # any failure means "use the bundled model"
        missing = getattr(exc, "response", {}).get("Error", {}).get("Code") in ("NoSuchKey", "404")
        # Before the first training run there is nothing to read: not worth a warning.
        (_log.info if missing else _log.warning)("using the bundled categorizer: %s", exc)
        return None
    return body
