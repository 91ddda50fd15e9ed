"""Date parsing for receipts: many formats, day-first or month-first, never the future."""

from __future__ import annotations

import re
from datetime import date, timedelta

MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}

# Currencies whose receipts print the month first; everyone else prints the day first.
MONTH_FIRST_CURRENCIES = frozenset({"USD", "CAD"})

# Receipts older than this are more likely a misread than a real purchase.
OLDEST_PLAUSIBLE = timedelta(days=366 * 10)

_ISO = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
# The year may be glued to a following time ("09/03/20184:21PM"): take 4 digits, then 2.
_NUMERIC = re.compile(r"(?<!\d)(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})")
_NAMED_DMY = re.compile(r"(?<![A-Za-z\d])(\d{1,2})[-\s.]*([A-Za-z]{3,9})[-\s.,']*(\d{4}|\d{2})(?!\d)")
_NAMED_MDY = re.compile(
    r"(?<![A-Za-z])([A-Za-z]{3,9})[-\s.]*(\d{1,2})(?:st|nd|rd|th)?[,\s.']*(\d{4}|\d{2})(?!\d)"
)


class DateError(ValueError):
    """A date could not be read."""


def day_first_for(currency: str | None) -> bool:
    return currency not in MONTH_FIRST_CURRENCIES


def parse_date(
    text: str,
    *,
    day_first: bool | None = None,
    today: date | None = None,
) -> date:
    """Read the purchase date printed on a receipt.

    Ambiguous numeric dates (03/04/2024) follow ``day_first``; a reading that is
    impossible or in the future yields to the other order. Two-digit years are 20xx.
    """
    today = today or date.today()
    candidates = list(_candidates(text, day_first if day_first is not None else True))
    for candidate in candidates:
        if today - OLDEST_PLAUSIBLE <= candidate <= today:
            return candidate
    if candidates:
        raise DateError(f"{text!r} is not a plausible purchase date (future or too old)")
    raise DateError(f"no date in {text!r}")


def _year(token: str) -> int:
    return 2000 + int(token) if len(token) == 2 else int(token)


def _safe(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _candidates(text: str, day_first: bool):  # type: ignore[no-untyped-def]
    for m in _ISO.finditer(text):
        if d := _safe(int(m.group(1)), int(m.group(2)), int(m.group(3))):
            yield d
    for m in _NAMED_DMY.finditer(text):
        month = MONTHS.get(m.group(2).lower())
        if month and (d := _safe(_year(m.group(3)), month, int(m.group(1)))):
            yield d
    for m in _NAMED_MDY.finditer(text):
        month = MONTHS.get(m.group(1).lower())
        if month and (d := _safe(_year(m.group(3)), month, int(m.group(2)))):
            yield d
    for m in _NUMERIC.finditer(text):
        a, b, year = int(m.group(1)), int(m.group(2)), _year(m.group(3))
        orders = ((b, a), (a, b)) if day_first else ((a, b), (b, a))
        for month, day in orders:
            if d := _safe(year, month, day):
                yield d
