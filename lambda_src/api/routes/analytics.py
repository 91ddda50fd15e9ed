"""Spending analytics from the monthly aggregates, and an item's price history."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from typing import Annotated, Any, Literal

import msgspec
from fastapi import APIRouter, Query, Request, Response

from lambda_src.api.context import AppDeps, CurrentUser, run_blocking
from lambda_src.api.problems import PROBLEM_RESPONSES, Problem
from lambda_src.api.schemas import ItemHistory, PricePoint, Summary
from lambda_src.common import keys
from lambda_src.common.aggregate_items import AggregateCell
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


# Decimal strings that format(Decimal(s), "f") gives back unchanged (no exponent, no
# leading zeros or sign): DynamoDB sends numbers this way, so rows skip the formatting.
_PLAIN_DECIMAL = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?")
# A decimal string of at most this many characters has at most 15 significant digits, and
# for those float() keeps every distinction and the order (DBL_DIG): sorting by the float
# is sorting by the Decimal, several times cheaper.
_FLOAT_ORDER_EXACT = 15


def _kept_keys(cells: list[AggregateCell], top: int, *, by_month: bool) -> set[str] | None:
    """The ``top`` keys (months when grouping by month) with the largest totals over the
    period, then the most receipts, then the key; None when there are no more than that."""
    sums: dict[str, list[Any]] = {}  # key -> [total, count]
    for month, _currency, key, _label, text, count in cells:
        name = month if by_month else key
        cell = sums.get(name)
        if cell is None:
            sums[name] = [Decimal(text), count]
        else:
            cell[0] += Decimal(text)
            cell[1] += count
    if len(sums) <= top:
        return None
    ranked = sorted(sums.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
    return {name for name, _ in ranked[:top]}


class _Group(msgspec.Struct, gc=False):
    """A group of the body: the fields of ``schemas.SummaryGroup``, in its order."""

    key: str
    label: str
    total: str
    count: int
    month: str


_encode = msgspec.json.Encoder().encode


def _groups(cells: list[AggregateCell], *, by_month: bool) -> list[_Group]:
    """One currency's groups, ordered by month, then amount (largest first), then key.
    ``cells`` come in the table's key order (month, then key), so each month's run only
    needs a stable sort by amount."""
    exact_floats = all(len(cell[4]) <= _FLOAT_ORDER_EXACT for cell in cells)
    plain = _PLAIN_DECIMAL.fullmatch
    out: list[_Group] = []
    for month, month_cells in groupby(cells, key=itemgetter(0)):
        run: list[tuple[Any, _Group]] = []  # (amount, group)
        for _month, _currency, key, label, text, n in month_cells:
            run.append(
                (
                    float(text) if exact_floats else Decimal(text),
                    _Group(
                        month if by_month else month + "|" + key,
                        month if by_month else label,
                        text if plain(text) else format(Decimal(text), "f"),
                        n,
                        month,
                    ),
                )
            )
        run.sort(key=itemgetter(0), reverse=True)  # stable: equal amounts keep key order
        out.extend([group for _, group in run])
    return out


def summary_json(
    repo: ReceiptRepository,
    sub: str,
    from_month: str,
    to_month: str,
    group: Group,
    top: int | None = None,
) -> bytes:
    """The ``Summary`` body as compact UTF-8 JSON: per currency (sorted by code), totals
    and counts from the month aggregates and the chosen kind's groups. With ``top``, only
    the groups of the ``top`` keys with the largest totals over the period are kept
    (currency totals stay whole).

    Encoded by msgspec from a struct per group, not validated through the response model:
    a two-year vendor summary has ~1,800 groups, and a struct is smaller and cheaper to
    build than a dict or a model instance. tests/unit/api/test_summary.py holds the body
    byte-identical to ``json.dumps`` of an independently computed plain-dict form, and
    valid for the model.
    """
    monthly = repo.aggregate_cells(sub, keys.AGG_MONTH, from_month, to_month)
    detail = monthly if group == "month" else repo.aggregate_cells(sub, _KIND[group], from_month, to_month)
    # Currency totals and counts always come from the month rows: a receipt split over
    # three categories is still one receipt.
    totals: dict[str, Decimal] = defaultdict(Decimal)
    counts: dict[str, int] = defaultdict(int)
    for _month, currency, _key, _label, text, count in monthly:
        totals[currency] += Decimal(text)
        counts[currency] += count
    per_currency: dict[str, list[AggregateCell]] = defaultdict(list)
    for cell in detail:
        per_currency[cell[1]].append(cell)
    by_month = group == "month"
    currencies: list[dict[str, Any]] = []
    for currency in sorted(totals.keys() | per_currency.keys()):
        cells = per_currency.get(currency, [])
        if top is not None:
            kept = _kept_keys(cells, top, by_month=by_month)
            if kept is not None:
                cells = [c for c in cells if (c[0] if by_month else c[2]) in kept]
        currencies.append(
            {
                "currency": currency,
                "total": format(totals[currency], "f"),
                "count": counts[currency],
                "groups": _groups(cells, by_month=by_month),
            }
        )
    return _encode({"from": from_month, "to": to_month, "group": group, "currencies": currencies})


@router.get("/summary", response_model=Summary, summary="Spending per month, category or vendor")
async def summary(
    request: Request,
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
    body = await run_blocking(
        request, summary_json, deps.repository, caller.sub, from_month, to_month, group, top
    )
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
