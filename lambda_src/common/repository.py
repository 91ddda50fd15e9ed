"""The receipts table: every change to a receipt goes through one guarded transaction.

Each write is ``_commit(old, new)``: the receipt item is written on condition that its
version is still the one read, and in the same transaction the user's monthly aggregates
move by ``contributions(new) - contributions(old)``. A repeated, retried or concurrent
call therefore either applies once or changes nothing, and the aggregates always equal
a recomputation from the receipts.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from lambda_src.common import keys
from lambda_src.common.model import CORRECTABLE_FIELDS, Receipt, Status, utcnow

if TYPE_CHECKING:
    from lambda_src.common.aggregate_items import AggregateCell

MAX_TRANSACTION_ITEMS = 100
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class RepositoryError(Exception):
    """Base for errors a caller can act on."""


class ReceiptNotFound(RepositoryError):
    pass


class ReceiptExists(RepositoryError):
    pass


class VersionConflict(RepositoryError):
    """The receipt changed since it was read; read it again and retry."""


class InvalidTransition(RepositoryError):
    pass


class InvalidCursor(RepositoryError):
    pass


@dataclass(frozen=True)
class Transition:
    """Result of a status change: ``applied`` is False when it had already happened."""

    applied: bool
    receipt: Receipt


@dataclass(frozen=True)
class Page:
    items: list[Receipt]
    next_cursor: str | None


AggKey = tuple[str, str, str, str]  # kind, month, currency, key


@dataclass
class _Delta:
    amounts: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    count: int = 0
    label: str = ""

    def is_zero(self) -> bool:
        return self.count == 0 and not any(self.amounts.values())


def contributions(receipt: Receipt | None) -> dict[AggKey, _Delta]:
    """What one receipt adds to its owner's aggregates (nothing unless it counts)."""
    out: dict[AggKey, _Delta] = {}
    if receipt is None or not receipt.counts_as_spending:
        return out
    assert receipt.total is not None and receipt.currency is not None
    month = keys.month_of(receipt.spend_date)
    cur = receipt.currency

    m = out[(keys.AGG_MONTH, month, cur, "")] = _Delta(count=1)
    m.amounts["total"] += receipt.total
    m.amounts["tax"] += receipt.tax or Decimal(0)
    m.amounts["tip"] += receipt.tip or Decimal(0)

    for category, amount in receipt.category_split().items():
        c = out[(keys.AGG_CATEGORY, month, cur, category)] = _Delta(count=1, label=category)
        c.amounts["total"] += amount

    vendor_name = receipt.vendor.name or "Unknown vendor"
    v = out[(keys.AGG_VENDOR, month, cur, keys.vendor_key(receipt.vendor.name))] = _Delta(
        count=1, label=vendor_name
    )
    v.amounts["total"] += receipt.total
    return out


def aggregate_deltas(old: Receipt | None, new: Receipt | None) -> dict[AggKey, _Delta]:
    deltas: dict[AggKey, _Delta] = {}
    for sign, receipt in ((-1, old), (1, new)):
        for key, contribution in contributions(receipt).items():
            d = deltas.setdefault(key, _Delta())
            d.count += sign * contribution.count
            for name, amount in contribution.amounts.items():
                d.amounts[name] += sign * amount
            if sign > 0:
                d.label = contribution.label
    return {k: d for k, d in deltas.items() if not d.is_zero() or d.label}


def _to_attr(value: Any) -> dict[str, Any]:
    result: dict[str, Any] = _serializer.serialize(value)
    return result


def _serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _to_attr(v) for k, v in item.items()}


def _deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def receipt_to_item(receipt: Receipt) -> dict[str, Any]:
    # JSON first: money becomes decimal strings, confidences Decimals (DynamoDB has no float).
    body: dict[str, Any] = json.loads(receipt.model_dump_json(), parse_float=Decimal)
    body.update(
        {
            keys.PK: keys.user_pk(receipt.user_id),
            keys.SK: keys.receipt_sk(receipt.receipt_id),
            keys.GSI1_PK: keys.user_pk(receipt.user_id),
            keys.GSI1_SK: keys.by_date_sk(receipt.spend_date, receipt.receipt_id),
            keys.GSI2_PK: keys.by_status_pk(receipt.user_id, receipt.status.value),
            keys.GSI2_SK: f"{receipt.uploaded_at.isoformat()}#{receipt.receipt_id}",
            "item_type": "receipt",
        }
    )
    return body


def item_to_receipt(item: Mapping[str, Any]) -> Receipt:
    body = {k: v for k, v in item.items() if k in Receipt.model_fields}
    return Receipt.model_validate(body)


def _encode_cursor(key: Mapping[str, Any]) -> str:
    plain = {k: _deserializer.deserialize(v) for k, v in key.items()}
    raw = json.dumps(plain, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, user_id: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        plain = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor("the cursor is not one this API returned") from exc
    if not isinstance(plain, dict) or plain.get(keys.PK) != keys.user_pk(user_id):
        raise InvalidCursor("the cursor is not one this API returned")
    if not all(isinstance(v, str) for v in plain.values()):
        raise InvalidCursor("the cursor is not one this API returned")
    return {k: {"S": v} for k, v in plain.items()}


class ReceiptRepository:
    """All reads and writes of receipts and their aggregates, scoped to one user id."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table_name = table_name
        self.client = client or boto3.client("dynamodb")

    # ---- reads -------------------------------------------------------------------
    def get(self, user_id: str, receipt_id: str) -> Receipt | None:
        response = self.client.get_item(
            TableName=self.table_name,
            Key=_serialize({keys.PK: keys.user_pk(user_id), keys.SK: keys.receipt_sk(receipt_id)}),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return item_to_receipt(_deserialize(item)) if item else None

    def require(self, user_id: str, receipt_id: str) -> Receipt:
        receipt = self.get(user_id, receipt_id)
        if receipt is None:
            raise ReceiptNotFound(f"receipt {receipt_id} not found")
        return receipt

    def list_by_date(
        self,
        user_id: str,
        start: date | None = None,
        end: date | None = None,
        *,
        cursor: str | None = None,
        limit: int = 50,
        newest_first: bool = True,
        predicate: Callable[[Receipt], bool] | None = None,
    ) -> Page:
        """A user's receipts by spend date (inclusive range), ``limit`` at a time."""
        low = (start or date(1900, 1, 1)).isoformat()
        high = (end or date(9999, 12, 31)).isoformat() + "#~"
        return self._page(
            index=keys.GSI1,
            key_condition=f"{keys.GSI1_PK} = :pk AND {keys.GSI1_SK} BETWEEN :lo AND :hi",
            values={":pk": keys.user_pk(user_id), ":lo": low, ":hi": high},
            user_id=user_id,
            cursor=cursor,
            limit=limit,
            forward=not newest_first,
            predicate=predicate,
        )

    def list_by_status(
        self,
        user_id: str,
        status: Status,
        *,
        cursor: str | None = None,
        limit: int = 50,
        predicate: Callable[[Receipt], bool] | None = None,
    ) -> Page:
        """The review queue (or any status), oldest upload first; ``predicate`` filters
        like in ``list_by_date``."""
        return self._page(
            index=keys.GSI2,
            key_condition=f"{keys.GSI2_PK} = :pk",
            values={":pk": keys.by_status_pk(user_id, status.value)},
            user_id=user_id,
            cursor=cursor,
            limit=limit,
            forward=True,
            predicate=predicate,
        )

    def _page(
        self,
        *,
        index: str,
        key_condition: str,
        values: Mapping[str, str],
        user_id: str,
        cursor: str | None,
        limit: int,
        forward: bool,
        predicate: Callable[[Receipt], bool] | None,
    ) -> Page:
        if not 1 <= limit <= 1000:
            raise ValueError("limit must be between 1 and 1000")
        start_key = _decode_cursor(cursor, user_id) if cursor else None
        items: list[Receipt] = []
        index_keys = (keys.GSI1_PK, keys.GSI1_SK) if index == keys.GSI1 else (keys.GSI2_PK, keys.GSI2_SK)
        last_raw: dict[str, Any] | None = None
        while True:
            request: dict[str, Any] = {
                "TableName": self.table_name,
                "IndexName": index,
                "KeyConditionExpression": key_condition,
                "ExpressionAttributeValues": _serialize(values),
                "ScanIndexForward": forward,
                "Limit": max(limit - len(items), 1) if predicate is None else max(limit, 25),
            }
            if start_key:
                request["ExclusiveStartKey"] = start_key
            try:
                response = self.client.query(**request)
            except ClientError as exc:
                if exc.response["Error"]["Code"] == "ValidationException" and cursor:
                    raise InvalidCursor("the cursor is not one this API returned") from exc
                raise
            page_items = response.get("Items", [])
            left_in_page = False
            for position, raw in enumerate(page_items):
                receipt = item_to_receipt(_deserialize(raw))
                last_raw = raw
                if predicate is None or predicate(receipt):
                    items.append(receipt)
                    if len(items) == limit:
                        left_in_page = position < len(page_items) - 1
                        break
            start_key = response.get("LastEvaluatedKey")
            if len(items) == limit or not start_key:
                break
        more = len(items) == limit and (left_in_page or start_key is not None)
        if not more or last_raw is None:
            return Page(items, None)
        # Resume after the last item returned, which works whether or not a filter skipped some.
        resume = {k: last_raw[k] for k in (keys.PK, keys.SK, *index_keys)}
        return Page(items, _encode_cursor(resume))

    def iter_receipts(self, user_id: str) -> Iterator[Receipt]:
        for item in self._iter_partition(user_id, "RECEIPT#"):
            yield item_to_receipt(item)

    def _iter_partition(self, user_id: str, prefix: str) -> Iterator[dict[str, Any]]:
        paginator = self.client.get_paginator("query")
        condition = f"{keys.PK} = :pk"
        values = {":pk": keys.user_pk(user_id)}
        if prefix:
            condition += f" AND begins_with({keys.SK}, :prefix)"
            values[":prefix"] = prefix
        for page in paginator.paginate(
            TableName=self.table_name,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=_serialize(values),
        ):
            for raw in page.get("Items", []):
                yield _deserialize(raw)

    def aggregate_cells(self, user_id: str, kind: str, from_month: str, to_month: str) -> list[AggregateCell]:
        """Aggregate rows of one kind for months ``from_month..to_month`` (YYYY-MM), non-empty
        only, in key order, as plain tuples ``(month, currency, key, label, total, count)``
        with ``total`` the number exactly as DynamoDB sent it (a decimal string): the
        summary reads ~2,000 of these per request, and a tuple of wire values is several
        times cheaper than a row object with Decimals it would only format back."""
        # Imported here: only the API reads aggregates, and ingest's cold start and bundle
        # go without msgspec.
        from lambda_src.common.aggregate_items import read_cells

        return read_cells(self.client, self.table_name, user_id, kind, from_month, to_month)

    # ---- writes ------------------------------------------------------------------
    def create_pending(self, receipt: Receipt) -> Receipt:
        if receipt.status is not Status.PENDING:
            raise InvalidTransition("a new receipt starts PENDING")
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=_serialize(receipt_to_item(receipt)),
                ConditionExpression=f"attribute_not_exists({keys.PK})",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ReceiptExists(f"receipt {receipt.receipt_id} already exists") from exc
            raise
        return receipt

    def complete(self, result: Receipt) -> Transition:
        """Move a PENDING receipt to its terminal status, exactly once.

        ``result`` is the stored receipt with what was read filled in. A second call
        (duplicate event, retry, concurrent worker) returns the stored receipt with
        ``applied=False`` and changes nothing.
        """
        if not result.status.terminal:
            raise InvalidTransition("complete() needs PROCESSED, NEEDS_REVIEW or FAILED")
        for attempt in range(8):
            if attempt == 0:
                # Callers build ``result`` from the PENDING receipt they read, so its version
                # is the one to guard on, and a PENDING receipt adds nothing to aggregates:
                # no need to read it again. If the guess is wrong the guard fails, and we read.
                current = result.model_copy(update={"status": Status.PENDING})
            else:
                current = self.require(result.user_id, result.receipt_id)
                if current.status is not Status.PENDING:
                    return Transition(False, current)
            new = result.model_copy(
                update={
                    "version": current.version + 1,
                    "processed_at": result.processed_at or utcnow(),
                    "uploaded_at": current.uploaded_at,
                }
            )
            if self._commit(current, new, require_status=Status.PENDING, attempt=attempt):
                return Transition(True, new)
        raise VersionConflict(f"receipt {result.receipt_id} kept changing; try again")

    def correct(
        self,
        user_id: str,
        receipt_id: str,
        changes: Mapping[str, Any],
        *,
        expected_version: int | None = None,
        new_status: Status | None = None,
        now: datetime | None = None,
    ) -> Receipt:
        """Apply a person's corrections; aggregates move by the difference and every
        changed field is kept (field, old, new, when) for retraining."""
        unknown = set(changes) - CORRECTABLE_FIELDS
        if unknown:
            raise InvalidTransition(f"these fields cannot be corrected: {', '.join(sorted(unknown))}")
        current = self.require(user_id, receipt_id)
        if expected_version is not None and expected_version != current.version:
            raise VersionConflict(
                f"receipt {receipt_id} is at version {current.version}, not {expected_version}"
            )
        if current.status is Status.PENDING:
            raise InvalidTransition("the receipt is still being read; correct it once it is done")
        now = now or utcnow()
        merged = current.model_dump()
        merged.update(changes)
        candidate = Receipt.model_validate(merged)
        changed = [f for f in sorted(changes) if getattr(candidate, f) != getattr(current, f)]
        if not changed and new_status in (None, current.status):
            return current
        updates: dict[str, Any] = {
            "version": current.version + 1,
            "corrected_fields": sorted(set(current.corrected_fields) | set(changed)),
        }
        if new_status is not None:
            updates["status"] = new_status
            if new_status is Status.PROCESSED:
                updates["review_reasons"] = []
                updates["failure_reason"] = None
        new = candidate.model_copy(update=updates)
        history = [
            {
                keys.PK: keys.user_pk(user_id),
                keys.SK: keys.correction_sk(receipt_id, f"{now.isoformat()}#{name}"),
                "item_type": "correction",
                "receipt_id": receipt_id,
                "field": name,
                "old": _json_value(getattr(current, name)),
                "new": _json_value(getattr(new, name)),
                "corrected_at": now.isoformat(),
            }
            for name in changed
        ]
        if not self._commit(current, new, extra_puts=history):
            raise VersionConflict(f"receipt {receipt_id} changed meanwhile; read it again")
        return new

    def reset_for_retry(self, user_id: str, receipt_id: str) -> Receipt:
        """FAILED or NEEDS_REVIEW back to PENDING, its spending taken out until re-read."""
        current = self.require(user_id, receipt_id)
        if current.status not in (Status.FAILED, Status.NEEDS_REVIEW):
            raise InvalidTransition(
                f"only FAILED or NEEDS_REVIEW receipts can be retried, not {current.status}"
            )
        new = current.model_copy(
            update={
                "status": Status.PENDING,
                "failure_reason": None,
                "review_reasons": [],
                "processed_at": None,
                "version": current.version + 1,
            }
        )
        if not self._commit(current, new):
            raise VersionConflict(f"receipt {receipt_id} changed meanwhile; try again")
        return new

    def delete(self, user_id: str, receipt_id: str) -> Receipt:
        """Delete one receipt and take its spending out of the aggregates."""
        for attempt in range(8):
            current = self.require(user_id, receipt_id)
            if self._commit(current, None, attempt=attempt):
                return current
        raise VersionConflict(f"receipt {receipt_id} kept changing; try again")

    def erase_user(self, user_id: str) -> dict[str, int]:
        """Remove every item of a user (receipts, corrections, aggregates)."""
        counts: dict[str, int] = defaultdict(int)
        batch: list[dict[str, Any]] = []
        for item in self._iter_partition(user_id, ""):
            counts[str(item.get("item_type", "aggregate"))] += 1
            batch.append({keys.PK: item[keys.PK], keys.SK: item[keys.SK]})
            if len(batch) == 25:
                self._delete_batch(batch)
                batch = []
        if batch:
            self._delete_batch(batch)
        return dict(counts)

    def _delete_batch(self, batch: list[dict[str, Any]]) -> None:
        requests: dict[str, Any] = {
            self.table_name: [{"DeleteRequest": {"Key": _serialize(k)}} for k in batch]
        }
        while requests:
            response = self.client.batch_write_item(RequestItems=requests)
            requests = response.get("UnprocessedItems") or {}
            if requests:
                time.sleep(0.05)

    def _commit(
        self,
        old: Receipt,
        new: Receipt | None,
        *,
        require_status: Status | None = None,
        extra_puts: list[dict[str, Any]] | None = None,
        attempt: int = 0,
    ) -> bool:
        """One transaction: the receipt (guarded by its version) plus aggregate moves.
        Returns False when the guard failed (someone else changed it first)."""
        receipt_key = _serialize(
            {keys.PK: keys.user_pk(old.user_id), keys.SK: keys.receipt_sk(old.receipt_id)}
        )
        condition = "#version = :version"
        names = {"#version": "version"}
        values: dict[str, Any] = {":version": old.version}
        if require_status is not None:
            condition += " AND #status = :status"
            names["#status"] = "status"
            values[":status"] = require_status.value
        guard = {
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": _serialize(values),
        }
        items: list[dict[str, Any]] = []
        if new is None:
            items.append({"Delete": {"TableName": self.table_name, "Key": receipt_key, **guard}})
        else:
            items.append(
                {"Put": {"TableName": self.table_name, "Item": _serialize(receipt_to_item(new)), **guard}}
            )
        for (kind, month, currency, key), delta in aggregate_deltas(old, new).items():
            items.append({"Update": self._aggregate_update(old.user_id, kind, month, currency, key, delta)})
        for extra in extra_puts or []:
            items.append({"Put": {"TableName": self.table_name, "Item": _serialize(extra)}})
        if len(items) > MAX_TRANSACTION_ITEMS:
            raise RepositoryError("a receipt may have at most 90 distinct categories")
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return False
            if "TransactionConflict" in reasons or not reasons:
                # Another transaction touched an aggregate item at the same moment.
                time.sleep(random.uniform(0, 0.02 * 2**attempt))  # noqa: S311 - jitter, not crypto
                return False
            raise
        return True

    def _aggregate_update(
        self, user_id: str, kind: str, month: str, currency: str, key: str, delta: _Delta
    ) -> dict[str, Any]:
        names = {"#count": "count"}
        values: dict[str, Any] = {":count": delta.count}
        adds = ["#count :count"]
        for i, (name, amount) in enumerate(sorted(delta.amounts.items())):
            names[f"#a{i}"] = name
            values[f":a{i}"] = amount
            adds.append(f"#a{i} :a{i}")
        sets = ["item_type = :type"]
        values[":type"] = "aggregate"
        if delta.label:
            names["#label"] = "label"
            values[":label"] = delta.label
            sets.append("#label = :label")
        expression = "ADD " + ", ".join(adds) + " SET " + ", ".join(sets)
        return {
            "TableName": self.table_name,
            "Key": _serialize(
                {
                    keys.PK: keys.user_pk(user_id),
                    keys.SK: keys.aggregate_sk(kind, month, currency, key),
                }
            ),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": _serialize(values),
        }


def _json_value(value: Any) -> str:
    if hasattr(value, "model_dump_json"):
        return str(value.model_dump_json())
    if isinstance(value, list):
        return json.dumps(
            [json.loads(v.model_dump_json()) if hasattr(v, "model_dump_json") else v for v in value],
            default=str,
        )
    return json.dumps(value, default=str)
