"""Ingest, as plain functions over Protocols: one S3 upload becomes one stored receipt.

The Lambda handler and local mode's worker both call ``process_sqs_message`` (one SQS
message body) or ``process_s3_event_record`` (one S3 event record). A raised exception
means "retry this message later"; every other outcome is final.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import unquote_plus

from lambda_src.common.model import Receipt, Status, utcnow
from lambda_src.common.repository import Transition
from lambda_src.ingest.adapters.s3 import ObjectMissing, ObjectStore, RawZone
from lambda_src.ingest.adapters.textract import (
    AsyncExpenseAnalyzer,
    DocumentRejected,
    ExpenseAnalyzer,
    TextractUnavailable,
)
from lambda_src.ingest.categorize import Categorizer, categorize
from lambda_src.ingest.models import Settings
from lambda_src.ingest.normalize import normalize_expense
from lambda_src.ingest.observability import RecordingTelemetry, Telemetry, logger
from lambda_src.ingest.validation import Rejected, ValidDocument, check_size, validate

KEY_PATTERN = re.compile(
    r"^uploads/(?P<user_id>[^/]{1,128})/(?P<receipt_id>[A-Za-z0-9_-]{1,64})\.(?P<ext>[A-Za-z0-9]{1,5})$"
)

GAVE_UP = (
    "The receipt could not be read because the reading service was busy, even after "
    "several tries: retry it from the receipt page."
)
MISSING = "The uploaded file was not found (it may have been deleted): upload the receipt again."
TEXTRACT_FAILED = (
    "The receipt could not be read (the reading service failed on it): retry it, or upload a clearer photo."
)


class ReceiptStore(Protocol):
    """The part of ReceiptRepository ingest uses."""

    def get(self, user_id: str, receipt_id: str) -> Receipt | None: ...

    def complete(self, result: Receipt) -> Transition: ...


class Result(StrEnum):
    PROCESSED = "PROCESSED"
    NEEDS_REVIEW = "NEEDS_REVIEW"
    FAILED = "FAILED"
    DUPLICATE = "DUPLICATE"  # already terminal: a re-delivered or retried event
    QUARANTINED = "QUARANTINED"  # not a key the API handed out
    STARTED = "STARTED"  # multi-page PDF sent to StartExpenseAnalysis
    IGNORED = "IGNORED"  # s3:TestEvent, deletes, unknown messages


@dataclass(frozen=True)
class Outcome:
    result: Result
    key: str | None = None
    receipt_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Deps:
    """Everything ingest talks to. Local mode passes the local OCR as ``textract``."""

    textract: ExpenseAnalyzer
    storage: ObjectStore
    repository: ReceiptStore
    categorizer: Categorizer
    raw_zone: RawZone
    settings: Settings
    telemetry: Telemetry = field(default_factory=RecordingTelemetry)
    clock: Callable[[], datetime] = utcnow


@dataclass(frozen=True)
class UploadKey:
    user_id: str
    receipt_id: str
    ext: str


def parse_key(key: str) -> UploadKey | None:
    match = KEY_PATTERN.match(key)
    if not match:
        return None
    return UploadKey(match["user_id"], match["receipt_id"], match["ext"].lower())


# ---- messages -----------------------------------------------------------------------------


def process_sqs_message(body: str, deps: Deps, *, receive_count: int = 1) -> list[Outcome]:
    """One SQS message: an S3 event notification, S3's test event, or (through SNS) a
    Textract job completion."""
    final_attempt = receive_count >= deps.settings.max_receive_count
    try:
        message = json.loads(body)
    except json.JSONDecodeError:
        return [_unrecognized(deps, "not JSON")]
    if not isinstance(message, dict):
        return [_unrecognized(deps, "not an object")]
    if message.get("Type") == "Notification" and isinstance(message.get("Message"), str):
        return process_sqs_message(message["Message"], deps, receive_count=receive_count)
    if message.get("Event") == "s3:TestEvent":
        return [Outcome(Result.IGNORED, reason="s3:TestEvent")]
    if "JobId" in message and message.get("API") == "StartExpenseAnalysis":
        return [process_textract_completion(message, deps, final_attempt=final_attempt)]
    records = message.get("Records")
    if isinstance(records, list):
        return [process_s3_event_record(r, deps, final_attempt=final_attempt) for r in records]
    return [_unrecognized(deps, "no Records")]


def _unrecognized(deps: Deps, why: str) -> Outcome:
    # Retrying a message nobody understands cannot help; count it and let it go.
    logger.error("Unrecognized ingest message", extra={"why": why})
    deps.telemetry.count("UnrecognizedMessages")
    return Outcome(Result.IGNORED, reason=f"unrecognized message: {why}")


def process_s3_event_record(record: Mapping[str, Any], deps: Deps, *, final_attempt: bool = False) -> Outcome:
    """One S3 ObjectCreated record → the receipt it belongs to, read and stored once."""
    if not str(record.get("eventName", "")).startswith("ObjectCreated"):
        return Outcome(Result.IGNORED, reason=f"event {record.get('eventName')!r}")
    s3 = record.get("s3") or {}
    bucket = str((s3.get("bucket") or {}).get("name", ""))
    obj = s3.get("object") or {}
    key = unquote_plus(str(obj.get("key", "")))  # S3 event keys are URL-encoded
    size = obj.get("size")

    owner = _owner(key, deps)
    if isinstance(owner, Outcome):
        return _quarantine(bucket, key, owner.reason or "", deps)
    receipt = owner
    logger.set_correlation_id(receipt.receipt_id)
    if receipt.status is not Status.PENDING:
        return _duplicate(key, receipt, deps)

    uploaded_at = _event_time(record)
    try:
        return _read_and_store(bucket, key, size, receipt, deps, uploaded_at)
    except TextractUnavailable:
        if not final_attempt:
            raise
        return _fail(receipt, "textract_unavailable", GAVE_UP, deps, key=key)


def _owner(key: str, deps: Deps) -> Receipt | Outcome:
    """The PENDING-or-done receipt this key was issued for, or why it is not one."""
    parsed = parse_key(key)
    if parsed is None:
        return Outcome(Result.QUARANTINED, key, reason="key is not uploads/{user}/{receipt}.{ext}")
    receipt = deps.repository.get(parsed.user_id, parsed.receipt_id)
    if receipt is None:
        return Outcome(Result.QUARANTINED, key, parsed.receipt_id, "no such receipt for this user")
    if receipt.object_key and receipt.object_key != key:
        return Outcome(Result.QUARANTINED, key, parsed.receipt_id, "not the key issued for this receipt")
    return receipt


def _read_and_store(
    bucket: str,
    key: str,
    size: Any,
    receipt: Receipt,
    deps: Deps,
    uploaded_at: datetime | None,
) -> Outcome:
    settings = deps.settings
    try:
        if isinstance(size, int):
            check_size(size, settings.max_upload_bytes)  # too big: no need to download it
        data = b"" if size == 0 else deps.storage.read(bucket, key, max_bytes=settings.max_upload_bytes)
        document = validate(data, max_bytes=settings.max_upload_bytes, max_pages=settings.max_pages)
    except Rejected as exc:
        return _fail(receipt, exc.code, exc.reason, deps, key=key, size=size)
    except ObjectMissing:
        return _fail(receipt, "missing", MISSING, deps, key=key)

    base = receipt.model_copy(
        update={
            "object_key": key,
            "content_type": document.content_type,
            "size_bytes": len(data),
            "image_sha256": hashlib.sha256(data).hexdigest(),
        }
    )
    textract = deps.textract
    if document.pages > 1 and settings.async_enabled and isinstance(textract, AsyncExpenseAnalyzer):
        job_id = _timed(
            deps, lambda: textract.start_expense_analysis(bucket, key, job_tag=receipt.receipt_id)
        )
        logger.info("Started StartExpenseAnalysis", extra={"job_id": job_id, "pages": document.pages})
        deps.telemetry.count("AsyncJobsStarted")
        return Outcome(Result.STARTED, key, receipt.receipt_id)
    try:
        response = _timed(deps, lambda: textract.analyze_expense(data, document.content_type))
    except DocumentRejected as exc:
        return _fail(receipt, exc.code, exc.reason, deps, key=key, size=len(data))
    return _store(base, response, deps, key=key, uploaded_at=uploaded_at, document=document)


def _timed(deps: Deps, call: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    try:
        return call()
    finally:
        deps.telemetry.milliseconds("TextractLatency", (time.perf_counter() - started) * 1000)


def _store(
    base: Receipt,
    response: Mapping[str, Any],
    deps: Deps,
    *,
    key: str | None,
    uploaded_at: datetime | None,
    document: ValidDocument | None = None,
) -> Outcome:
    # The raw response first: if the transaction then fails, the retry overwrites the same
    # object; if it succeeds, the lake already has what the receipt was read from.
    deps.raw_zone.write(base, response)
    result = normalize_expense(response, base=base, ocr_engine=deps.settings.ocr_engine)
    result = categorize(result, deps.categorizer)
    transition = deps.repository.complete(result)
    if not transition.applied:
        return _duplicate(key, transition.receipt, deps)
    stored = transition.receipt
    deps.telemetry.count("Processed" if stored.status is Status.PROCESSED else "NeedsReview")
    started = uploaded_at or base.uploaded_at
    deps.telemetry.milliseconds("UploadToStoredLatency", (deps.clock() - started).total_seconds() * 1000)
    logger.info(
        "Receipt stored",
        extra={
            "status": stored.status.value,
            "review_reasons": stored.review_reasons,
            "pages": document.pages if document else None,
            "line_items": len(stored.line_items),
        },
    )
    return Outcome(
        Result(stored.status.value), key, stored.receipt_id, "; ".join(stored.review_reasons) or None
    )


def _fail(
    receipt: Receipt, code: str, reason: str, deps: Deps, *, key: str | None, size: Any = None
) -> Outcome:
    update: dict[str, Any] = {"status": Status.FAILED, "failure_reason": reason}
    if key:
        update["object_key"] = key
    if isinstance(size, int) and size >= 0:
        update["size_bytes"] = size
    transition = deps.repository.complete(receipt.model_copy(update=update))
    if not transition.applied:
        return _duplicate(key, transition.receipt, deps)
    deps.telemetry.count("Failed", dimensions={"reason": code})
    logger.warning("Receipt failed", extra={"reason_code": code, "failure_reason": reason})
    return Outcome(Result.FAILED, key, receipt.receipt_id, reason)


def _duplicate(key: str | None, receipt: Receipt, deps: Deps) -> Outcome:
    deps.telemetry.count("Duplicates")
    logger.info("Receipt already done; event ignored", extra={"status": receipt.status.value})
    return Outcome(Result.DUPLICATE, key, receipt.receipt_id)


def _quarantine(bucket: str, key: str, why: str, deps: Deps) -> Outcome:
    target = deps.storage.quarantine(bucket, key, prefix=deps.settings.quarantine_prefix)
    deps.telemetry.count("Quarantined")
    logger.warning("Upload quarantined", extra={"key": key, "moved_to": target, "why": why})
    return Outcome(Result.QUARANTINED, key, reason=why)


def _event_time(record: Mapping[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(record["eventTime"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None


# ---- Textract job completions (multi-page PDFs) -------------------------------------------


def process_textract_completion(
    message: Mapping[str, Any], deps: Deps, *, final_attempt: bool = False
) -> Outcome:
    """StartExpenseAnalysis finished: fetch every page and store the receipt like any other."""
    location = message.get("DocumentLocation") or {}
    key = str(location.get("S3ObjectName", ""))
    owner = _owner(key, deps)
    if isinstance(owner, Outcome):
        logger.error("Textract completion for an unknown receipt", extra={"key": key})
        deps.telemetry.count("UnrecognizedMessages")
        return Outcome(Result.IGNORED, key, reason=owner.reason)
    receipt = owner
    logger.set_correlation_id(receipt.receipt_id)
    if receipt.status is not Status.PENDING:
        return _duplicate(key, receipt, deps)
    if message.get("Status") != "SUCCEEDED":
        return _fail(receipt, "textract_job_failed", TEXTRACT_FAILED, deps, key=key)
    textract = deps.textract
    if not isinstance(textract, AsyncExpenseAnalyzer):
        raise TypeError("a Textract completion arrived but the analyzer cannot fetch job results")
    try:
        response = _timed(deps, lambda: textract.get_expense_analysis(str(message["JobId"])))
    except TextractUnavailable:
        if not final_attempt:
            raise
        return _fail(receipt, "textract_unavailable", GAVE_UP, deps, key=key)
    base = receipt.model_copy(update={"object_key": key, "content_type": "application/pdf"})
    return _store(base, response, deps, key=key, uploaded_at=None)
