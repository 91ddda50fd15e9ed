"""Fixtures of the notebook tests: a small lake in local mode's layout, and a models folder
with a quickly trained baseline categorizer."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from glue_scripts import lake_schema as schema
from lambda_src.common.categories import CATEGORY_SLUGS
from ml import artifacts
from ml.categorizer import baseline
from ml.labels import dataset
from ml.synthetic import synthetic_lake

MODEL_VERSION = "20260301T000000Z-notebook"

_ARROW_TYPES = {
    "string": pa.string(),
    "int": pa.int32(),
    "bigint": pa.int64(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
}


def arrow_type(hive: str) -> pa.DataType:
    """The Arrow type of a lake column's Glue type, so the files follow lake_schema.py."""
    if decimal := re.fullmatch(r"decimal\((\d+),(\d+)\)", hive):
        return pa.decimal128(int(decimal[1]), int(decimal[2]))
    if hive.startswith("array<") and hive.endswith(">"):
        return pa.list_(arrow_type(hive[len("array<") : -1]))
    return _ARROW_TYPES[hive]


@dataclass(frozen=True)
class Lake:
    path: Path
    receipts: pd.DataFrame  # every column of the lake's receipts table, as written
    line_items: pd.DataFrame


def _complete_receipts(receipts: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """The synthetic receipts with the lake's other columns, including what data quality
    looks like: every 9th receipt had no readable date (spend date = upload day, flagged),
    and one was read in a currency that is not ISO 4217 (kept, flagged, its own group)."""
    r = receipts.copy()
    n = np.arange(len(r))
    undated = n % 9 == 4
    uploaded = pd.to_datetime(r["spend_date"]) + pd.Timedelta(hours=20)
    r["purchase_date"] = r["spend_date"].where(~undated, None)
    r["date_source"] = np.where(undated, "uploaded", "printed")
    odd_currency = r.index[(r["status"] == "PROCESSED") & (r["currency"] == "EUR")][:1]
    r.loc[odd_currency, "currency"] = "EURO"
    r["quality_flags"] = [
        [*(["missing_date"] if u else []), *(["unknown_currency"] if i in odd_currency else [])]
        for i, u in zip(r.index, undated, strict=True)
    ]
    r["failure_reason"] = r["status"].map({"FAILED": "not a receipt"})
    r["review_reasons"] = [["total_mismatch"] if s == "NEEDS_REVIEW" else [] for s in r["status"]]
    r["line_item_count"] = r["receipt_id"].map(items.groupby("receipt_id").size()).fillna(0).astype(int)
    r["ocr_engine"] = "local"
    r["corrected_fields"] = [[] for _ in range(len(r))]
    r["version"] = 1
    r["uploaded_at"] = uploaded
    r["processed_at"] = (uploaded + pd.Timedelta(seconds=4)).where(r["status"] != "PENDING", pd.NaT)
    for column in schema.RECEIPTS.column_names:
        if column not in r:
            r[column] = None
    return r[schema.RECEIPTS.column_names]


def _complete_items(items: pd.DataFrame, receipts: pd.DataFrame) -> pd.DataFrame:
    """The synthetic line items with the lake's other columns: every 25th was corrected by a
    person (a training label for the categorizer)."""
    li = items.drop(columns=["currency"]).merge(receipts[["receipt_id", "currency"]], on="receipt_id")
    li["category_confidence"] = 0.9
    li["category_corrected"] = np.arange(len(li)) % 25 == 0
    for column in schema.LINE_ITEMS.column_names:
        if column not in li:
            li[column] = None
    return li[schema.LINE_ITEMS.column_names]


def write_table(lake_dir: Path, table: schema.Table, frame: pd.DataFrame) -> None:
    """``curated/{table}/year=YYYY/month=M/part-0.parquet``, as the ETL job writes it (the
    partition columns live in the path only)."""
    arrow_schema = pa.schema([pa.field(c.name, arrow_type(c.type)) for c in table.columns])
    dates = pd.to_datetime(frame["spend_date"])
    for (year, month), part in frame.groupby([dates.dt.year, dates.dt.month]):
        folder = lake_dir / table.prefix / f"year={year}" / f"month={month}"
        folder.mkdir(parents=True)
        arrow = pa.Table.from_pandas(part, schema=arrow_schema, preserve_index=False)
        pq.write_table(arrow, folder / "part-0.parquet")


@pytest.fixture(scope="session")
def small_lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """A small lake from ``ml.synthetic`` (four users, 18 months, four currencies)."""
    # Seed 3 draws two users in EUR and one each in ZAR and USD, with 4 to 18 months of history.
    receipts, items = synthetic_lake(users=4, months=18, end="2026-02", seed=3)
    receipts = _complete_receipts(receipts, items)
    items = _complete_items(items, receipts)
    path = tmp_path_factory.mktemp("lake")
    write_table(path, schema.RECEIPTS, receipts)
    write_table(path, schema.LINE_ITEMS, items)
    # An ETL run's state: the lake exists (the corrections table is empty, not missing).
    (path / schema.STATE_KEY).parent.mkdir(parents=True)
    (path / schema.STATE_KEY).write_text(json.dumps({"export_time": "2026-03-01T03:00:00+00:00"}))
    return Lake(path, receipts, items)


@dataclass(frozen=True)
class Models:
    path: Path
    version: str
    model: bytes  # the promoted categorizer.npz
    metrics: dict[str, Any]  # the run's metrics.json


@pytest.fixture(scope="session")
def trained_models(tmp_path_factory: pytest.TempPathFactory) -> Models:
    """A models folder as a training run leaves it: ``runs/{version}/categorizer.npz`` and
    ``metrics.json``, and ``latest.json`` pointing at the run. The model is the scikit-learn
    baseline fitted on the train split only (C=3 converges in a few seconds; the real run's
    C=10 takes several times longer for a few points of F1)."""
    examples = dataset()
    train = examples[examples["split"] == "train"]
    classes = list(CATEGORY_SLUGS)
    pipeline = baseline.train(
        list(zip(train["description"], train["vendor"], strict=True)),
        [classes.index(label) for label in train["label"]],
        c=3.0,
    )
    model = baseline.export(pipeline, classes, MODEL_VERSION).to_bytes()
    metrics = {
        "version": MODEL_VERSION,
        "categorizer": {
            "split": "test",
            "baseline": {"macro_f1": 0.4793},
            "torch": {"macro_f1": 0.4611},
            "promoted": "baseline",
        },
        "forecast": {"mae_ratio": 0.87},
    }
    path = tmp_path_factory.mktemp("models")
    store = artifacts.LocalStore(path)
    store.put(artifacts.run_key(MODEL_VERSION, "categorizer.npz"), model)
    artifacts.write_json(store, artifacts.run_key(MODEL_VERSION, "metrics.json"), metrics)
    artifacts.write_json(store, artifacts.LATEST, {"version": MODEL_VERSION, "metrics": {"macro_f1": 0.4793}})
    return Models(path, MODEL_VERSION, model, metrics)


@pytest.fixture(scope="session", autouse=True)
def one_baseline_setting() -> Iterator[None]:
    """The runs here check the pipeline, not the baseline's C (chosen from three on the
    validation split in a real run): one setting saves seconds per run."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("ml.categorizer.train.BASELINE_C", (10.0,))
        yield
