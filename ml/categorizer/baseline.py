"""The scikit-learn baseline: TF-IDF over the same hashed n-grams, logistic regression.

Same features as the PyTorch model, so the comparison is about the model, and the baseline
exports to the same numpy inference when it wins.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from lambda_src.ingest.model_categorizer import ExportedModel, FeatureSpec, feature_ids

BUCKETS = 1 << 18


def _analyzer(spec: FeatureSpec) -> object:
    def analyze(doc: tuple[str, str]) -> list[int]:
        return feature_ids(doc[0], doc[1], spec)

    return analyze


def train(
    texts: Sequence[tuple[str, str]], labels: Sequence[int], *, c: float = 10.0, seed: int = 7
) -> Pipeline:
    spec = FeatureSpec(BUCKETS)
    pipeline = Pipeline(
        [
            ("tfidf", TfidfVectorizer(analyzer=_analyzer(spec), sublinear_tf=True, lowercase=False)),
            ("lr", LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=seed)),
        ]
    )
    pipeline.fit(list(texts), list(labels))
    return pipeline


def probabilities(pipeline: Pipeline, texts: Sequence[tuple[str, str]], classes: int) -> np.ndarray:
    """Probabilities over all classes (the fit may not have seen every class)."""
    seen = pipeline.named_steps["lr"].classes_
    out = np.zeros((len(texts), classes))
    out[:, seen] = pipeline.predict_proba(list(texts))
    return out


def export(pipeline: Pipeline, classes: Sequence[str], version: str) -> ExportedModel:
    tfidf: TfidfVectorizer = pipeline.named_steps["tfidf"]
    lr: LogisticRegression = pipeline.named_steps["lr"]
    vocabulary = tfidf.vocabulary_  # bucket id -> column
    rows = np.array(sorted(vocabulary), dtype=np.int64)
    columns = np.array([vocabulary[r] for r in rows])
    weight = np.zeros((len(classes), len(rows)), dtype=np.float32)
    bias = np.full(len(classes), -1e4, dtype=np.float32)  # classes the fit never saw
    weight[lr.classes_] = lr.coef_[:, columns]
    bias[lr.classes_] = lr.intercept_
    return ExportedModel(
        kind="tfidf_lr",
        classes=tuple(classes),
        spec=FeatureSpec(BUCKETS),
        rows=rows,
        table=tfidf.idf_[columns].astype(np.float32),
        weight=weight,
        bias=bias,
        version=version,
    )
