"""Train both categorizers, choose on validation, score once on the held-out test split.

The test split (``ml.labels.split_of``) is never seen by a training step: the PyTorch model
stops early on validation, the baseline's C is chosen on validation, and the shipped model
is the one with the better validation macro-F1. Both are then reported on test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lambda_src.ingest.categorize import KeywordCategorizer
from lambda_src.ingest.model_categorizer import ExportedModel, ModelCategorizer
from ml.categorizer import baseline, torch_model
from ml.categorizer.evaluate import figures, one_hot

BASELINE_C: tuple[float, ...] = (1.0, 10.0, 100.0)  # chosen on validation


@dataclass
class CategorizerResult:
    shipped: ExportedModel
    metrics: dict[str, Any]
    candidates: dict[str, ExportedModel] = field(default_factory=dict)


def _texts(frame: pd.DataFrame) -> list[tuple[str, str]]:
    return list(zip(frame["description"].astype(str), frame["vendor"].fillna("").astype(str), strict=True))


def score(model: ExportedModel, frame: pd.DataFrame) -> dict[str, Any]:
    """Figures of an exported model on examples (labels outside its classes count as wrong)."""
    index = {c: i for i, c in enumerate(model.classes)}
    truth = [index.get(label, -1) for label in frame["label"]]
    probabilities = np.vstack(
        [model.scores([d], v) for d, v in _texts(frame)] or [np.zeros((0, len(model.classes)))]
    )
    return figures(probabilities, truth, model.classes)


def train_categorizers(
    data: pd.DataFrame,
    version: str,
    config: torch_model.TorchConfig,
    *,
    resume: bytes | None = None,
    save: Callable[[bytes], None] = lambda _: None,
    should_stop: Callable[[], bool] = lambda: False,
    on_epoch: Callable[[int, float], None] = lambda _e, _f: None,
) -> CategorizerResult:
    """``data`` as ``ml.labels.dataset()`` returns it (with users' corrections added)."""
    classes = sorted(data["label"].unique())
    index = {c: i for i, c in enumerate(classes)}
    train, validation, test = (data[data["split"] == s] for s in ("train", "validation", "test"))
    y_train = [index[c] for c in train["label"]]
    y_val = [index[c] for c in validation["label"]]

    network = torch_model.train(
        _texts(train), y_train, _texts(validation), y_val, len(classes), config,
        resume=resume, save=save, should_stop=should_stop, on_epoch=on_epoch,
    )  # fmt: skip
    temperature = torch_model.fit_temperature(
        network, torch_model.encode(_texts(validation), torch_model.FeatureSpec(config.buckets)), y_val
    )
    candidates = {"pytorch": torch_model.export(network, classes, config, version, temperature)}
    best_c, best_val = BASELINE_C[0], -1.0
    pipelines = {}
    for c in BASELINE_C:
        pipelines[c] = baseline.train(_texts(train), y_train, c=c, seed=config.seed)
        f1 = figures(baseline.probabilities(pipelines[c], _texts(validation), len(classes)), y_val, classes)
        if f1["macro_f1"] > best_val:
            best_c, best_val = c, f1["macro_f1"]
    candidates["tfidf_lr"] = baseline.export(pipelines[best_c], classes, version)

    validation_f1 = {name: score(m, validation)["macro_f1"] for name, m in candidates.items()}
    chosen = max(validation_f1, key=lambda name: (validation_f1[name], name == "pytorch"))
    keyword = KeywordCategorizer()
    rule_answers = [keyword.predict([d], vendor=v)[0] for d, v in _texts(test)]
    rule_probabilities = one_hot(
        [index.get(p.category, -1) for p in rule_answers], len(classes), [p.confidence for p in rule_answers]
    )
    in_ingest = ModelCategorizer(candidates[chosen], fallback=keyword)
    ingest_answers = [in_ingest.predict([d], vendor=v or None)[0] for d, v in _texts(test)]
    metrics: dict[str, Any] = {
        "shipped": chosen,
        "classes": classes,
        "examples": {s: int((data["split"] == s).sum()) for s in ("train", "validation", "test")},
        "corrections": int((data["source"] == "corrections").sum()),
        "validation_macro_f1": validation_f1,
        "baseline_c": best_c,
        "temperature": temperature,
        "test": {name: score(m, test) for name, m in candidates.items()},
        "test_keyword_rules": figures(rule_probabilities, [index[c] for c in test["label"]], classes),
        # What ingest runs: the shipped model, a matching keyword rule below its floor.
        "test_in_ingest": figures(
            one_hot(
                [index.get(p.category, -1) for p in ingest_answers],
                len(classes),
                [p.confidence for p in ingest_answers],
            ),
            [index[c] for c in test["label"]],
            classes,
        ),
        "embedding_rows": len(candidates["pytorch"].rows),
    }
    return CategorizerResult(candidates[chosen], metrics, candidates)
