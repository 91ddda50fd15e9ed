"""Erasure of everything the platform holds about the caller."""

from __future__ import annotations

from fastapi import APIRouter

from lambda_src.api import storage
from lambda_src.api.context import AppDeps, CurrentUser
from lambda_src.api.observability import logger
from lambda_src.api.problems import PROBLEM_RESPONSES
from lambda_src.api.schemas import ErasedCounts, ErasureReport

router = APIRouter(prefix="/api", tags=["account"], responses=PROBLEM_RESPONSES)


@router.delete(
    "/me",
    response_model=ErasureReport,
    summary="Erase all of my data (records, images, raw OCR now; lake and training sets next run)",
)
def erase_me(caller: CurrentUser, deps: AppDeps) -> ErasureReport:
    settings = deps.settings
    # The tombstone goes first: if anything below fails half-way, the next ETL and
    # training runs still purge the user, and calling this again finishes the job.
    storage.write_tombstone(deps, caller.sub, {})
    images = storage.delete_prefix(deps.s3, settings.uploads_bucket, storage.upload_prefix(caller.sub))
    raw = storage.delete_prefix(deps.s3, settings.lake_bucket, storage.raw_prefix(caller.sub))
    items = deps.repository.erase_user(caller.sub)
    erased = ErasedCounts(receipts=items.get("receipt", 0), images=images, raw_documents=raw)
    storage.write_tombstone(deps, caller.sub, erased.model_dump())
    logger.info("user data erased", extra={"erased": erased.model_dump(), "items": items})
    return ErasureReport(erased=erased)
