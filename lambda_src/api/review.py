"""Does a corrected receipt now pass the checks a read receipt must pass?

The same rules the ingest layer applies before it marks a receipt PROCESSED: the fields
analytics need are present, the date is plausible, and the amounts add up (line items,
or the subtotal, plus tax and tip minus discount make the total, within a cent per line).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from lambda_src.common.dates import OLDEST_PLAUSIBLE
from lambda_src.common.model import Receipt

CENT = Decimal("0.01")


def review_problems(receipt: Receipt, today: date | None = None) -> list[str]:
    """What still needs a person's attention; empty when the receipt passes."""
    today = today or date.today()
    problems: list[str] = []
    if receipt.total is None:
        problems.append("the total is missing")
    if receipt.currency is None:
        problems.append("the currency is missing")
    if receipt.purchase_date is None:
        problems.append("the purchase date is missing")
    elif receipt.purchase_date > today + timedelta(days=1):
        problems.append("the purchase date is in the future")
    elif receipt.purchase_date < today - OLDEST_PLAUSIBLE:
        problems.append("the purchase date is implausibly old")
    if receipt.total is not None and not _adds_up(receipt, receipt.total):
        problems.append("the line items, tax, tip and discount do not add up to the total")
    return problems


def _adds_up(receipt: Receipt, total: Decimal) -> bool:
    extras = (receipt.tax or 0) + (receipt.tip or 0) - (receipt.discount or 0)
    amounts = [i.amount for i in receipt.line_items if i.amount is not None]
    candidates: list[tuple[Decimal, int]] = []
    if receipt.subtotal is not None:
        candidates.append((receipt.subtotal, 1))
    if amounts:
        candidates.append((sum(amounts, Decimal(0)), len(amounts)))
    if not candidates:
        return True  # nothing to cross-check the total against
    # Rounding on receipts: allow a cent per summed line (tax is often rounded per line).
    return any(abs(base + extras - total) <= CENT * max(lines, 1) for base, lines in candidates)
