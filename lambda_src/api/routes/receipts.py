"""Receipts: upload slots, listing and search, one receipt, corrections, delete, retry."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from lambda_src.api import duplicates, storage
from lambda_src.api.context import AppDeps, CurrentUser, checked_receipt_id
from lambda_src.api.problems import PROBLEM_RESPONSES, Problem, not_found
from lambda_src.api.review import review_problems
from lambda_src.api.schemas import (
    IsoDate,
    ReceiptEnvelope,
    ReceiptPage,
    ReceiptPatch,
    ReceiptView,
    UploadRequest,
    UploadSlot,
)
from lambda_src.common import keys
from lambda_src.common.model import Receipt, Status
from lambda_src.common.repository import ReceiptExists, ReceiptNotFound

router = APIRouter(prefix="/api/receipts", tags=["receipts"], responses=PROBLEM_RESPONSES)

# Cursors name the index they came from, so one from the date listing cannot be replayed
# against the status listing (or the other way round).
_DATE_CURSOR = "d."
_STATUS_CURSOR = "s."


def _conflict_responses(*codes: int) -> dict[int | str, dict[str, object]]:
    return {code: PROBLEM_RESPONSES[400] | {"description": str(code)} for code in codes}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UploadSlot,
    responses=_conflict_responses(409, 413),
    summary="Ask for an upload slot; records the receipt as PENDING",
)
def create_upload(body: UploadRequest, caller: CurrentUser, deps: AppDeps) -> UploadSlot:
    limit = deps.settings.max_upload_bytes
    if body.size_bytes > limit:
        raise Problem(
            413,
            f"The file is {body.size_bytes} bytes; the limit is {limit} bytes "
            f"({limit // (1024 * 1024)} MB). Upload a smaller scan or photo.",
            kind="file-too-large",
        )
    duplicate_of = duplicates.same_image(deps, caller.sub, body.sha256)
    for _ in range(3):
        receipt_id = uuid.uuid4().hex
        key = storage.upload_key(caller.sub, receipt_id, body.content_type)
        receipt = Receipt(
            receipt_id=receipt_id,
            user_id=caller.sub,
            object_key=key,
            content_type=body.content_type,
            size_bytes=body.size_bytes,
            image_sha256=body.sha256,
            duplicate_of=duplicate_of,
        )
        try:
            deps.repository.create_pending(receipt)
            break
        except ReceiptExists:  # a uuid4 collision: vanishingly rare, but never overwrite
            continue
    else:  # pragma: no cover
        raise Problem(409, "Could not allocate a receipt id; try again.")
    if duplicate_of is None:
        duplicates.remember_image(deps, caller.sub, body.sha256, receipt_id)
    upload = storage.presign_upload(deps, key, body.content_type)
    return UploadSlot(receipt=receipt, upload=upload, duplicate_of=duplicate_of)


def _matches(
    category: str | None, vendor: str | None, q: str | None, start: date | None, end: date | None
) -> Callable[[Receipt], bool] | None:
    if not any((category, vendor, q, start, end)):
        return None
    category_l = category.lower() if category else None
    vendor_l = vendor.lower() if vendor else None
    vendor_k = keys.vendor_key(vendor) if vendor else None
    q_l = q.lower() if q else None

    def predicate(r: Receipt) -> bool:
        if (start and r.spend_date < start) or (end and r.spend_date > end):
            return False
        if category_l and not (
            (r.category or "").lower() == category_l
            or any((i.category or "").lower() == category_l for i in r.line_items)
        ):
            return False
        name = (r.vendor.name or "").lower()
        if vendor_l and not (vendor_l in name or keys.vendor_key(r.vendor.name) == vendor_k):
            return False
        return not q_l or q_l in name or any(q_l in i.description.lower() for i in r.line_items)

    return predicate


@router.get("", response_model=ReceiptPage, summary="List and search receipts, newest first")
def list_receipts(
    caller: CurrentUser,
    deps: AppDeps,
    from_: Annotated[IsoDate | None, Query(alias="from", description="YYYY-MM-DD, inclusive")] = None,
    to: Annotated[IsoDate | None, Query(description="YYYY-MM-DD, inclusive")] = None,
    category: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    vendor: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    status_: Annotated[
        Status | None, Query(alias="status", description="e.g. NEEDS_REVIEW: the review queue")
    ] = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=100, description="text in vendor or items")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> ReceiptPage:
    if from_ and to and from_ > to:
        raise Problem(400, "'from' is after 'to'; swap them.", kind="invalid-input")
    repo = deps.repository
    if status_ is not None:
        raw = _unwrap(cursor, _STATUS_CURSOR)
        # The status index has no date order: dates become a filter like the others.
        predicate = _matches(category, vendor, q, from_, to)
        page = repo.list_by_status(caller.sub, status_, cursor=raw, limit=limit, predicate=predicate)
        prefix = _STATUS_CURSOR
    else:
        raw = _unwrap(cursor, _DATE_CURSOR)
        page = repo.list_by_date(
            caller.sub,
            from_,
            to,
            cursor=raw,
            limit=limit,
            predicate=_matches(category, vendor, q, None, None),
        )
        prefix = _DATE_CURSOR
    next_cursor = prefix + page.next_cursor if page.next_cursor else None
    return ReceiptPage(items=page.items, next_cursor=next_cursor)


def _unwrap(cursor: str | None, prefix: str) -> str | None:
    if cursor is None:
        return None
    if not cursor.startswith(prefix) or len(cursor) == len(prefix):
        raise Problem(
            400,
            "The cursor belongs to another listing; start again without it.",
            kind="invalid-cursor",
        )
    return cursor[len(prefix) :]


@router.get(
    "/{receipt_id}",
    response_model=ReceiptView,
    summary="One receipt and a short-lived URL of its image",
)
def get_receipt(receipt_id: str, caller: CurrentUser, deps: AppDeps) -> ReceiptView:
    receipt = _require(deps, caller.sub, receipt_id)
    if receipt.duplicate_of is None:
        # Not stored: the other receipt may be corrected or deleted later.
        twin = duplicates.same_purchase(deps, caller.sub, receipt)
        if twin:
            receipt = receipt.model_copy(update={"duplicate_of": twin})
    return ReceiptView(receipt=receipt, image_url=storage.image_url(deps, caller.sub, receipt.object_key))


@router.patch(
    "/{receipt_id}",
    response_model=ReceiptEnvelope,
    responses=_conflict_responses(409),
    summary="Correct fields and line items (kept for retraining)",
)
def correct_receipt(
    receipt_id: str, body: ReceiptPatch, caller: CurrentUser, deps: AppDeps
) -> ReceiptEnvelope:
    current = _require(deps, caller.sub, receipt_id)
    changes = body.changes()
    if not changes:
        raise Problem(
            400,
            'Send at least one field to correct, e.g. {"total": "12.50"}.',
            kind="invalid-input",
        )
    new_status: Status | None = None
    if current.status in (Status.NEEDS_REVIEW, Status.FAILED):
        candidate = Receipt.model_validate({**current.model_dump(), **changes})
        if not review_problems(candidate):
            new_status = Status.PROCESSED
    try:
        receipt = deps.repository.correct(
            caller.sub, receipt_id, changes, expected_version=body.version, new_status=new_status
        )
    except ReceiptNotFound as exc:  # deleted between the read and the write
        raise not_found(receipt_id) from exc
    return ReceiptEnvelope(receipt=receipt)


@router.delete(
    "/{receipt_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a receipt, its image and its raw OCR output",
)
def delete_receipt(receipt_id: str, caller: CurrentUser, deps: AppDeps) -> Response:
    _require(deps, caller.sub, receipt_id)
    try:
        removed = deps.repository.delete(caller.sub, receipt_id)
    except ReceiptNotFound as exc:
        raise not_found(receipt_id) from exc
    if removed.object_key and removed.object_key.startswith(storage.upload_prefix(caller.sub)):
        storage.delete_object(deps.s3, deps.settings.uploads_bucket, removed.object_key)
    storage.delete_object(deps.s3, deps.settings.lake_bucket, storage.raw_key(caller.sub, receipt_id))
    duplicates.forget_image(deps, caller.sub, removed)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{receipt_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ReceiptEnvelope,
    responses=_conflict_responses(409),
    summary="Read a FAILED or NEEDS_REVIEW receipt again",
)
def retry_receipt(receipt_id: str, caller: CurrentUser, deps: AppDeps) -> ReceiptEnvelope:
    current = _require(deps, caller.sub, receipt_id)
    if current.status not in (Status.FAILED, Status.NEEDS_REVIEW):
        raise Problem(
            409,
            f"Only FAILED or NEEDS_REVIEW receipts can be read again; this one is {current.status}.",
            kind="invalid-state",
        )
    key = current.object_key
    size = (
        storage.object_size(deps, key) if key and key.startswith(storage.upload_prefix(caller.sub)) else None
    )
    if key is None or size is None:
        raise Problem(
            409,
            "The image of this receipt is gone, so it cannot be read again; upload it anew.",
            kind="image-missing",
        )
    receipt = deps.repository.reset_for_retry(caller.sub, receipt_id)
    # Same message S3 would send, so the ingest worker takes its usual path.
    deps.sqs.send_message(
        QueueUrl=deps.settings.ingest_queue_url,
        MessageBody=json.dumps(storage.s3_notification(deps, key, size)),
    )
    return ReceiptEnvelope(receipt=receipt)


def _require(deps: AppDeps, sub: str, receipt_id: str) -> Receipt:
    checked_receipt_id(receipt_id)
    receipt = deps.repository.get(sub, receipt_id)
    if receipt is None:
        raise not_found(receipt_id)
    return receipt
