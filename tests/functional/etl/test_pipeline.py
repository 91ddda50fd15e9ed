"""The ETL pipeline on local Spark, over an export of real receipts (tests/fixtures/lake/)."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from glue_scripts import lake_schema as lake
from glue_scripts.metrics import RecordingPublisher
from glue_scripts.pipeline import EtlReport, run_etl
from glue_scripts.store import LocalStore
from receiptlake import lake as lake_reader
from receiptlake.local.export import write_export
from tests.fixtures.lake.receipts import ALICE, BRUNO, ERASED, Scenario, build, item_of, receipt_from

pytestmark = pytest.mark.spark
EXPORTED_AT = datetime(2026, 3, 5, 3, 0, tzinfo=UTC)
GARBAGE = ["this is not JSON", '{"Item": {"SK": {"S": "RECEIPT#nokey"}}}']


@dataclass
class Run:
    scenario: Scenario
    lake_dir: Path
    report: EtlReport
    publisher: RecordingPublisher

    def table(self, name: str) -> pd.DataFrame:
        return lake_reader.read(name, lake_dir=self.lake_dir)

    def receipts(self) -> dict[tuple[str, str], dict[str, Any]]:
        return {(r["user_id"], r["receipt_id"]): r for r in self.table("receipts").to_dict("records")}


def _plain(value: Any) -> Any:
    """pandas shows a missing string or date as NaN/NaT."""
    return None if value is None or (not isinstance(value, list) and pd.isna(value)) else value


def _append_lines(lake_dir: Path, summary_key: str, lines: list[str]) -> None:
    """Corrupt the first data file with lines the manifest counts (as a bad writer would)."""
    summary = json.loads((lake_dir / summary_key).read_text())
    files_path = lake_dir / summary["manifestFilesS3Key"]
    entries = [json.loads(line) for line in files_path.read_text().splitlines()]
    data = lake_dir / entries[0]["dataFileS3Key"]
    data.write_bytes(
        gzip.compress(gzip.decompress(data.read_bytes()) + "".join(f"{x}\n" for x in lines).encode())
    )
    entries[0]["itemCount"] += len(lines)
    files_path.write_text("".join(json.dumps(e) + "\n" for e in entries))


@pytest.fixture(scope="module")
def first_run(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Run:
    scenario = build()
    lake_dir = tmp_path_factory.mktemp("lake")
    summary_key = write_export(lake_dir, scenario.items, when=EXPORTED_AT, items_per_file=20)
    _append_lines(lake_dir, summary_key, GARBAGE)
    publisher = RecordingPublisher()
    report = run_etl(
        spark, LocalStore(lake_dir), summary_key, erased_users=scenario.erased_users, publisher=publisher
    )
    return Run(scenario, lake_dir, report, publisher)


def test_every_receipt_is_written_once_in_its_latest_version(first_run: Run) -> None:
    rows = first_run.receipts()
    assert set(rows) == set(first_run.scenario.expected)
    assert len(first_run.table("receipts")) == len(rows)
    assert rows[(ALICE, "a02")]["version"] == 2
    assert rows[(ALICE, "a02")]["total"] == Decimal("26.51")
    assert first_run.report.export["duplicate_lines"] == 1


def test_money_dates_currencies_and_flags_are_as_the_receipts_say(first_run: Run) -> None:
    rows = first_run.receipts()
    for key, expected in first_run.scenario.expected.items():
        row = rows[key]
        assert row["total"] == expected.total, key
        assert _plain(row["currency"]) == expected.currency, key
        assert _plain(row["purchase_date"]) == expected.purchase_date, key
        assert row["spend_date"] == expected.spend_date, key
        assert (row["year"], row["month"]) == (expected.spend_date.year, expected.spend_date.month), key
        assert set(row["quality_flags"]) == expected.flags, key
        assert bool(row["is_refund"]) is expected.is_refund, key
        assert row["line_item_count"] == expected.line_items, key
        assert row["vendor_key"] == expected.vendor_key, key
        assert row["status"] == expected.status, key


def test_money_is_decimal_12_2_and_the_refund_is_the_only_negative_total(first_run: Run) -> None:
    import pyarrow.parquet as pq

    files = sorted((first_run.lake_dir / "curated" / "receipts").rglob("*.parquet"))
    schema = pq.read_schema(files[0])
    assert str(schema.field("total").type) == "decimal128(12, 2)"
    receipts = first_run.table("receipts")
    negative = receipts[receipts.total.map(lambda t: t is not None and t < 0)]
    assert list(zip(negative.user_id, negative.receipt_id, strict=True)) == [(ALICE, "a00")]
    assert negative.is_refund.tolist() == [True]


def test_line_items_follow_their_receipts(first_run: Run) -> None:
    items = first_run.table("line_items")
    receipts = first_run.table("receipts")
    assert len(items) == receipts.line_item_count.sum() > 0
    refund = items[(items.user_id == ALICE) & (items.receipt_id == "a00")]
    assert refund[["description", "amount", "currency"]].to_dict("records") == [
        {"description": "GRUSBLAD edred", "amount": Decimal("-114.95"), "currency": "EUR"}
    ]
    krw = items[(items.user_id == BRUNO) & (items.currency == "KRW")]
    assert krw.amount.map(lambda a: a is not None and a >= 1000).all()  # won, not cents
    numbered = items.groupby(["user_id", "receipt_id"]).line_number.apply(sorted)
    assert all(v == list(range(1, len(v) + 1)) for v in numbered)


def test_corrections_are_their_own_table_and_erased_users_are_gone(first_run: Run) -> None:
    corrections = first_run.table("corrections")
    assert len(corrections) == first_run.scenario.corrections
    assert set(corrections.field) == {"total", "category"}
    for name in ("receipts", "line_items", "corrections"):
        assert ERASED not in set(first_run.table(name).user_id), name
    assert first_run.report.erased == {"users": 1, "receipts": len(first_run.scenario.erased_receipts)}


def test_bad_input_is_quarantined_and_counted_never_dropped(first_run: Run) -> None:
    report = first_run.report
    expected = {reason: len(keys) for reason, keys in first_run.scenario.quarantined.items()}
    assert report.quarantined == {**expected, "malformed_line": len(GARBAGE)}
    quarantine = first_run.lake_dir / lake.QUARANTINE_PREFIX / f"run={report.run_id}"
    records = [json.loads(line) for f in quarantine.glob("*.json") for line in f.read_text().splitlines()]
    assert sorted(r["reason"] for r in records) == sorted(
        [r for r, n in report.quarantined.items() for _ in range(n)]
    )
    assert any("nokey" in r["record"] for r in records)
    # Every receipt item is accounted for.
    accounted = len(first_run.receipts()) + sum(expected.values()) + report.erased["receipts"]
    assert report.source["receipts"] == accounted


def test_checks_pass_and_metrics_are_emitted(first_run: Run) -> None:
    report, metrics = first_run.report, first_run.publisher
    assert report.succeeded and all(c["passed"] for c in report.checks)
    assert metrics.value(lake.METRIC_JOB_SUCCEEDED) == 1.0
    assert metrics.value(lake.METRIC_ROWS_WRITTEN, Table="receipts") == len(first_run.receipts())
    assert metrics.value(lake.METRIC_QUARANTINED, Reason="malformed_line") == len(GARBAGE)
    assert metrics.value(lake.METRIC_FLAGGED, Reason="unknown_currency") == sum(
        "unknown_currency" in e.flags for e in first_run.scenario.expected.values()
    )
    assert metrics.value(lake.METRIC_QUALITY_VIOLATIONS) == 0.0
    saved = json.loads((first_run.lake_dir / lake.RUNS_PREFIX / f"{report.run_id}.json").read_text())
    assert saved["tables"]["receipts"]["rows"] == len(first_run.receipts())
    assert report.tables["receipts"]["files"] >= 1


def test_an_incremental_export_is_merged_into_the_lake(first_run: Run, spark: Any) -> None:
    changed = receipt_from(BRUNO, "b00", "cord_000039").model_copy(
        update={"total": Decimal("75"), "version": 2}
    )
    new = receipt_from(BRUNO, "b99", "cord_000363")
    deleted = item_of(receipt_from(ALICE, "a05", "zenodo_20210508_181909"))
    summary_key = write_export(
        first_run.lake_dir,
        [item_of(changed, currency="TL"), item_of(new)],
        when=EXPORTED_AT + timedelta(hours=6),
        incremental_from=EXPORTED_AT,
        deleted=[deleted],
    )
    report = run_etl(
        spark,
        LocalStore(first_run.lake_dir),
        summary_key,
        erased_users=first_run.scenario.erased_users,
        publisher=RecordingPublisher(),
    )
    rows = first_run.receipts()
    assert report.export["kind"] == "INCREMENTAL_EXPORT"
    assert set(rows) == (set(first_run.scenario.expected) - {(ALICE, "a05")}) | {(BRUNO, "b99")}
    assert rows[(BRUNO, "b00")]["total"] == Decimal("75.00")
    assert rows[(BRUNO, "b00")]["version"] == 2


def test_a_truncated_data_file_loses_nothing_from_the_lake(first_run: Run, spark: Any) -> None:
    before = first_run.receipts()
    scenario = build()
    summary_key = write_export(
        first_run.lake_dir, scenario.items, when=EXPORTED_AT + timedelta(days=1), items_per_file=20
    )
    files = json.loads((first_run.lake_dir / summary_key).read_text())["manifestFilesS3Key"]
    second = json.loads((first_run.lake_dir / files).read_text().splitlines()[1])["dataFileS3Key"]
    data = (first_run.lake_dir / second).read_bytes()
    (first_run.lake_dir / second).write_bytes(data[: len(data) // 2])  # the upload was cut off
    report = run_etl(
        spark,
        LocalStore(first_run.lake_dir),
        summary_key,
        erased_users=scenario.erased_users,
        publisher=RecordingPublisher(),
    )
    assert report.export["partial"] is True
    assert report.quarantined.get("partial_data_file", 0) > 0
    assert any("lines readable" in p for p in report.problems)
    # Receipts the cut file held stay as the previous run had them.
    assert set(before) <= set(first_run.receipts())


def test_a_failed_check_stops_the_run_loudly_and_leaves_the_lake(
    first_run: Run, spark: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import glue_scripts.pipeline as pipeline
    from glue_scripts.quality import QualityError

    # Given a job that would lose line items (a bug, not bad input)
    real = pipeline.line_items_of
    monkeypatch.setattr(pipeline, "line_items_of", lambda receipts: real(receipts).where("line_number > 1"))
    before = first_run.table("line_items")
    state_before = (first_run.lake_dir / lake.STATE_KEY).read_text()
    scenario = build()
    summary_key = write_export(first_run.lake_dir, scenario.items, when=EXPORTED_AT + timedelta(days=2))
    publisher = RecordingPublisher()

    # When it runs, Then it fails naming the check, emits the violation, and writes nothing
    with pytest.raises(QualityError, match="line_items_reconcile"):
        run_etl(
            spark,
            LocalStore(first_run.lake_dir),
            summary_key,
            erased_users=scenario.erased_users,
            publisher=publisher,
        )
    assert publisher.value(lake.METRIC_JOB_SUCCEEDED) == 0.0
    assert publisher.value(lake.METRIC_QUALITY_VIOLATIONS, Check="line_items_reconcile") == 1.0
    assert len(first_run.table("line_items")) == len(before)
    assert (first_run.lake_dir / lake.STATE_KEY).read_text() == state_before
    reports = [json.loads(p.read_text()) for p in (first_run.lake_dir / lake.RUNS_PREFIX).glob("*.json")]
    failed = [r for r in reports if not r["succeeded"]]
    assert len(failed) == 1 and failed[0]["tables"] == {}
