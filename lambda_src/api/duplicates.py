"""Likely duplicates: the same file uploaded twice, or the same purchase scanned twice.

* Same image: the browser sends the file's SHA-256 with the upload request; a marker item
  ``USER#{sub} / UPLOADHASH#{sha256}`` names the first receipt with that hash, so the
  check is one GetItem however many receipts the user has.
* Same purchase: once a receipt has been read, another receipt of the same user with the
  same vendor, date, currency and total (one GSI1 query on that single day).
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from lambda_src.api.deps import Deps
from lambda_src.common import keys
from lambda_src.common.model import Receipt, Status

HASH_PREFIX = "UPLOADHASH#"


def _hash_key(sub: str, sha256: str) -> dict[str, dict[str, str]]:
    return {keys.PK: {"S": keys.user_pk(sub)}, keys.SK: {"S": HASH_PREFIX + sha256}}


def same_image(deps: Deps, sub: str, sha256: str | None) -> str | None:
    """The id of the user's receipt uploaded with this hash, if it still exists."""
    if not sha256:
        return None
    item = deps.dynamodb.get_item(
        TableName=deps.settings.table_name, Key=_hash_key(sub, sha256), ConsistentRead=True
    ).get("Item")
    if not item:
        return None
    receipt_id = item["receipt_id"]["S"]
    return receipt_id if deps.repository.get(sub, receipt_id) is not None else None


def remember_image(deps: Deps, sub: str, sha256: str | None, receipt_id: str) -> None:
    if not sha256:
        return
    deps.dynamodb.put_item(
        TableName=deps.settings.table_name,
        Item={
            **_hash_key(sub, sha256),
            "receipt_id": {"S": receipt_id},
            "item_type": {"S": "upload_hash"},
        },
    )


def forget_image(deps: Deps, sub: str, receipt: Receipt) -> None:
    """Drop the marker if it points at this (deleted) receipt; leave it otherwise."""
    if not receipt.image_sha256:
        return
    try:
        deps.dynamodb.delete_item(
            TableName=deps.settings.table_name,
            Key=_hash_key(sub, receipt.image_sha256),
            ConditionExpression="receipt_id = :rid",
            ExpressionAttributeValues={":rid": {"S": receipt.receipt_id}},
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise


def same_purchase(deps: Deps, sub: str, receipt: Receipt) -> str | None:
    """Another read receipt with the same vendor, date, currency and total."""
    if (
        receipt.status not in (Status.PROCESSED, Status.NEEDS_REVIEW)
        or receipt.purchase_date is None
        or receipt.total is None
    ):
        return None
    vendor = keys.vendor_key(receipt.vendor.name)

    def match(other: Receipt) -> bool:
        return (
            other.receipt_id != receipt.receipt_id
            and other.status in (Status.PROCESSED, Status.NEEDS_REVIEW)
            and other.total == receipt.total
            and other.currency == receipt.currency
            and keys.vendor_key(other.vendor.name) == vendor
        )

    page = deps.repository.list_by_date(
        sub, receipt.purchase_date, receipt.purchase_date, limit=1, newest_first=False, predicate=match
    )
    return page.items[0].receipt_id if page.items else None
