"""Reconciliation against moto: a lost SQS message, an orphaned object, a receipt stuck in
PENDING, a finished receipt whose image is gone; and the DLQ redrive."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote_plus

import pytest

from lambda_src.common.model import Status
from lambda_src.ingest.handler import handler as ingest_handler
from lambda_src.monitoring.adapters import REQUEUED_ATTRIBUTE, AwsInventory, SqsQueue, redrive
from lambda_src.monitoring.logic import reconcile
from tests.functional.ingest.conftest import RECEIPT_JPG, UPLOADS, World, recorded, s3_body, sqs_event
from tests.functional.monitoring.conftest import Queues

STUCK_AFTER = timedelta(minutes=60)


class Counts:
    def __init__(self) -> None:
        self.values: dict[str, float] = {}

    def count(self, name: str, value: float = 1) -> None:
        self.values[name] = self.values.get(name, 0) + value


def later(minutes: int) -> datetime:
    """A run's clock: everything made in the test is ``minutes`` old by then."""
    return datetime.now(UTC) + timedelta(minutes=minutes)


def run(inventory: AwsInventory, queue: SqsQueue, minutes: int, **options: Any) -> tuple[Any, Counts]:
    counts = Counts()
    report = reconcile(inventory, queue, counts, now=later(minutes), stuck_after=STUCK_AFTER, **options)
    return report, counts


def test_a_lost_sqs_message_is_requeued_once_and_the_receipt_then_stored(
    world: World, inventory: AwsInventory, queue: SqsQueue, queues: Queues, lambda_context: Any
) -> None:
    # Given an uploaded receipt whose S3 notification never reached ingest
    key = world.pending("user-1", "receipt-1")
    world.upload(key, RECEIPT_JPG)
    # When reconciliation runs two hours later
    report, counts = run(inventory, queue, 120)
    # Then its S3 event is on the ingest queue again, and the re-queue is recorded
    assert report.requeued == ["user-1/receipt-1"] and report.stuck == []
    (body,) = queues.bodies()
    record = body["Records"][0]
    assert (record["s3"]["bucket"]["name"], unquote_plus(record["s3"]["object"]["key"])) == (UPLOADS, key)
    assert record["s3"]["object"]["size"] == len(RECEIPT_JPG)
    item = world.ddb.get_item(
        TableName=inventory.table, Key={"PK": {"S": "USER#user-1"}, "SK": {"S": "RECEIPT#receipt-1"}}
    )["Item"]
    assert REQUEUED_ATTRIBUTE in item
    assert counts.values["Requeued"] == 1 and counts.values["StuckReceipts"] == 0
    # And the ingest handler stores the receipt from that very message
    world.stubber.add_response(
        "analyze_expense", recorded("mega_market_receipt"), {"Document": {"Bytes": RECEIPT_JPG}}
    )
    response = ingest_handler(sqs_event(json.dumps(body)), lambda_context)
    assert response["batchItemFailures"] == []
    assert world.receipt("user-1", "receipt-1").status is Status.PROCESSED
    # So the next run finds nothing to do
    report, counts = run(inventory, queue, 240)
    assert (report.requeued, report.stuck) == ([], [])
    assert counts.values["ReceiptsChecked"] == 1 and counts.values["ObjectsChecked"] == 1


def test_a_receipt_stuck_in_pending_is_requeued_once_then_counted_as_stuck(
    world: World, inventory: AwsInventory, queue: SqsQueue, queues: Queues
) -> None:
    # Given an uploaded receipt that ingest never finishes
    key = world.pending("user-2", "receipt-2")
    world.upload(key, RECEIPT_JPG)
    # When reconciliation runs: first the re-queue
    first, _ = run(inventory, queue, 90)
    assert first.requeued == ["user-2/receipt-2"]
    # Then a run soon after gives that delivery its time: no second message, not stuck yet
    soon, counts = run(inventory, queue, 100)
    assert (soon.requeued, soon.stuck, counts.values["StuckReceipts"]) == ([], [], 0)
    # And once stuck_after has passed since the re-queue it is stuck, and not re-sent
    late, counts = run(inventory, queue, 90 + 61)
    assert late.stuck == ["user-2/receipt-2"] and late.requeued == []
    assert counts.values["StuckReceipts"] == 1
    assert len(queues.bodies()) == 1
    # Unless an operator forces it (receiptlake ops reprocess-stuck)
    forced, counts = run(inventory, queue, 90 + 62, force_requeue=True)
    assert forced.requeued == ["user-2/receipt-2"] and counts.values["StuckReceipts"] == 0
    assert len(queues.bodies()) == 1
    # And the forced re-send restarts the clock: a run soon after does not call it stuck
    after, counts = run(inventory, queue, 90 + 62 + 10)
    assert (after.stuck, after.requeued, counts.values["StuckReceipts"]) == ([], [], 0)


def test_a_young_pending_receipt_is_in_flight_not_stuck(
    world: World, inventory: AwsInventory, queue: SqsQueue, queues: Queues
) -> None:
    key = world.pending("user-3", "receipt-3")
    world.upload(key, RECEIPT_JPG)
    report, counts = run(inventory, queue, 30)
    assert report.requeued == [] and queues.bodies() == []
    assert counts.values["ReceiptsChecked"] == 1


def test_an_orphaned_object_is_counted(
    world: World, inventory: AwsInventory, queue: SqsQueue, queues: Queues
) -> None:
    # Given an object under uploads/ for which no receipt exists, and a stray key
    world.upload("uploads/user-4/never-recorded.jpg", RECEIPT_JPG)
    world.upload("uploads/not-a-receipt-key", b"x")
    # When reconciliation runs
    report, counts = run(inventory, queue, 120)
    # Then both are reported, and nothing is sent to ingest
    assert report.objects_without_record == ["uploads/not-a-receipt-key", "uploads/user-4/never-recorded.jpg"]
    assert counts.values["ObjectsWithoutRecord"] == 2 and queues.bodies() == []
    # But a fresh object may be a receipt being created this moment: not counted yet
    fresh, _ = run(inventory, queue, 5)
    assert fresh.objects_without_record == []


def test_an_abandoned_upload_slot_is_counted_but_not_requeued(
    world: World, inventory: AwsInventory, queue: SqsQueue, queues: Queues
) -> None:
    world.pending("user-5", "receipt-5")  # the browser never uploaded
    report, counts = run(inventory, queue, 120)
    assert report.abandoned == ["user-5/receipt-5"] and report.requeued == []
    assert counts.values["AbandonedUploads"] == 1 and queues.bodies() == []


def test_a_finished_receipt_whose_image_is_gone_is_counted(
    world: World, inventory: AwsInventory, queue: SqsQueue, lambda_context: Any
) -> None:
    # Given a PROCESSED receipt
    key = world.pending("user-6", "receipt-6")
    world.upload(key, RECEIPT_JPG)
    world.stubber.add_response(
        "analyze_expense", recorded("mega_market_receipt"), {"Document": {"Bytes": RECEIPT_JPG}}
    )
    body = s3_body(key, size=len(RECEIPT_JPG))
    assert ingest_handler(sqs_event(body), lambda_context)["batchItemFailures"] == []
    assert world.receipt("user-6", "receipt-6").status is Status.PROCESSED
    # When its image is deleted behind the app's back
    world.s3.delete_object(Bucket=UPLOADS, Key=key)
    report, counts = run(inventory, queue, 120)
    # Then reconciliation reports it
    assert report.records_without_object == ["user-6/receipt-6"]
    assert counts.values["RecordsWithoutObject"] == 1


def test_a_dry_run_changes_nothing(
    world: World, inventory: AwsInventory, queue: SqsQueue, queues: Queues
) -> None:
    key = world.pending("user-7", "receipt-7")
    world.upload(key, RECEIPT_JPG)
    report, _ = run(inventory, queue, 120, requeue=False)
    assert report.dry_run and report.requeued == ["user-7/receipt-7"]
    assert queues.bodies() == []
    # so a real run afterwards still re-queues it
    assert run(inventory, queue, 120)[0].requeued == ["user-7/receipt-7"]


@pytest.mark.parametrize(("waiting", "limit", "moved"), [(3, None, 3), (12, None, 12), (5, 2, 2)])
def test_redrive_moves_dlq_messages_back_to_the_ingest_queue(
    queues: Queues, waiting: int, limit: int | None, moved: int
) -> None:
    for i in range(waiting):
        queues.sqs.send_message(QueueUrl=queues.dlq_url, MessageBody=json.dumps({"n": i}))
    assert redrive(queues.sqs, source_url=queues.dlq_url, target_url=queues.url, limit=limit) == moved
    back = [b["n"] for b in queues.bodies()]
    left = [b["n"] for b in queues.bodies(queues.dlq_url)]
    # every message is in exactly one place: none lost, none doubled
    assert (len(back), len(left)) == (moved, waiting - moved)
    assert sorted(back + left) == list(range(waiting))
