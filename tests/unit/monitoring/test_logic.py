"""The pure half of reconciliation: what counts as stuck, orphaned or missing, and when."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote_plus

import pytest

from lambda_src.monitoring.logic import ObjectRow, ReceiptRow, find, parse_key, reconcile, s3_event

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def receipt(rid: str, status: str = "PENDING", age: timedelta = 2 * HOUR, **kw: Any) -> ReceiptRow:
    return ReceiptRow("u1", rid, status, kw.pop("key", f"uploads/u1/{rid}.jpg"), NOW - age, **kw)


def obj(key: str, age: timedelta = 2 * HOUR) -> ObjectRow:
    return ObjectRow(key, 10, NOW - age)


def test_upload_keys_are_parsed_like_ingest_does() -> None:
    assert parse_key("uploads/u1/r-1.jpg") == ("u1", "r-1")
    assert parse_key("uploads/u1/sub/r-1.jpg") is None
    assert parse_key("quarantine/u1/r-1.jpg") is None


def test_the_cutoff_is_inclusive_and_young_things_are_left_alone() -> None:
    found = find(
        [receipt("old", age=HOUR), receipt("young", age=HOUR - timedelta(seconds=1))],
        [obj("uploads/u1/old.jpg"), obj("uploads/u1/young.jpg"), obj("uploads/u1/x.jpg", age=HOUR / 2)],
        now=NOW,
        stuck_after=HOUR,
    )
    assert [r.receipt_id for r, _ in found.to_requeue] == ["old"]
    assert found.objects_without_record == ()  # x.jpg is too young to judge
    assert (found.receipts_checked, found.objects_checked) == (2, 3)


@pytest.mark.parametrize(
    ("row", "bucket", "where"),
    [
        (receipt("r"), ["uploads/u1/r.jpg"], "to_requeue"),
        (receipt("r", requeued_at=NOW - 2 * HOUR), ["uploads/u1/r.jpg"], "stuck"),
        (receipt("r", requeued_at=NOW - HOUR / 2), ["uploads/u1/r.jpg"], None),  # give it time
        (receipt("r"), [], "abandoned"),
        (receipt("r", key=None), [], "abandoned"),
        (receipt("r", "PROCESSED"), [], "records_without_object"),
        (receipt("r", "NEEDS_REVIEW"), [], "records_without_object"),
        (receipt("r", "FAILED"), [], None),  # a failed upload may have no image
        (receipt("r", "PROCESSED"), ["uploads/u1/r.jpg"], None),
    ],
)
def test_each_receipt_lands_in_one_finding(row: ReceiptRow, bucket: list[str], where: str | None) -> None:
    found = find([row], [obj(k) for k in bucket], now=NOW, stuck_after=HOUR)
    places = {
        name
        for name in ("to_requeue", "stuck", "abandoned", "records_without_object")
        if getattr(found, name)
    }
    assert places == ({where} if where else set())


def test_the_requeued_event_is_the_one_s3_sends_with_the_key_encoded() -> None:
    key = "uploads/a b+c/r-1.jpg"
    body = s3_event("bucket-1", "eu-west-1", ObjectRow(key, 42, NOW), NOW)
    record = json.loads(json.dumps(body))["Records"][0]
    assert record["eventName"].startswith("ObjectCreated")
    assert "/" not in record["s3"]["object"]["key"] and unquote_plus(record["s3"]["object"]["key"]) == key
    assert record["s3"]["object"]["size"] == 42 and record["eventTime"] == "2026-12-04T12:00:00.000Z"


@dataclass
class FakeInventory:
    rows: list[ReceiptRow]
    objects_: list[ObjectRow]
    bucket: str = "uploads"
    marked: list[str] = field(default_factory=list)
    refuse: bool = False

    def receipts(self) -> Iterable[ReceiptRow]:
        return self.rows

    def objects(self) -> Iterable[ObjectRow]:
        return self.objects_

    def mark_requeued(self, row: ReceiptRow, when: datetime, *, again: bool = False) -> bool:
        self.marked.append(row.receipt_id)
        return not self.refuse


@dataclass
class FakeQueue:
    region: str = "eu-west-1"
    sent: list[Mapping[str, Any]] = field(default_factory=list)

    def send(self, body: Mapping[str, Any]) -> None:
        self.sent.append(body)


class Counts(dict[str, float]):
    def count(self, name: str, value: float = 1) -> None:
        self[name] = self.get(name, 0) + value


def test_a_receipt_another_run_marked_first_is_not_sent_twice() -> None:
    inventory = FakeInventory([receipt("r")], [obj("uploads/u1/r.jpg")], refuse=True)
    queue = FakeQueue()
    report = reconcile(inventory, queue, None, now=NOW, stuck_after=HOUR)
    assert inventory.marked == ["r"] and queue.sent == [] and report.requeued == []


def test_the_metrics_emitted_are_the_figures_reported() -> None:
    counts = Counts()
    report = reconcile(
        FakeInventory(
            [receipt("r"), receipt("p", "PROCESSED")], [obj("uploads/u1/r.jpg"), obj("uploads/u9/z.png")]
        ),
        FakeQueue(),
        counts,
        now=NOW,
        stuck_after=HOUR,
    )
    assert dict(counts) == report.figures()
    assert report.figures() == {
        "ReceiptsChecked": 2,
        "ObjectsChecked": 2,
        "Requeued": 1,
        "StuckReceipts": 0,
        "AbandonedUploads": 0,
        "ObjectsWithoutRecord": 1,
        "RecordsWithoutObject": 1,
    }


@pytest.mark.parametrize(
    "written",
    ["2026-12-04T10:00:00Z", "2026-12-04T10:00:00+00:00", "2026-12-04T11:00:00+01:00", "2026-12-04T10:00:00"],
)
def test_stored_times_are_read_as_utc_whatever_their_form(written: str) -> None:
    from lambda_src.monitoring.adapters import _time

    assert _time(written) == datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
