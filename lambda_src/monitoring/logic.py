"""Reconciliation of the receipts table with the uploads bucket: pure decisions, plus one
``reconcile`` that drives them through small adapters (``adapters.py`` in AWS and local
mode, fakes in tests).

The promise checked here (design.md, data flow 5): every upload ends in a terminal status.
A receipt still PENDING ``stuck_after`` after its upload slot was issued is stuck: if its
object is there, its S3 event is sent to the ingest queue once more (the exactly-once store
makes a duplicate harmless); if it is still PENDING on a later run, it is counted as stuck
and alarmed. Objects with no receipt and finished receipts whose object is gone are counted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import quote_plus

# The key the API issues for an upload (lambda_src/ingest/logic.py KEY_PATTERN; the
# monitoring bundle carries lambda_src/common and this package only).
UPLOADS_PREFIX = "uploads/"
KEY_PATTERN = re.compile(
    r"^uploads/(?P<user_id>[^/]{1,128})/(?P<receipt_id>[A-Za-z0-9_-]{1,64})\.(?P<ext>[A-Za-z0-9]{1,5})$"
)
PENDING = "PENDING"
# A finished receipt keeps its image: the review screen shows it and a retry re-reads it.
# FAILED ones may legitimately have none (the object never arrived, or was rejected).
NEEDS_OBJECT = frozenset({"PROCESSED", "NEEDS_REVIEW"})
REQUEUE_PRINCIPAL = "receiptlake-reconcile"


@dataclass(frozen=True)
class ReceiptRow:
    """What reconciliation needs of one receipt item."""

    user_id: str
    receipt_id: str
    status: str
    object_key: str | None
    uploaded_at: datetime
    requeued_at: datetime | None = None


@dataclass(frozen=True)
class ObjectRow:
    key: str
    size: int
    last_modified: datetime


@dataclass(frozen=True)
class Findings:
    """What one pass over the table and the bucket found (nothing done yet)."""

    to_requeue: tuple[tuple[ReceiptRow, ObjectRow], ...] = ()
    stuck: tuple[tuple[ReceiptRow, ObjectRow], ...] = ()  # re-queued once, still PENDING
    abandoned: tuple[ReceiptRow, ...] = ()  # PENDING, old, and no object ever arrived
    objects_without_record: tuple[ObjectRow, ...] = ()
    records_without_object: tuple[ReceiptRow, ...] = ()
    receipts_checked: int = 0
    objects_checked: int = 0


@dataclass
class Report:
    """The figures one run emits as metrics, and what it did."""

    receipts_checked: int = 0
    objects_checked: int = 0
    requeued: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    abandoned: list[str] = field(default_factory=list)
    objects_without_record: list[str] = field(default_factory=list)
    records_without_object: list[str] = field(default_factory=list)
    dry_run: bool = False

    def figures(self) -> dict[str, int]:
        return {
            "ReceiptsChecked": self.receipts_checked,
            "ObjectsChecked": self.objects_checked,
            "Requeued": len(self.requeued),
            "StuckReceipts": len(self.stuck),
            "AbandonedUploads": len(self.abandoned),
            "ObjectsWithoutRecord": len(self.objects_without_record),
            "RecordsWithoutObject": len(self.records_without_object),
        }


def parse_key(key: str) -> tuple[str, str] | None:
    """``(user_id, receipt_id)`` of an upload key, or None for any other key."""
    match = KEY_PATTERN.match(key)
    return (match["user_id"], match["receipt_id"]) if match else None


def find(
    receipts: Iterable[ReceiptRow],
    objects: Iterable[ObjectRow],
    *,
    now: datetime,
    stuck_after: timedelta,
) -> Findings:
    """Compare the table with the bucket. Only what is older than ``stuck_after`` counts:
    a young PENDING receipt is in flight, and a young object may belong to a receipt being
    created or deleted this very moment."""
    cutoff = now - stuck_after
    by_id: dict[tuple[str, str], ReceiptRow] = {}
    receipts_checked = 0
    for row in receipts:
        receipts_checked += 1
        by_id[(row.user_id, row.receipt_id)] = row
    objects_by_key: dict[str, ObjectRow] = {}
    without_record: list[ObjectRow] = []
    objects_checked = 0
    for obj in objects:
        objects_checked += 1
        objects_by_key[obj.key] = obj
        owner = parse_key(obj.key)
        if obj.last_modified <= cutoff and (owner is None or owner not in by_id):
            without_record.append(obj)

    to_requeue: list[tuple[ReceiptRow, ObjectRow]] = []
    stuck: list[tuple[ReceiptRow, ObjectRow]] = []
    abandoned: list[ReceiptRow] = []
    without_object: list[ReceiptRow] = []
    for row in by_id.values():
        if row.uploaded_at > cutoff:
            continue
        found = objects_by_key.get(row.object_key) if row.object_key else None
        if row.status == PENDING:
            if found is None:
                abandoned.append(row)
            elif row.requeued_at is None:
                to_requeue.append((row, found))
            elif row.requeued_at <= cutoff:
                stuck.append((row, found))
            # re-queued less than stuck_after ago: give that delivery its time
        elif row.status in NEEDS_OBJECT and found is None:
            without_object.append(row)
    return Findings(
        to_requeue=tuple(to_requeue),
        stuck=tuple(stuck),
        abandoned=tuple(abandoned),
        objects_without_record=tuple(without_record),
        records_without_object=tuple(without_object),
        receipts_checked=receipts_checked,
        objects_checked=objects_checked,
    )


def s3_event(bucket: str, region: str, obj: ObjectRow, now: datetime) -> dict[str, Any]:
    """The body S3 puts on the ingest queue for this object, so a re-queued receipt takes
    the path of a fresh upload (keys URL-encoded as S3 does it)."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                "eventName": "ObjectCreated:Post",
                "userIdentity": {"principalId": REQUEUE_PRINCIPAL},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": REQUEUE_PRINCIPAL,
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": quote_plus(obj.key), "size": obj.size},
                },
            }
        ]
    }


# ---- the run, through adapters ----------------------------------------------------------------


class Inventory(Protocol):
    """The table and the bucket as reconciliation reads them."""

    bucket: str

    def receipts(self) -> Iterable[ReceiptRow]: ...

    def objects(self) -> Iterable[ObjectRow]: ...

    def mark_requeued(self, row: ReceiptRow, when: datetime, *, again: bool = False) -> bool:
        """Record the one re-queue; False when the receipt moved on or was re-queued meanwhile
        (``again``: also when re-queued before, for an operator's forced re-send)."""
        ...


class Queue(Protocol):
    region: str

    def send(self, body: Mapping[str, Any]) -> None: ...


class Telemetry(Protocol):
    def count(self, name: str, value: float = 1) -> None: ...


def reconcile(
    inventory: Inventory,
    queue: Queue,
    telemetry: Telemetry | None,
    *,
    now: datetime,
    stuck_after: timedelta,
    requeue: bool = True,
    force_requeue: bool = False,
) -> Report:
    """One reconciliation run: find, re-queue stuck receipts once, emit the figures.

    ``requeue=False`` only reports (a dry run). ``force_requeue`` re-sends every stuck
    receipt whose object exists, also those re-queued before (an operator's decision
    after fixing the cause, ``receiptlake ops reprocess-stuck``).
    """
    findings = find(inventory.receipts(), inventory.objects(), now=now, stuck_after=stuck_after)
    report = Report(
        receipts_checked=findings.receipts_checked,
        objects_checked=findings.objects_checked,
        stuck=[_ref(r) for r, _ in findings.stuck],
        abandoned=[_ref(r) for r in findings.abandoned],
        objects_without_record=[o.key for o in findings.objects_without_record],
        records_without_object=[_ref(r) for r in findings.records_without_object],
        dry_run=not requeue,
    )
    candidates = list(findings.to_requeue)
    if force_requeue:
        candidates += findings.stuck
        report.stuck = []
    if requeue:
        for row, obj in candidates:
            # Marked first: a receipt is never re-queued twice by two overlapping runs. A
            # forced re-send moves the mark to now, so the schedule gives it its full time.
            if inventory.mark_requeued(row, now, again=force_requeue):
                queue.send(s3_event(inventory.bucket, queue.region, obj, now))
                report.requeued.append(_ref(row))
    else:
        report.requeued = [_ref(r) for r, _ in candidates]
    if telemetry is not None:
        _emit(report, telemetry)
    return report


def _emit(report: Report, telemetry: Telemetry) -> None:
    # Literal names (not a loop over figures()) so tests/infra can check that every metric
    # the dashboard and the alarms name is one this code emits.
    telemetry.count("ReceiptsChecked", report.receipts_checked)
    telemetry.count("ObjectsChecked", report.objects_checked)
    telemetry.count("Requeued", len(report.requeued))
    telemetry.count("StuckReceipts", len(report.stuck))
    telemetry.count("AbandonedUploads", len(report.abandoned))
    telemetry.count("ObjectsWithoutRecord", len(report.objects_without_record))
    telemetry.count("RecordsWithoutObject", len(report.records_without_object))


def _ref(row: ReceiptRow) -> str:
    return f"{row.user_id}/{row.receipt_id}"
