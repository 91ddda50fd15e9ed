"""Money parsing: receipts print amounts in many ways; the model keeps exact Decimals."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

CENT = Decimal("0.01")

# Symbols and words that name a currency, longest first so "US$" wins over "$".
CURRENCY_MARKERS: tuple[tuple[str, str], ...] = (
    ("US$", "USD"),
    ("USD", "USD"),
    ("CA$", "CAD"),
    ("CAD", "CAD"),
    ("AU$", "AUD"),
    ("AUD", "AUD"),
    ("S$", "SGD"),
    ("SGD", "SGD"),
    ("MYR", "MYR"),
    ("RM", "MYR"),
    ("EUR", "EUR"),
    ("€", "EUR"),
    ("GBP", "GBP"),
    ("£", "GBP"),
    ("JPY", "JPY"),
    ("¥", "JPY"),
    ("CHF", "CHF"),
    ("INR", "INR"),
    ("₹", "INR"),
    ("IDR", "IDR"),
    ("Rp", "IDR"),
    ("ZAR", "ZAR"),
    ("PHP", "PHP"),
    ("₱", "PHP"),
    ("NZ$", "NZD"),
    ("NZD", "NZD"),
    ("HK$", "HKD"),
    ("HKD", "HKD"),
    ("C$", "CAD"),
    ("A$", "AUD"),
    ("$", "USD"),
)

# An amount under one printed without its leading zero (".88", "$.88", "-.25") is read
# as such; a dot after a letter ("No.5") is not a decimal point.
_NUMBER = re.compile(r"[-+]?\(?(?:\d[\d\s.,']*|(?<![\w.])\.\d{1,2}(?!\d))\)?")


class MoneyError(ValueError):
    """An amount could not be read."""


def detect_currency(text: str) -> str | None:
    """The ISO 4217 code a text names by symbol or word, or None."""
    for marker, code in CURRENCY_MARKERS:
        if marker.isalpha():
            if re.search(rf"(?<![A-Za-z]){re.escape(marker)}(?![A-Za-z])", text):
                return code
        elif marker in text:
            return code
    return None


def parse_money(text: str | int | Decimal, *, decimal_comma: bool | None = None) -> Decimal:
    """Read an amount such as "RM 1,234.50", "12,50 €", "(3.00)" or "-4.1" exactly.

    ``decimal_comma`` forces the meaning of a lone comma; by default a comma followed by
    exactly two digits at the end is a decimal separator ("12,50"), otherwise a thousands one.
    """
    if isinstance(text, Decimal):
        return text
    if isinstance(text, int):
        return Decimal(text)
    raw = text.strip()
    match = _NUMBER.search(raw.replace("O", "0") if raw.upper().startswith("O") else raw)
    if not match:
        raise MoneyError(f"no amount in {text!r}")
    token = match.group(0).strip()
    negative = token.startswith("-") or (token.startswith("(") and token.endswith(")"))
    negative = negative or raw.rstrip().endswith("-")
    digits = re.sub(r"[^\d.,]", "", token)
    digits = _normalize_separators(digits, decimal_comma)
    try:
        value = Decimal(digits)
    except InvalidOperation as exc:
        raise MoneyError(f"no amount in {text!r}") from exc
    return -value if negative else value


def _normalize_separators(digits: str, decimal_comma: bool | None) -> str:
    if "," in digits and "." in digits:
        # Whichever separator comes last is the decimal one: "1.234,50" / "1,234.50".
        if digits.rfind(",") > digits.rfind("."):
            return digits.replace(".", "").replace(",", ".")
        return digits.replace(",", "")
    if "," in digits:
        head, _, tail = digits.rpartition(",")
        is_decimal = decimal_comma if decimal_comma is not None else len(tail) == 2
        if is_decimal:
            return head.replace(",", "") + "." + tail
        return digits.replace(",", "")
    if digits.count(".") > 1:
        head, _, tail = digits.rpartition(".")
        return head.replace(".", "") + "." + tail
    return digits


def quantize(value: Decimal, exponent: Decimal = CENT) -> Decimal:
    """Round to cents the way banks do (half to even)."""
    return value.quantize(exponent, rounding=ROUND_HALF_EVEN)
