"""`receiptlake local train` against local mode's saved state (no local mode running):
the lake's users get their insights item, the models land in the local models bucket."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from lambda_src.api.schemas import InsightSet
from ml import artifacts
from receiptlake.cli import main
from receiptlake.local.provision import LocalNames


def _train(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["local", "train", *args])
    return code, out.getvalue(), err.getvalue()


def _insights(state_dir: Path) -> dict[str, dict[str, Any]]:
    deserialize = TypeDeserializer().deserialize
    found: dict[str, dict[str, Any]] = {}
    for line in (state_dir / "dynamodb.jsonl").read_text().splitlines():
        item = {k: deserialize(v) for k, v in json.loads(line).items()}
        if item["SK"] == "INSIGHTS#latest":
            assert item["PK"] not in found, "one insights item per user"
            found[item["PK"].removeprefix("USER#")] = item
    return found


def test_no_lake_says_what_to_run(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "state.json").write_text(json.dumps({"version": 1, "users": []}))
    code, _, err = _train("--state-dir", str(state), "--lake-dir", str(tmp_path / "lake"))
    assert code == 2 and "receiptlake local etl" in err


def test_local_train_writes_insights_and_models_to_the_saved_state(small_lake: Any, tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "state.json").write_text(json.dumps({"version": 1, "users": []}))
    (state / "dynamodb.jsonl").write_text("")
    args = (
        "--state-dir",
        str(state),
        "--lake-dir",
        str(small_lake.path),
        "--as-of",
        "2026-03-10",
        "--epochs",
        "3",
    )

    code, out, _ = _train(*args)

    assert code == 0, out
    lines = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    assert {"run", "version", "promoted", "insights", "target", "seconds"} <= set(lines)
    assert lines["promoted"].startswith("yes") and "saved local state" in lines["target"]
    models = artifacts.LocalStore(state / "s3" / LocalNames().models_bucket)
    assert (artifacts.latest(models) or {})["version"] == lines["version"]
    written = _insights(state)
    assert len(written) == int(lines["insights"].split()[0]) > 0
    assert set(written) <= set(small_lake.receipts["user_id"])
    for item in written.values():
        insights = InsightSet.model_validate({"forecasts": item["forecasts"], "anomalies": item["anomalies"]})
        assert all(f.month == "2026-03" for f in insights.forecasts)
        assert item["model_version"] == lines["version"]
    # The corrected line items of the lake were training labels.
    metrics = artifacts.read_json(models, artifacts.run_key(lines["version"], "metrics.json")) or {}
    assert metrics["categorizer"]["corrections"] > 0

    # A second run replaces each user's insights item (PutItem semantics), never adds one.
    code, out, _ = _train(*args)
    assert code == 0 and "not worse" in out
    assert set(_insights(state)) == set(written)
