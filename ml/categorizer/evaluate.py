"""Figures of a categorizer on labelled examples: macro-F1 (every category counts the same,
so the rare ones are not drowned by restaurant lines), accuracy, per-class F1 and the
expected calibration error of the top-class confidence."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

CALIBRATION_BINS = 10


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = CALIBRATION_BINS
) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by size."""
    if len(confidence) == 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.mean() * abs(correct[mask].mean() - confidence[mask].mean())
    return float(total)


def figures(probabilities: np.ndarray, truth: Sequence[int], classes: Sequence[str]) -> dict[str, Any]:
    """Figures over the classes present in ``truth`` (a class absent from the split has no
    recall to measure, and counting it as 0 would punish the split, not the model)."""
    y = np.asarray(truth)
    # A row of zeros is "no answer" (a rule that did not match): wrong, not class 0.
    predicted = np.where(probabilities.max(axis=1) > 0, probabilities.argmax(axis=1), -1)
    present = sorted(set(y.tolist()))
    per_class = f1_score(y, predicted, labels=present, average=None, zero_division=0)
    confidence = probabilities.max(axis=1)
    return {
        "macro_f1": round(float(f1_score(y, predicted, labels=present, average="macro", zero_division=0)), 4),
        "accuracy": round(float(accuracy_score(y, predicted)), 4),
        "ece": round(expected_calibration_error(confidence, predicted == y), 4),
        "examples": len(y),
        "f1_by_class": {classes[c]: round(float(f), 4) for c, f in zip(present, per_class, strict=True)},
    }


def one_hot(predicted: Sequence[int], classes: int, confidence: Sequence[float] | None = None) -> np.ndarray:
    """Probabilities of a rule-based categorizer (its confidence on its answer, or 1); an
    answer outside the classes (``uncategorized``) is index -1 and counts as wrong."""
    out = np.zeros((len(predicted), classes))
    for i, c in enumerate(predicted):
        if c >= 0:
            out[i, c] = 1.0 if confidence is None else confidence[i]
    return out
