"""The training run end to end on a synthetic lake and the real labelled data: artifacts,
promotion, insights, and a run interrupted mid-training that resumes to the same model."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lambda_src.api.schemas import InsightSet
from lambda_src.ingest.model_categorizer import ExportedModel
from ml import artifacts
from ml.categorizer.torch_model import Interrupted, TorchConfig
from ml.pipeline import CURRENT, Lake, Settings, run
from ml.synthetic import synthetic_lake

CONFIG = TorchConfig(epochs=8, checkpoint_every=100)
AS_OF = date(2026, 12, 4)


@pytest.fixture(scope="module")
def lake() -> Lake:
    receipts, items = synthetic_lake(users=8, months=24, end="2026-11", seed=11)
    return Lake(receipts, items)


class Collect:
    def __init__(self) -> None:
        self.items: dict[str, tuple[InsightSet, str]] = {}

    def __call__(self, sub: str, insights: InsightSet, version: str, generated_at: str) -> None:
        self.items[sub] = (insights, version)


@pytest.fixture(scope="module")
def first_run(
    lake: Lake, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Any, artifacts.LocalStore, Collect]:
    store = artifacts.LocalStore(tmp_path_factory.mktemp("models"))
    collect = Collect()
    report = run(Settings("test", AS_OF, CONFIG), store, lambda: lake, write_item=collect)
    return report, store, collect


def test_a_run_publishes_versioned_artifacts_and_moves_latest(first_run: Any) -> None:
    report, store, _ = first_run
    for key in report.artifacts:
        assert store.get(key), key
    pointer = artifacts.latest(store)
    assert pointer is not None and pointer["version"] == report.version and report.promoted
    metrics = artifacts.read_json(store, artifacts.run_key(report.version, "metrics.json"))
    assert metrics is not None and metrics["promotion"]["promote"] is True
    card = (store.get(artifacts.run_key(report.version, "model_card.md")) or b"").decode()
    assert report.version in card and "macro-F1" in card
    # Nothing of the run's working state is left behind.
    assert store.get(CURRENT) is None and not (Path(store.root) / "checkpoints" / report.run_id).exists()


def test_held_out_quality(first_run: Any) -> None:
    """Thresholds on the held-out split and the backtest only (never on training data)."""
    metrics = first_run[0].metrics
    cat = metrics["categorizer"]
    shipped = cat["test"][cat["shipped"]]
    assert shipped["macro_f1"] >= 0.5
    assert shipped["macro_f1"] > cat["test_keyword_rules"]["macro_f1"] + 0.2
    assert metrics["forecast"]["ratio"] <= 0.9


def test_insights_are_written_per_user_and_validate(first_run: Any, lake: Lake) -> None:
    report, _, collect = first_run
    assert report.users_with_insights == len(collect.items) > 0
    assert set(collect.items) <= set(lake.receipts["user_id"])
    forecasts = [f for insights, _ in collect.items.values() for f in insights.forecasts]
    assert forecasts and all(f.month == "2026-12" and f.lower <= f.predicted <= f.upper for f in forecasts)
    assert {version for _, version in collect.items.values()} == {report.version}


def test_an_interrupted_run_resumes_to_the_same_model(lake: Lake, first_run: Any, tmp_path: Path) -> None:
    store = artifacts.LocalStore(tmp_path)
    calls = {"n": 0}

    def stop_at_epoch_four() -> bool:
        calls["n"] += 1
        return calls["n"] == 4

    with pytest.raises(Interrupted):
        run(Settings("test", AS_OF, CONFIG), store, lambda: lake, should_stop=stop_at_epoch_four)
    current = artifacts.read_json(store, CURRENT)
    assert current is not None and store.get(f"checkpoints/{current['run_id']}/torch.state")
    assert artifacts.latest(store) is None  # nothing published by the interrupted run

    resumed = run(Settings("test", date(2027, 1, 1), CONFIG), store, lambda: lake)
    assert resumed.resumed and resumed.run_id == current["run_id"]
    assert resumed.metrics["as_of"] == str(AS_OF)  # the run's own date, not the restart's
    a = ExportedModel.from_bytes(first_run[1].get(artifacts.run_key(first_run[0].version, "categorizer.npz")))
    b = ExportedModel.from_bytes(store.get(artifacts.run_key(resumed.version, "categorizer.npz")) or b"")
    assert a.kind == b.kind
    np.testing.assert_array_equal(a.rows, b.rows)
    np.testing.assert_array_equal(a.table, b.table)
    np.testing.assert_array_equal(a.weight, b.weight)
    assert resumed.metrics["categorizer"]["test"] == first_run[0].metrics["categorizer"]["test"]


def test_a_worse_model_does_not_move_latest(
    lake: Lake, first_run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = artifacts.LocalStore(tmp_path)
    good = run(Settings("test", AS_OF, CONFIG), store, lambda: lake)
    weak = TorchConfig(epochs=1, checkpoint_every=100, learning_rate=1e-5)
    # Only the weak network can be shipped: the baseline's C is pinned too low to learn.
    monkeypatch.setattr("ml.categorizer.train.BASELINE_C", (1e-6,))
    worse = run(Settings("test", AS_OF, weak), store, lambda: lake)
    assert not worse.promoted and "worse" in worse.decision
    assert (artifacts.latest(store) or {})["version"] == good.version
    assert store.get(artifacts.run_key(worse.version, "metrics.json"))  # kept for the record
