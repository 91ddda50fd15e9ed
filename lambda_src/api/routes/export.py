"""CSV export: one row per line item (a receipt without items gets one row), streamed."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from lambda_src.api.context import AppDeps, CurrentUser
from lambda_src.api.problems import PROBLEM_RESPONSES, Problem
from lambda_src.api.schemas import IsoDate
from lambda_src.common.model import LineItem, Receipt
from lambda_src.common.repository import Page, ReceiptRepository

router = APIRouter(prefix="/api", tags=["export"], responses=PROBLEM_RESPONSES)

COLUMNS = (
    "receipt_id",
    "status",
    "purchase_date",
    "vendor",
    "currency",
    "subtotal",
    "tax",
    "tip",
    "discount",
    "total",
    "payment_method",
    "category",
    "item_number",
    "item_description",
    "item_quantity",
    "item_unit_price",
    "item_amount",
    "item_category",
)
PAGE_SIZE = 200


def _text(value: str | None) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas; a vendor name or item
    read off a receipt is untrusted text, so neutralise it."""
    if not value:
        return ""
    return "'" + value if value[0] in "=+-@\t\r" else value


def _money(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


def rows(receipt: Receipt) -> Iterator[list[str]]:
    head = [
        receipt.receipt_id,
        receipt.status.value,
        receipt.spend_date.isoformat(),
        _text(receipt.vendor.name),
        receipt.currency or "",
        _money(receipt.subtotal),
        _money(receipt.tax),
        _money(receipt.tip),
        _money(receipt.discount),
        _money(receipt.total),
        _text(receipt.payment_method),
        _text(receipt.category),
    ]
    items: list[tuple[int, LineItem | None]] = list(enumerate(receipt.line_items, 1)) or [(0, None)]
    for number, item in items:
        if item is None:
            yield [*head, "", "", "", "", "", ""]
        else:
            yield [
                *head,
                str(number),
                _text(item.description),
                _money(item.quantity),
                _money(item.unit_price),
                _money(item.amount),
                _text(item.category),
            ]


def stream_csv(
    repo: ReceiptRepository, sub: str, start: date | None, end: date | None, first: Page
) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(COLUMNS)
    page = first
    while True:
        for receipt in page.items:
            for row in rows(receipt):
                writer.writerow(row)
        yield flush()
        if not page.next_cursor:
            return
        page = repo.list_by_date(
            sub, start, end, cursor=page.next_cursor, limit=PAGE_SIZE, newest_first=False
        )


@router.get(
    "/export.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "CSV"}},
    summary="Receipts and line items as CSV, oldest first",
)
def export_csv(
    caller: CurrentUser,
    deps: AppDeps,
    from_: Annotated[IsoDate | None, Query(alias="from", description="YYYY-MM-DD, inclusive")] = None,
    to: Annotated[IsoDate | None, Query(description="YYYY-MM-DD, inclusive")] = None,
) -> StreamingResponse:
    if from_ and to and from_ > to:
        raise Problem(400, "'from' is after 'to'; swap them.", kind="invalid-input")
    # Read the first page before answering, so a failure is a proper error response
    # rather than a truncated 200.
    first = deps.repository.list_by_date(caller.sub, from_, to, limit=PAGE_SIZE, newest_first=False)
    name = f"receipts-{from_ or 'start'}-{to or 'today'}.csv"
    return StreamingResponse(
        stream_csv(deps.repository, caller.sub, from_, to, first),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
