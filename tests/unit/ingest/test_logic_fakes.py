"""The logic with in-memory fakes: the async (multi-page PDF) path and a local-OCR-style
analyzer that only has analyze_expense."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from lambda_src.common.model import Receipt, Status
from lambda_src.common.repository import Transition
from lambda_src.ingest.categorize import KeywordCategorizer
from lambda_src.ingest.logic import Deps, Result, process_sqs_message
from lambda_src.ingest.models import Settings
from lambda_src.ingest.observability import RecordingTelemetry
from tests.conftest import load_event
from tests.fixtures.bad_inputs.corpus import good_inputs

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "textract"
MULTIPAGE = json.loads((FIXTURES / "multipage_invoice.json").read_text())
KEY = "uploads/user-1/receipt-1.pdf"
PDF = good_inputs()["two-pages.pdf"][0]


class Store:
    def __init__(self, receipt: Receipt) -> None:
        self.receipts = {(receipt.user_id, receipt.receipt_id): receipt}

    def get(self, user_id: str, receipt_id: str) -> Receipt | None:
        return self.receipts.get((user_id, receipt_id))

    def complete(self, result: Receipt) -> Transition:
        current = self.receipts[(result.user_id, result.receipt_id)]
        if current.status is not Status.PENDING:
            return Transition(False, current)
        self.receipts[(result.user_id, result.receipt_id)] = result
        return Transition(True, result)


class Objects:
    def read(self, bucket: str, key: str, *, max_bytes: int) -> bytes:
        return PDF

    def quarantine(self, bucket: str, key: str, *, prefix: str) -> str:
        raise AssertionError("nothing should be quarantined")


class Raw:
    def __init__(self) -> None:
        self.written: list[str] = []

    def write(self, receipt: Receipt, response: Any) -> str:
        self.written.append(receipt.receipt_id)
        return receipt.receipt_id


class AsyncTextract:
    def __init__(self) -> None:
        self.started: list[tuple[str, str, str]] = []

    def analyze_expense(self, document_bytes: bytes, content_type: str) -> dict[str, Any]:
        raise AssertionError("multi-page PDFs go through StartExpenseAnalysis")

    def start_expense_analysis(self, bucket: str, key: str, *, job_tag: str) -> str:
        self.started.append((bucket, key, job_tag))
        return "job-1"

    def get_expense_analysis(self, job_id: str) -> dict[str, Any]:
        assert job_id == "8b2c1d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c"
        return MULTIPAGE


class LocalOcr:
    """Shaped like receiptlake.reader.LocalTextract: analyze_expense only."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def analyze_expense(self, document_bytes: bytes, content_type: str) -> dict[str, Any]:
        self.calls.append(content_type)
        return MULTIPAGE


def deps(textract: Any, *, async_enabled: bool) -> tuple[Deps, Store, Raw]:
    store = Store(Receipt(receipt_id="receipt-1", user_id="user-1", object_key=KEY))
    raw = Raw()
    settings = Settings(
        table_name="t",
        lake_bucket="lake",
        textract_sns_topic_arn="arn:aws:sns:eu-west-1:123456789012:t" if async_enabled else None,
        textract_role_arn="arn:aws:iam::123456789012:role/r" if async_enabled else None,
    )
    return (
        Deps(textract, Objects(), store, KeywordCategorizer(), raw, settings, RecordingTelemetry()),
        store,
        raw,
    )


def upload_body() -> str:
    event = copy.deepcopy(load_event("s3_object_created"))
    event["Records"][0]["s3"]["object"].update({"key": KEY, "size": len(PDF)})
    return json.dumps(event)


def test_a_multi_page_pdf_is_started_then_stored_when_textract_reports_back() -> None:
    textract = AsyncTextract()
    d, store, raw = deps(textract, async_enabled=True)
    (started,) = process_sqs_message(upload_body(), d)
    assert started.result is Result.STARTED
    assert textract.started == [("receiptlake-dev-uploads", KEY, "receipt-1")]
    assert store.get("user-1", "receipt-1").status is Status.PENDING  # type: ignore[union-attr]
    # SNS delivers Textract's completion into the same queue.
    (done,) = process_sqs_message(json.dumps(load_event("sns_textract_completion")), d)
    assert done.result is Result.PROCESSED
    receipt = store.get("user-1", "receipt-1")
    assert receipt is not None and receipt.total is not None and str(receipt.total) == "5715.00"
    assert raw.written == ["receipt-1"]
    # A repeated completion changes nothing.
    (again,) = process_sqs_message(json.dumps(load_event("sns_textract_completion")), d)
    assert again.result is Result.DUPLICATE


def test_a_failed_textract_job_fails_the_receipt() -> None:
    d, store, _ = deps(AsyncTextract(), async_enabled=True)
    message = load_event("sns_textract_completion")
    inner = json.loads(message["Message"])
    inner["Status"] = "FAILED"
    message["Message"] = json.dumps(inner)
    (outcome,) = process_sqs_message(json.dumps(message), d)
    assert outcome.result is Result.FAILED
    assert store.get("user-1", "receipt-1").status is Status.FAILED  # type: ignore[union-attr]


def test_local_ocr_reads_multi_page_pdfs_synchronously() -> None:
    ocr = LocalOcr()
    d, _store, _ = deps(ocr, async_enabled=False)
    (outcome,) = process_sqs_message(upload_body(), d)
    assert outcome.result is Result.PROCESSED
    assert ocr.calls == ["application/pdf"]


def test_garbage_messages_are_counted_not_retried() -> None:
    d, _, _ = deps(LocalOcr(), async_enabled=False)
    for body in ("not json", "[1, 2]", '{"hello": "world"}'):
        (outcome,) = process_sqs_message(body, d)
        assert outcome.result is Result.IGNORED
    assert d.telemetry.counts["UnrecognizedMessages"] == 3  # type: ignore[attr-defined]
