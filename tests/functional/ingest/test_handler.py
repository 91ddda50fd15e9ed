"""The ingest handler end to end against moto, with recorded Textract responses."""

from __future__ import annotations

import json
import threading
import time
from decimal import Decimal
from typing import Any

import pytest

from lambda_src.common import keys
from lambda_src.common.model import Status
from lambda_src.ingest.handler import handler
from lambda_src.ingest.logic import GAVE_UP
from lambda_src.ingest.observability import logger
from tests.conftest import load_event
from tests.fixtures.bad_inputs.corpus import bad_inputs
from tests.functional.ingest.conftest import LAKE, RECEIPT_JPG, UPLOADS, World, recorded, s3_body, sqs_event


def invoke(event: dict[str, Any], lambda_context: Any) -> list[str]:
    response = handler(event, lambda_context)
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def test_a_receipt_photo_is_read_and_stored(
    world: World, lambda_context: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    # Given a PENDING receipt and its uploaded photo
    key = world.pending("user-1", "receipt-1")
    world.upload(key, RECEIPT_JPG)
    world.stubber.add_response(
        "analyze_expense", recorded("mega_market_receipt"), {"Document": {"Bytes": RECEIPT_JPG}}
    )
    # When S3's notification arrives
    assert invoke(sqs_event(s3_body(key, size=len(RECEIPT_JPG))), lambda_context) == []
    # Then the receipt is PROCESSED with what the photo says
    receipt = world.receipt("user-1", "receipt-1")
    assert receipt.status is Status.PROCESSED
    assert (receipt.vendor.name, receipt.total, receipt.currency) == (
        "MEGA MARKET PLUS",
        Decimal("1810.46"),
        "USD",
    )
    assert receipt.content_type == "image/jpeg" and receipt.size_bytes == len(RECEIPT_JPG)
    assert receipt.line_items[0].category == "shopping"
    assert receipt.processed_at is not None and receipt.version == 1
    # And the raw response is in the lake's raw zone
    raw_keys = world.keys(LAKE, "raw/textract/")
    assert raw_keys == ["raw/textract/user_id=user-1/receipt-1.json"]
    raw = json.loads(world.s3.get_object(Bucket=LAKE, Key=raw_keys[0])["Body"].read())
    assert raw["ExpenseDocuments"][0]["SummaryFields"]
    # And the metrics and the correlation id were written
    out = capfd.readouterr().out
    assert '"Processed"' in out and "UploadToStoredLatency" in out and "TextractLatency" in out
    assert logger.get_correlation_id() == "receipt-1"


def test_the_same_event_three_times_stores_one_receipt_and_counts_it_once(
    world: World, lambda_context: Any
) -> None:
    key = world.pending("user-1", "receipt-1")
    world.upload(key, RECEIPT_JPG)
    # One recorded response only: a second Textract call would fail the test.
    world.stubber.add_response("analyze_expense", recorded("mega_market_receipt"))
    body = s3_body(key, size=len(RECEIPT_JPG))
    for _ in range(3):
        assert invoke(sqs_event(body), lambda_context) == []
    month = world.repository.aggregate_cells("user-1", keys.AGG_MONTH, "2019-12", "2019-12")
    assert [(Decimal(m[4]), m[5]) for m in month] == [(Decimal("1810.46"), 1)]
    assert world.receipt("user-1", "receipt-1").version == 1
    world.stubber.assert_no_pending_responses()


def test_duplicates_in_one_batch_are_also_one_receipt(world: World, lambda_context: Any) -> None:
    key = world.pending("user-1", "receipt-1")
    world.upload(key, RECEIPT_JPG)
    world.stubber.add_response("analyze_expense", recorded("mega_market_receipt"))
    body = s3_body(key, size=len(RECEIPT_JPG))
    assert invoke(sqs_event(body, body, body), lambda_context) == []
    month = world.repository.aggregate_cells("user-1", keys.AGG_MONTH, "2019-12", "2019-12")
    assert [(Decimal(m[4]), m[5]) for m in month] == [(Decimal("1810.46"), 1)]


def test_s3_test_event_is_ignored(world: World, lambda_context: Any) -> None:
    assert invoke(sqs_event(json.dumps(load_event("s3_test_event"))), lambda_context) == []


def test_url_encoded_keys_are_decoded(world: World, lambda_context: Any) -> None:
    # A federated identity id has a colon; spaces become "+" in S3 events.
    user = "eu-west-1:a b+c"
    key = world.pending(user, "receipt-2")
    world.upload(key, RECEIPT_JPG)
    world.stubber.add_response("analyze_expense", recorded("mega_market_receipt"))
    body = s3_body(key, size=len(RECEIPT_JPG))
    assert "eu-west-1%3Aa+b%2Bc" in body
    assert invoke(sqs_event(body), lambda_context) == []
    assert world.receipt(user, "receipt-2").status is Status.PROCESSED


def test_partial_batch_failure_retries_only_the_failed_message(world: World, lambda_context: Any) -> None:
    good = world.pending("user-1", "good")
    world.upload(good, RECEIPT_JPG)
    broken = world.pending("user-1", "broken")
    world.stubber.add_response("analyze_expense", recorded("mega_market_receipt"))
    event = sqs_event(
        s3_body(good, size=len(RECEIPT_JPG)),
        # S3 answers an error that is worth retrying (here: the bucket is unreachable).
        s3_body(broken, size=len(RECEIPT_JPG), bucket="bucket-that-is-not-there"),
        json.dumps(load_event("s3_test_event")),
    )
    failed = invoke(event, lambda_context)
    assert failed == [event["Records"][1]["messageId"]]
    assert world.receipt("user-1", "good").status is Status.PROCESSED
    assert world.receipt("user-1", "broken").status is Status.PENDING


def _record_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record this thread's sleeps instead of waiting. `time.sleep` is one function for the
    whole process: other threads (a Spark session's, a server's) must go on sleeping, or
    they would spin and fill the record."""
    real_sleep, caller, slept = time.sleep, threading.get_ident(), []

    def sleep(seconds: float) -> None:
        if threading.get_ident() == caller:
            slept.append(seconds)
        else:
            real_sleep(seconds)

    monkeypatch.setattr("lambda_src.ingest.adapters.textract.time.sleep", sleep)
    return slept


def test_throttling_then_success(
    world: World, lambda_context: Any, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    slept = _record_sleeps(monkeypatch)
    key = world.pending("user-1", "receipt-1")
    world.upload(key, RECEIPT_JPG)
    world.stubber.add_client_error("analyze_expense", "ThrottlingException", http_status_code=400)
    world.stubber.add_client_error(
        "analyze_expense", "ProvisionedThroughputExceededException", http_status_code=400
    )
    world.stubber.add_client_error("analyze_expense", "InternalServerError", http_status_code=500)
    world.stubber.add_response("analyze_expense", recorded("mega_market_receipt"))
    assert invoke(sqs_event(s3_body(key, size=len(RECEIPT_JPG))), lambda_context) == []
    assert world.receipt("user-1", "receipt-1").status is Status.PROCESSED
    # Backoff waits grow (full jitter: each is between 0 and 0.25 * 2**attempt seconds).
    assert len(slept) == 3 and all(0 <= s <= 0.25 * 2**i for i, s in enumerate(slept))
    out = capfd.readouterr().out
    assert "TextractThrottles" in out and "TextractErrors" in out


def test_throttled_on_every_try_is_retried_then_fails_on_the_last_delivery(
    world: World, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _record_sleeps(monkeypatch)
    key = world.pending("user-1", "receipt-1")
    world.upload(key, RECEIPT_JPG)
    for _ in range(12):
        world.stubber.add_client_error("analyze_expense", "ThrottlingException", http_status_code=400)
    body = s3_body(key, size=len(RECEIPT_JPG))
    first = sqs_event(body, receive_count=1)
    assert invoke(first, lambda_context) == [first["Records"][0]["messageId"]]
    assert world.receipt("user-1", "receipt-1").status is Status.PENDING
    # The fifth delivery (maxReceiveCount) ends the receipt rather than leaving it PENDING.
    assert invoke(sqs_event(body, receive_count=5), lambda_context) == []
    receipt = world.receipt("user-1", "receipt-1")
    assert (receipt.status, receipt.failure_reason) == (Status.FAILED, GAVE_UP)


def test_textract_rejecting_the_document_fails_it_with_a_reason(world: World, lambda_context: Any) -> None:
    key = world.pending("user-1", "receipt-1")
    world.upload(key, RECEIPT_JPG)
    world.stubber.add_client_error("analyze_expense", "UnsupportedDocumentException", http_status_code=400)
    assert invoke(sqs_event(s3_body(key, size=len(RECEIPT_JPG))), lambda_context) == []
    receipt = world.receipt("user-1", "receipt-1")
    assert receipt.status is Status.FAILED
    assert receipt.failure_reason and receipt.failure_reason.startswith("The receipt could not be read")


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("uploads/user-2/receipt-1.jpg", "another user's prefix"),
        ("uploads/user-1/nobody-made-this.jpg", "unknown receipt id"),
        ("uploads/user-1/receipt-1.png", "not the key the API issued"),
        ("uploads/stray.jpg", "not the key layout"),
    ],
)
def test_unknown_keys_are_quarantined_never_processed(
    world: World, lambda_context: Any, key: str, why: str, capfd: pytest.CaptureFixture[str]
) -> None:
    world.pending("user-1", "receipt-1")
    world.upload(key, RECEIPT_JPG)
    assert invoke(sqs_event(s3_body(key, size=len(RECEIPT_JPG))), lambda_context) == [], why
    assert world.keys(UPLOADS, "quarantine/") == [f"quarantine/{key}"]
    assert key not in world.keys(UPLOADS, "uploads/")
    assert world.receipt("user-1", "receipt-1").status is Status.PENDING
    assert '"Quarantined"' in capfd.readouterr().out
    world.stubber.assert_no_pending_responses()  # Textract never called


@pytest.mark.parametrize("name", sorted(bad_inputs()))
def test_bad_inputs_end_failed_with_their_reason(world: World, lambda_context: Any, name: str) -> None:
    data, code = bad_inputs()[name]
    receipt_id = "bad-" + name.replace(".", "-")
    key = world.pending("user-1", receipt_id, ext=name.rsplit(".", 1)[1])
    world.upload(key, data)
    assert invoke(sqs_event(s3_body(key, size=len(data))), lambda_context) == []
    receipt = world.receipt("user-1", receipt_id)
    assert receipt.status is Status.FAILED, code
    assert receipt.failure_reason and receipt.failure_reason.endswith(".")
    world.stubber.assert_no_pending_responses()


def test_an_event_without_a_size_still_checks_the_size(world: World, lambda_context: Any) -> None:
    data, _ = bad_inputs()["huge.jpg"]
    key = world.pending("user-1", "huge")
    world.upload(key, data)
    assert invoke(sqs_event(s3_body(key, size=None)), lambda_context) == []
    receipt = world.receipt("user-1", "huge")
    assert receipt.status is Status.FAILED and "the limit is 2 MB" in (receipt.failure_reason or "")


def test_a_deleted_upload_fails_the_receipt(world: World, lambda_context: Any) -> None:
    key = world.pending("user-1", "gone")
    assert invoke(sqs_event(s3_body(key, size=100)), lambda_context) == []
    assert world.receipt("user-1", "gone").status is Status.FAILED
