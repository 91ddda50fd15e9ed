"""Offline OCR engines behind one small protocol.

``RapidOcrEngine`` is the pinned engine (rapidocr 3.10, PP-OCRv6 models shipped inside the
wheel, onnxruntime on CPU): nothing is downloaded at run time. Its settings are tuned for
receipts on 2 cores; see ``RAPIDOCR_PARAMS`` and bench/README.md ("Local reader") for the
measurements behind each one.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

import numpy as np
from PIL import Image

Point = tuple[float, float]


@dataclass(frozen=True)
class OcrLine:
    """One line of text as the engine saw it: box points clockwise from top-left, pixels."""

    text: str
    confidence: float  # 0..1
    box: tuple[Point, Point, Point, Point]

    @cached_property
    def left(self) -> float:
        return min(p[0] for p in self.box)

    @cached_property
    def right(self) -> float:
        return max(p[0] for p in self.box)

    @cached_property
    def top(self) -> float:
        return min(p[1] for p in self.box)

    @cached_property
    def bottom(self) -> float:
        return max(p[1] for p in self.box)

    @property
    def cx(self) -> float:
        return (self.left + self.right) / 2

    @property
    def cy(self) -> float:
        return sum(p[1] for p in self.box) / 4

    @property
    def height(self) -> float:
        # The left and right edges, not the bounding box: on a skewed photo the bounding box
        # of a long line is much taller than its letters.
        (_, y0), (_, y1), (_, y2), (_, y3) = self.box
        return max(1.0, (abs(y3 - y0) + abs(y2 - y1)) / 2)


class OcrEngine(Protocol):
    name: str

    def read(self, image: Image.Image) -> list[OcrLine]: ...


def _threads() -> int:
    # The reader runs beside other work (the ingest worker, the API); two threads is the
    # budget it was tuned for. RECEIPTLAKE_OCR_THREADS overrides it.
    return int(os.environ.get("RECEIPTLAKE_OCR_THREADS", "2"))


# Measured on sroie-train/img (bench/README.md, "Local reader"):
# - Global.use_cls off: receipts are upright; the 180° classifier costs time and its false
#   flips cost lines. Upside-down photos are rare enough to leave to review.
# - Det.limit_type max / 960: detection on at most 960 px on the long side; the default
#   ("min" 736) runs detection on the full scan (often 1000x2000 px or more).
# - Rec.rec_img_shape width 160: each line crop is padded to at least width/height = 320/48
#   by default; most receipt lines are short ("9.00"), so half the padding halves the
#   recognizer's work without losing characters.
RAPIDOCR_PARAMS: dict[str, Any] = {
    "Global.log_level": "error",
    "Global.use_cls": False,
    "Det.limit_type": "max",
    "Det.limit_side_len": 960,
    "Rec.rec_img_shape": [3, 48, 160],
    "Rec.rec_batch_num": 6,
    "EngineConfig.onnxruntime.inter_op_num_threads": 1,
}


class RapidOcrEngine:
    """rapidocr with its bundled models, loaded once on first use (loading takes ~1 s)."""

    name = "rapidocr"

    def __init__(self, params: dict[str, Any] | None = None, threads: int | None = None) -> None:
        self._params = {
            **RAPIDOCR_PARAMS,
            "EngineConfig.onnxruntime.intra_op_num_threads": threads or _threads(),
            **(params or {}),
        }
        self._engine: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    from rapidocr import RapidOCR  # heavy import: only when OCR is needed

                    engine = RapidOCR(params=self._params)
                    threads = int(self._params["EngineConfig.onnxruntime.intra_op_num_threads"])
                    _quiet_sessions(engine, threads)
                    self._engine = engine
        return self._engine

    def read(self, image: Image.Image) -> list[OcrLine]:
        engine = self._load()
        # rapidocr takes OpenCV's BGR order for arrays.
        pixels = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])
        result = engine(pixels)
        if result.txts is None or result.boxes is None:
            return []
        lines = []
        for text, score, box in zip(result.txts, result.scores, result.boxes, strict=True):
            points = tuple((float(x), float(y)) for x, y in box)
            text = _fix_case_slips(text)
            if text.strip() and len(points) == 4:
                lines.append(OcrLine(text.strip(), float(score), points))
        return lines


def _quiet_sessions(engine: Any, threads: int) -> None:
    """Reload the detector's and recognizer's onnxruntime sessions with thread spinning
    off: idle worker threads otherwise spin for a while after each run, which burns CPU
    the neighbours on a shared machine need (rapidocr does not expose the option)."""
    import onnxruntime as ort

    for load in (engine._load_det_model, engine._load_rec_model):
        wrapper = load().session
        old = wrapper.session
        options = ort.SessionOptions()
        options.log_severity_level = 4
        options.enable_cpu_mem_arena = False
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        wrapper.session = ort.InferenceSession(
            old._model_path, sess_options=options, providers=old.get_providers()
        )


_CAPITAL_I_IN_WORD = re.compile(r"(?<=[a-z])I(?=[a-z])|(?<=[a-z]{2})I\b")


def _fix_case_slips(text: str) -> str:
    """The recognizer reads a lower-case "l" as "I" inside lower-case words ("WorId")."""
    return _CAPITAL_I_IN_WORD.sub("l", text)


_ENGINES: dict[str, OcrEngine] = {}
_ENGINES_LOCK = threading.Lock()


def get_engine(name: str = "rapidocr") -> OcrEngine:
    """One engine per name per process: the models load once."""
    with _ENGINES_LOCK:
        if name not in _ENGINES:
            if name == "rapidocr":
                _ENGINES[name] = RapidOcrEngine()
            elif name == "tesseract":
                from receiptlake.reader.tesseract import TesseractEngine

                _ENGINES[name] = TesseractEngine()
            else:
                raise ValueError(f"unknown OCR engine {name!r} (rapidocr, tesseract)")
        return _ENGINES[name]
