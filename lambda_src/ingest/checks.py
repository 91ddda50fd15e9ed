"""Checks that decide PROCESSED vs NEEDS_REVIEW: do the printed amounts add up, is the date
plausible, is there one currency. Every reason starts with the field a person should look at
("total: ...", "purchase_date: ..."), so the web app can highlight it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lambda_src.common.dates import OLDEST_PLAUSIBLE
from lambda_src.common.model import Receipt

# Every printed amount is exact to the cent; taxes computed per line and summed can drift
# by a cent or two from the printed tax, and cash totals may be rounded to 0.05 without
# printing a rounding line (the printed rounding line is used when there is one).
TOLERANCE = Decimal("0.02")

# Below this, a field read by OCR is more likely wrong than right; ask a person.
LOW_CONFIDENCE = 0.5

# Fields whose confidence alone can send a receipt to review.
KEY_FIELDS = ("vendor", "purchase_date", "total")

ZERO = Decimal(0)


@dataclass(frozen=True)
class Breakdown:
    """The amounts printed on a receipt that should explain its total."""

    items: tuple[Decimal, ...] = ()
    items_without_amount: int = 0
    subtotal: Decimal | None = None
    tax: Decimal | None = None
    tip: Decimal | None = None
    discount: Decimal | None = None  # a positive amount taken off
    rounding: Decimal | None = None  # signed, as printed
    charges: Decimal | None = None  # service and shipping charges the model has no field for

    @property
    def items_sum(self) -> Decimal | None:
        if not self.items or self.items_without_amount:
            return None
        return sum(self.items, ZERO)


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def explanations(b: Breakdown) -> Iterator[tuple[str, Decimal]]:
    """Each way the printed parts can add up to a total, with a formula a person can read.

    Prices may include tax (most of the world) or not (North America), and a discount may
    already be among the line items as a negative line; each reading is tried, the most
    common first, so the first one is the one shown when nothing adds up.
    """
    bases: list[tuple[str, Decimal]] = []
    if b.items_sum is not None:
        bases.append(("line items", b.items_sum))
    if b.subtotal is not None:
        bases.append(("subtotal", b.subtotal))
    for base_name, base in bases:
        for with_tax in (True, False) if b.tax else (True,):
            for with_discount in (True, False) if b.discount else (True,):
                value = base
                parts = [f"{base_name} {_money(base)}"]
                if b.tax and with_tax:
                    value += b.tax
                    parts.append(f"+ tax {_money(b.tax)}")
                if b.tip:
                    value += b.tip
                    parts.append(f"+ tip {_money(b.tip)}")
                if b.charges:
                    value += b.charges
                    parts.append(f"+ charges {_money(b.charges)}")
                if b.discount and with_discount:
                    value -= b.discount
                    parts.append(f"- discount {_money(b.discount)}")
                if b.rounding:
                    value += b.rounding
                    parts.append(f"{'+' if b.rounding > 0 else '-'} rounding {_money(abs(b.rounding))}")
                yield " ".join(parts), value


def balances(b: Breakdown, total: Decimal) -> bool:
    return any(abs(value - total) <= TOLERANCE for _, value in explanations(b))


def amount_reasons(b: Breakdown, total: Decimal | None) -> list[str]:
    if total is None:
        return ["total: not found on the receipt"]
    first = next(explanations(b), None)
    if first is None:
        if b.items_without_amount:
            return [
                f"line_items: {b.items_without_amount} of {len(b.items) + b.items_without_amount} "
                "items have no readable amount, so the total cannot be checked"
            ]
        return ["line_items: no line items or subtotal were read, so the total cannot be checked"]
    reasons: list[str] = []
    if not balances(b, total):
        formula, value = first
        reasons.append(
            f"total: {_money(total)} does not match {formula} = {_money(value)} "
            f"(off by {_money(abs(total - value))})"
        )
    items_sum = b.items_sum
    if items_sum is not None and b.subtotal is not None and not _items_explain_subtotal(b, items_sum):
        reasons.append(f"line_items: add up to {_money(items_sum)}, not the subtotal {_money(b.subtotal)}")
    return reasons


def _items_explain_subtotal(b: Breakdown, items_sum: Decimal) -> bool:
    assert b.subtotal is not None
    tax, discount = b.tax or ZERO, b.discount or ZERO
    readings = {items_sum, items_sum - discount, items_sum - tax, items_sum - tax - discount}
    return any(abs(r - b.subtotal) <= TOLERANCE for r in readings)


def date_reasons(purchase_date: date | None, today: date) -> list[str]:
    if purchase_date is None:
        return ["purchase_date: not found on the receipt"]
    if purchase_date > today:
        return [f"purchase_date: {purchase_date.isoformat()} is in the future"]
    if purchase_date < today - OLDEST_PLAUSIBLE:
        return [f"purchase_date: {purchase_date.isoformat()} is more than 10 years ago"]
    return []


def confidence_reasons(confidence: dict[str, float]) -> list[str]:
    return [
        f"{name}: read with low confidence ({confidence[name]:.2f})"
        for name in KEY_FIELDS
        if name in confidence and confidence[name] < LOW_CONFIDENCE
    ]


def review_reasons(receipt: Receipt, breakdown: Breakdown, *, today: date) -> list[str]:
    """Everything a person should look at before this receipt counts as read correctly."""
    reasons: list[str] = []
    if not receipt.vendor.name:
        reasons.append("vendor: not found on the receipt")
    reasons += date_reasons(receipt.purchase_date, today)
    if receipt.currency is None:
        reasons.append("currency: not found on the receipt")
    reasons += amount_reasons(breakdown, receipt.total)
    reasons += confidence_reasons(receipt.confidence)
    return reasons


def merge_reasons(*groups: list[str]) -> list[str]:
    """Reasons in order, one per field: the first (most specific) reason for a field wins."""
    seen: set[str] = set()
    merged: list[str] = []
    for group in groups:
        for reason in group:
            field = reason.split(":", 1)[0]
            if field not in seen:
                seen.add(field)
                merged.append(reason)
    return merged
