"""`receiptlake local etl` against local mode (moto server), read back with receiptlake.lake."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from lambda_src.api.insights import read_insights
from lambda_src.common.model import Receipt
from lambda_src.common.repository import ReceiptRepository
from lambda_src.ingest.model_categorizer import promoted_model
from receiptlake import lake
from receiptlake.cli import main
from receiptlake.local.moto_server import LocalAws
from receiptlake.local.provision import LocalResources, client, provision
from receiptlake.local.running import RunningLocalMode, announce, withdraw
from receiptlake.local.seed import seed
from receiptlake.local.state import LocalState

pytestmark = pytest.mark.spark
DEMO, LEAVER = "demo-sub", "leaver-sub"


@dataclass
class Local:
    resources: LocalResources
    repository: ReceiptRepository
    state_dir: Path
    lake_dir: Path


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    state_dir = tmp_path_factory.mktemp("local") / "state"
    lake_dir = state_dir.parent / "lake"
    with LocalAws() as aws:
        resources = provision(aws.endpoint, web_origins=["http://127.0.0.1:8000"])
        repository = ReceiptRepository(
            resources.names.table, client("dynamodb", resources.endpoint, resources.region)
        )
        announce(
            state_dir,
            RunningLocalMode(
                aws.endpoint,
                resources.region,
                resources.names.table,
                resources.names.lake_bucket,
                os.getpid(),
            ),
        )
        yield Local(resources, repository, state_dir, lake_dir)
        withdraw(state_dir)


def _etl(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["local", "etl", *args])
    return code, out.getvalue(), err.getvalue()


def _lake_rows(lake_dir: Path) -> dict[str, dict[str, Any]]:
    return {r["receipt_id"]: r for r in lake.read("receipts", lake_dir=lake_dir).to_dict("records")}


def test_no_local_data_says_what_to_run(tmp_path: Path) -> None:
    code, out, err = _etl("--state-dir", str(tmp_path / "state"), "--lake-dir", str(tmp_path / "lake"))
    assert code == 2 and out == ""
    assert "receiptlake local up" in err and "local seed" in err


def test_the_demo_samples_make_a_lake_equal_to_the_table(local: Local, spark: Any) -> None:
    # Given the demo's sample receipts, a correction, and a user erased half-way (the
    # tombstone is written before the items are deleted)
    created = seed(local.resources, DEMO)
    first = next(iter(local.repository.iter_receipts(DEMO)))
    local.repository.correct(DEMO, first.receipt_id, {"total": Decimal("12.34")})
    local.repository.create_pending(
        Receipt(receipt_id="l1", user_id=LEAVER, object_key=f"uploads/{LEAVER}/l1.png")
    )
    s3 = client("s3", local.resources.endpoint, local.resources.region)
    s3.put_object(Bucket=local.resources.names.lake_bucket, Key=f"tombstones/{LEAVER}.json", Body=b"{}")

    # When the ETL runs beside the running local mode
    code, out, _ = _etl("--state-dir", str(local.state_dir), "--lake-dir", str(local.lake_dir))

    # Then the lake holds exactly the table's receipts, field for field
    assert code == 0, out
    table: dict[str, Receipt] = {r.receipt_id: r for r in local.repository.iter_receipts(DEMO)}
    rows = _lake_rows(local.lake_dir)
    assert len(table) == created > 0
    assert set(rows) == set(table)
    for rid, receipt in table.items():
        row = rows[rid]
        assert row["status"] == receipt.status.value
        assert row["total"] == (
            receipt.total.quantize(Decimal("0.01")) if receipt.total is not None else None
        )
        assert (row["currency"] if isinstance(row["currency"], str) else None) == receipt.currency
        assert row["spend_date"] == receipt.spend_date
        assert row["line_item_count"] == len(receipt.line_items)
        assert row["version"] == receipt.version
    assert rows[first.receipt_id]["total"] == Decimal("12.34")
    items = lake.read("line_items", lake_dir=local.lake_dir)
    for rid, receipt in table.items():
        amounts = items[items.receipt_id == rid].sort_values("line_number").amount.tolist()
        assert amounts == [i.amount for i in receipt.line_items], rid
    corrections = lake.read("corrections", lake_dir=local.lake_dir)
    assert corrections[["receipt_id", "field"]].values.tolist() == [[first.receipt_id, "total"]]
    assert LEAVER not in set(lake.read("receipts", lake_dir=local.lake_dir).user_id)
    # and the printed summary says what was written
    assert f"source: running local mode at {local.resources.endpoint}" in out
    receipts_line = next(line for line in out.splitlines() if line.startswith("receipts "))
    assert receipts_line.split()[1] == str(len(table))
    assert "erased users: 1" in out


def test_saved_state_gives_the_same_lake(local: Local, spark: Any) -> None:
    # Given the same data saved as local mode saves it on shutdown, and no local mode running
    LocalState(local.state_dir).save(local.resources, [])
    before = _lake_rows(local.lake_dir)
    withdraw(local.state_dir)
    try:
        code, out, _ = _etl("--state-dir", str(local.state_dir), "--lake-dir", str(local.lake_dir), "--json")
    finally:
        announce(
            local.state_dir,
            RunningLocalMode(
                local.resources.endpoint,
                local.resources.region,
                local.resources.names.table,
                local.resources.names.lake_bucket,
                os.getpid(),
            ),
        )
    assert code == 0
    report = json.loads(out)
    assert report["succeeded"] and report["erased"]["receipts"] == 1
    after = _lake_rows(local.lake_dir)
    assert {k: (v["total"], v["version"]) for k, v in after.items()} == {
        k: (v["total"], v["version"]) for k, v in before.items()
    }
    # earlier exports and snapshots are pruned: one of each is left
    assert len(list((local.lake_dir / "exports" / "AWSDynamoDB").iterdir())) == 1
    assert len(list((local.lake_dir / "staging" / "items").iterdir())) == 1


def test_local_train_shows_the_demo_users_insights_through_the_api(local: Local, spark: Any) -> None:
    # Given the lake the tests above wrote from the demo samples (six months, a big shop)
    assert not lake.read("receipts", lake_dir=local.lake_dir).empty
    # When training runs beside the running local mode
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(io.StringIO()):
        code = main(["local", "train", "--state-dir", str(local.state_dir), "--lake-dir", str(local.lake_dir),
                     "--epochs", "3"])  # fmt: skip
    assert code == 0, out.getvalue()
    assert f"target: running local mode at {local.resources.endpoint}" in out.getvalue()
    # Then the API serves the demo user's forecast and the unusual shop, explained
    dynamodb = client("dynamodb", local.resources.endpoint, local.resources.region)
    served = read_insights(dynamodb, local.resources.names.table, DEMO)
    assert served.reason is None and served.model_version
    totals = [f for f in served.insights.forecasts if f.category is None]
    assert totals and all(f.lower <= f.predicted <= f.upper for f in totals)
    assert any(a.kind == "receipt" and a.drivers and a.receipt_id for a in served.insights.anomalies)
    # and ingest in local mode will read the promoted categorizer from the models bucket
    s3 = client("s3", local.resources.endpoint, local.resources.region)
    assert promoted_model(s3, local.resources.names.models_bucket)
