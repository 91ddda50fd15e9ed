"""Spending analytics from the monthly aggregates, and an item's price history."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from decimal import Decimal
from json.encoder import encode_basestring_ascii as _json_str
from operator import itemgetter
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from lambda_src.api.context import AppDeps, CurrentUser
from lambda_src.api.problems import PROBLEM_RESPONSES, Problem
from lambda_src.api.schemas import ItemHistory, PricePoint, Summary
from lambda_src.common import keys
from lambda_src.common.model import Status
from lambda_src.common.repository import ReceiptRepository

router = APIRouter(prefix="/api/analytics", tags=["analytics"], responses=PROBLEM_RESPONSES)

Group = Literal["month", "category", "vendor"]
_KIND: dict[str, str] = {"month": keys.AGG_MONTH, "category": keys.AGG_CATEGORY, "vendor": keys.AGG_VENDOR}
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
MAX_POINTS = 1000
MAX_TOP = 1000


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


# A summary row: month, amount, aggregate key, label, amount as sent by DynamoDB, count.
_Row = tuple[str, Decimal, str, str, str, int]
# A currency: its code, total and receipt count over the period, and its ordered rows.
_Currency = tuple[str, Decimal, int, list[_Row]]
# Decimal strings that format(Decimal(s), "f") gives back unchanged (no exponent, no
# leading zeros or sign): DynamoDB sends numbers this way, so rows skip the formatting.
_PLAIN_DECIMAL = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?")


def _money(amount: Decimal, text: str) -> str:
    return text if _PLAIN_DECIMAL.fullmatch(text) else format(amount, "f")


def _summary_rows(
    repo: ReceiptRepository,
    sub: str,
    from_month: str,
    to_month: str,
    group: Group,
    top: int | None = None,
) -> list[_Currency]:
    """Per currency (sorted by code): totals and counts from the month aggregates, and the
    chosen kind's rows ordered by month, then amount (largest first), then key. With
    ``top``, only the rows of the ``top`` keys with the largest totals over the period
    (then the most receipts, then the key) are kept; currency totals stay whole."""
    monthly = repo.aggregate_cells(sub, keys.AGG_MONTH, from_month, to_month)
    detail = monthly if group == "month" else repo.aggregate_cells(sub, _KIND[group], from_month, to_month)
    # Per-currency totals and counts always come from the month rows: a receipt split
    # over three categories is still one receipt.
    totals: dict[str, Decimal] = defaultdict(Decimal)
    counts: dict[str, int] = defaultdict(int)
    for _month, currency, _key, _label, text, count in monthly:
        totals[currency] += Decimal(text)
        counts[currency] += count
    rows: dict[str, list[_Row]] = defaultdict(list)
    for month, currency, key, label, text, count in detail:
        rows[currency].append((month, Decimal(text), key, label, text, count))
    out: list[_Currency] = []
    for currency in sorted(set(totals) | set(rows)):
        ordered = rows[currency]
        if top is not None:
            ordered = _top(ordered, top, by_month=group == "month")
        # (month, -amount, key) as three stable sorts on one field each: several times
        # cheaper than a tuple key per row (reverse=True keeps equal amounts in key order).
        ordered.sort(key=itemgetter(2))
        ordered.sort(key=itemgetter(1), reverse=True)
        ordered.sort(key=itemgetter(0))
        out.append((currency, totals[currency], counts[currency], ordered))
    return out


def _top(rows: list[_Row], top: int, *, by_month: bool) -> list[_Row]:
    """The rows of the ``top`` keys (months when grouping by month) with the largest totals."""
    sums: dict[str, list[Any]] = {}  # key -> [total, count]
    for month, amount, key, _label, _text, count in rows:
        cell = sums.get(month if by_month else key)
        if cell is None:
            sums[month if by_month else key] = [amount, count]
        else:
            cell[0] += amount
            cell[1] += count
    if len(sums) <= top:
        return rows
    ranked = sorted(sums.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
    kept = {key for key, _ in ranked[:top]}
    return [row for row in rows if (row[0] if by_month else row[2]) in kept]


def summary_json(
    repo: ReceiptRepository,
    sub: str,
    from_month: str,
    to_month: str,
    group: Group,
    top: int | None = None,
) -> str:
    """The ``Summary`` body as compact JSON, encoded without building a dict per group: a
    vendor summary has ~2,000 groups and encoding them was half the request. Strings go
    through the encoder json.dumps itself uses (ASCII-escaped); tests/unit/api/test_summary.py
    holds it byte-identical to ``json.dumps`` of the plain-dict form."""
    encoded: list[str] = []
    for currency, total, count, rows in _summary_rows(repo, sub, from_month, to_month, group, top):
        months: dict[str, str] = {}  # month -> its JSON string, escaped once
        groups: list[str] = []
        append = groups.append
        plain = _PLAIN_DECIMAL.fullmatch
        for month, amount, key, label, text, n in rows:
            month_json = months.get(month)
            if month_json is None:
                month_json = months[month] = _json_str(month)
            if group == "month":
                key_json = label_json = month_json
            else:
                key_json, label_json = _json_str(month + "|" + key), _json_str(label)
            total_json = text if plain(text) else format(amount, "f")  # = _money(), inlined
            append(
                f'{{"key":{key_json},"label":{label_json},"total":"{total_json}",'
                f'"count":{n},"month":{month_json}}}'
            )
        encoded.append(
            f'{{"currency":{_json_str(currency)},"total":"{format(total, "f")}","count":{count},'
            f'"groups":[{",".join(groups)}]}}'
        )
    return (
        f'{{"from":{_json_str(from_month)},"to":{_json_str(to_month)},"group":{_json_str(group)},'
        f'"currencies":[{",".join(encoded)}]}}'
    )


@router.get("/summary", response_model=Summary, summary="Spending per month, category or vendor")
def summary(
    caller: CurrentUser,
    deps: AppDeps,
    from_: Annotated[
        str | None, Query(alias="from", pattern=_MONTH.pattern, description="YYYY-MM, inclusive")
    ] = None,
    to: Annotated[str | None, Query(pattern=_MONTH.pattern, description="YYYY-MM, inclusive")] = None,
    group: Group = "month",
    top: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_TOP,
            description=(
                "Only the groups of the `top` keys (vendors, categories, or months with "
                "`group=month`) with the largest totals over the period, per currency "
                "(ties: more receipts first, then the key); every month of a kept key is "
                "returned. Currency totals and counts still cover all spending. Omitted: "
                "every group."
            ),
        ),
    ] = None,
) -> Response:
    from_month, to_month = resolve_range(from_, to, date.today())
    if from_month > to_month:
        raise Problem(400, "'from' is after 'to'; swap them.", kind="invalid-input")
    # The body is encoded here rather than validated against ``Summary`` (the response
    # model documents it; the tests check the body against it).
    body = summary_json(deps.repository, caller.sub, from_month, to_month, group, top)
    return Response(body, media_type="application/json")


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
