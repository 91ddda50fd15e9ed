"""Load the rendered sample receipts for a user.

Most go straight into the table (with their image in the uploads bucket) so the demo starts
in seconds; the newest few take the real path — PENDING, upload, SQS, the ingest handler,
local OCR — so the demo also shows receipts being read.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time

from lambda_src.common.model import LineItem, Receipt, Status, Vendor
from lambda_src.common.repository import ReceiptExists, ReceiptRepository
from receiptlake.local.provision import LocalResources, client
from receiptlake.local.samples import SampleReceipt, generate, render

NAMESPACE = uuid.UUID("5f0c1d9e-7d4b-4c47-9a51-2f1b0f6e2b10")


def receipt_id_for(user_sub: str, index: int) -> str:
    return uuid.uuid5(NAMESPACE, f"{user_sub}/{index}").hex


def _read(sample: SampleReceipt, pending: Receipt) -> Receipt:
    return pending.model_copy(
        update={
            "status": Status.PROCESSED,
            "processed_at": pending.uploaded_at,
            "vendor": Vendor(name=sample.vendor, legal_name=sample.legal_name, address=sample.address),
            "purchase_date": sample.purchase_date,
            "currency": sample.currency,
            "subtotal": sample.subtotal,
            "tax": sample.tax,
            "tip": sample.tip or None,
            "total": sample.total,
            "category": sample.category,
            "line_items": [
                LineItem(
                    description=i.description,
                    quantity=i.quantity,
                    unit_price=i.unit_price,
                    amount=i.amount,
                    category=i.category,
                    category_confidence=1.0,
                )
                for i in sample.items
            ],
            "ocr_engine": "local",
        }
    )


def seed(resources: LocalResources, user_sub: str, *, through_pipeline: int = 3) -> int:
    """Create the sample receipts of ``user_sub`` (idempotent); returns how many were new."""
    repository = ReceiptRepository(
        resources.names.table, client("dynamodb", resources.endpoint, resources.region)
    )
    s3 = client("s3", resources.endpoint, resources.region)
    samples = generate()
    created = 0
    for index, sample in enumerate(samples):
        receipt_id = receipt_id_for(user_sub, index)
        key = f"uploads/{user_sub}/{receipt_id}.png"
        image = render(sample)
        pending = Receipt(
            receipt_id=receipt_id,
            user_id=user_sub,
            object_key=key,
            content_type="image/png",
            size_bytes=len(image),
            uploaded_at=datetime.combine(sample.purchase_date, time(12, 0), tzinfo=UTC),
        )
        try:
            repository.create_pending(pending)
        except ReceiptExists:
            continue
        created += 1
        if index < len(samples) - through_pipeline:
            # Stored first, then uploaded: the upload's S3 event finds a finished receipt
            # and is skipped as a duplicate, as a redelivered event would be.
            repository.complete(_read(sample, pending))
        s3.put_object(Bucket=resources.names.uploads_bucket, Key=key, Body=image, ContentType="image/png")
    return created
