"""Spending analytics from the monthly aggregates, and an item's price history."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from lambda_src.api.context import AppDeps, CurrentUser
from lambda_src.api.problems import PROBLEM_RESPONSES, Problem
from lambda_src.api.schemas import ItemHistory, PricePoint, Summary
from lambda_src.common import keys
from lambda_src.common.model import Status
from lambda_src.common.repository import AggregateRow, ReceiptRepository

router = APIRouter(prefix="/api/analytics", tags=["analytics"], responses=PROBLEM_RESPONSES)

Group = Literal["month", "category", "vendor"]
_KIND: dict[str, str] = {"month": keys.AGG_MONTH, "category": keys.AGG_CATEGORY, "vendor": keys.AGG_VENDOR}
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
MAX_POINTS = 1000


def _shift(month: str, months: int) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    index = year * 12 + mon - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def resolve_range(from_: str | None, to: str | None, today: date) -> tuple[str, str]:
    """Missing ends default to a twelve-month window ending this month (or at ``to``)."""
    if to is None:
        this_month = keys.month_of(today)
        to = this_month if from_ is None or from_ <= this_month else from_
    if from_ is None:
        from_ = _shift(to, -11) if to >= "0001-12" else "0000-01"
    return from_, to


def summarize(
    repo: ReceiptRepository, sub: str, from_month: str, to_month: str, group: Group
) -> dict[str, Any]:
    """The summary for one user as the JSON body of ``Summary``, from aggregate items only.

    Plain dicts on purpose: a vendor summary has ~2,000 groups, and building and
    validating a model per group was most of the request (the shape is pinned by the
    ``Summary`` response model in the OpenAPI document and by the tests)."""
    monthly = repo.aggregates(sub, keys.AGG_MONTH, from_month, to_month)
    detail = monthly if group == "month" else repo.aggregates(sub, _KIND[group], from_month, to_month)
    # Per-currency totals and counts always come from the month rows: a receipt split
    # over three categories is still one receipt.
    totals: dict[str, Decimal] = defaultdict(Decimal)
    counts: dict[str, int] = defaultdict(int)
    for row in monthly:
        totals[row.currency] += row.total
        counts[row.currency] += row.count
    rows: dict[str, list[AggregateRow]] = defaultdict(list)
    for row in detail:
        rows[row.currency].append(row)
    currencies = []
    for currency in sorted(set(totals) | set(rows)):
        ordered = sorted(rows[currency], key=lambda r: (r.month, -r.total, r.key))
        currencies.append(
            {
                "currency": currency,
                "total": format(totals[currency], "f"),
                "count": counts[currency],
                "groups": [_group(r, group) for r in ordered],
            }
        )
    return {"from": from_month, "to": to_month, "group": group, "currencies": currencies}


def _group(row: AggregateRow, group: Group) -> dict[str, Any]:
    if group == "month":
        key = label = row.month
    else:
        key, label = f"{row.month}|{row.key}", row.label
    total = format(row.total, "f")
    return {"key": key, "label": label, "total": total, "count": row.count, "month": row.month}


@router.get("/summary", response_model=Summary, summary="Spending per month, category or vendor")
def summary(
    caller: CurrentUser,
    deps: AppDeps,
    from_: Annotated[
        str | None, Query(alias="from", pattern=_MONTH.pattern, description="YYYY-MM, inclusive")
    ] = None,
    to: Annotated[str | None, Query(pattern=_MONTH.pattern, description="YYYY-MM, inclusive")] = None,
    group: Group = "month",
) -> Response:
    from_month, to_month = resolve_range(from_, to, date.today())
    if from_month > to_month:
        raise Problem(400, "'from' is after 'to'; swap them.", kind="invalid-input")
    body = summarize(deps.repository, caller.sub, from_month, to_month, group)
    return Response(json.dumps(body, separators=(",", ":")), media_type="application/json")


@router.get(
    "/items",
    response_model=ItemHistory,
    summary="Price history of an item across receipts (a personal inflation index)",
)
def item_history(
    caller: CurrentUser,
    deps: AppDeps,
    q: Annotated[str, Query(min_length=2, max_length=100, description="e.g. milk")],
) -> ItemHistory:
    # Line items are not aggregated, so this reads the user's receipts (one partition
    # query); notebooks over the lake answer the same question at scale.
    needle = q.strip().lower()
    if len(needle) < 2:
        raise Problem(400, "Search for at least two letters, e.g. 'milk'.", kind="invalid-input")
    points: list[PricePoint] = []
    for receipt in deps.repository.iter_receipts(caller.sub):
        if receipt.status not in (Status.PROCESSED, Status.NEEDS_REVIEW):
            continue
        for item in receipt.line_items:
            if needle not in item.description.lower():
                continue
            unit_price = item.unit_price
            if unit_price is None and item.amount is not None and item.quantity:
                unit_price = (item.amount / item.quantity).quantize(Decimal("0.0001"))
            points.append(
                PricePoint(
                    date=receipt.spend_date,
                    vendor=receipt.vendor.name,
                    description=item.description,
                    quantity=item.quantity,
                    unit_price=unit_price,
                    amount=item.amount,
                    currency=receipt.currency,
                    receipt_id=receipt.receipt_id,
                )
            )
    points.sort(key=lambda p: (p.date, p.receipt_id))
    return ItemHistory(query=q, points=points[-MAX_POINTS:])
