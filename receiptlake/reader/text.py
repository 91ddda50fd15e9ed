"""Text patterns shared by the parser: amounts, dates, labels, registration numbers."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

from lambda_src.common.dates import OLDEST_PLAUSIBLE, DateError, parse_date
from lambda_src.common.money import MoneyError, parse_money
from lambda_src.ingest.legal_names import LEGAL_SUFFIX as LEGAL_SUFFIX  # one definition, re-exported

# An amount as receipts print it: optional currency, digits, two decimals. Requiring the
# decimals keeps quantities, codes and phone numbers out of the amounts column. A decimal
# comma is accepted ("3,10" on European receipts). Amounts under one dollar are often
# printed without the leading zero (".88", "$.30"; US grocers).
AMOUNT = re.compile(
    r"(?<![\w.,/:-])(?P<neg>-)?\s?"
    r"(?:RM|MYR|USD|EUR|SGD|GBP|AED|CHF|AUD|CAD|HKD|JPY|INR|IDR|THB|PHP|NZD|ZAR|CNY|RMB|"
    r"S\$|US\$|A\$|C\$|HK\$|\$|€|£|¥|₹)?\s?"
    r"(?P<num>\d{1,3}(?:[,.' ]\d{3})*[.,]\s?\d{2}|\d+[.,]\s?\d{2}|(?:^|(?<=[\s$€£¥(-]))\.\d{2})"
    r"(?P<trail>-)?(?![\d.,]*\d)"
)

# Dates as printed. The year may run into the time ("09/03/20184:21:23PM"): four digits
# are taken first, so the time's first digit is left behind.
_MONTH_NAMES = (
    r"JAN(?:UARY)?|FEB(?:RUARY)?|MAR(?:CH)?|APR(?:IL)?|MAY|JUNE?|JULY?|AUG(?:UST)?|"
    r"SEP(?:T(?:EMBER)?)?|OCT(?:OBER)?|NOV(?:EMBER)?|DEC(?:EMBER)?"
)
DATE_TEXT = re.compile(
    r"(?<!\d)(?:"
    r"(?:19|20)\d{2}[-/.]\d{1,2}[-/.]\d{1,2}(?!\d)"
    r"|\d{1,2}\s?[-/.]\s?\d{1,2}\s?[-/.]\s?(?:(?:19|20)\d{2}|\d{2}(?!\d))"
    rf"|\d{{1,2}}[-\s./]*(?:{_MONTH_NAMES})[-\s.,'/]*(?:(?:19|20)\d{{2}}|\d{{2}}(?!\d))"
    rf"|(?:{_MONTH_NAMES})[-\s.]*\d{{1,2}}(?:ST|ND|RD|TH)?[,\s.']*(?:(?:19|20)\d{{2}}|\d{{2}}(?!\d))"
    r")",
    re.IGNORECASE,
)

PHONE = re.compile(
    r"(?:TEL|PHONE|PH|HP|H/P|MOBILE|FAX|T)\s*[.:]?\s*[+(]?\d[\d\s()+-]{6,}\d"
    r"|\(?\+?\d{2,4}\)?[\s-]?\d{3,4}[\s-]\d{3,5}",
    re.IGNORECASE,
)

# Company registration numbers printed under Malaysian/Singaporean names: "(81109-A)",
# "CO. NO. 373665-A", "789417-W", "(1135772-K)".
REGISTRATION = re.compile(
    r"\(?\s*(?:CO(?:MPANY)?\.?\s*(?:REG(?:ISTRATION)?\.?)?\s*(?:NO|#)\.?\s*:?\s*)?"
    r"\d{3,}[-\s]?[A-Z]\s*\)?$|^\(?\s*(?:CO(?:MPANY)?\.?\s*)?(?:REG(?:ISTRATION)?\.?\s*)?"
    r"(?:NO|#)\.?\s*:?\s*\d{4,}[-\s]?[A-Z]?\s*\)?$",
    re.IGNORECASE,
)

_SDN_SLIP = re.compile(r"\b(SDN\.?\s*)B[A-Z0-9]D\b", re.IGNORECASE)


def fix_legal_suffix(text: str) -> str:
    """Undo one-letter OCR slips in "SDN BHD" ("SDN BND" -> "SDN BHD")."""
    return _SDN_SLIP.sub(lambda m: m.group(1) + "BHD", text)


def amounts(text: str) -> list[tuple[Decimal, re.Match[str]]]:
    """The amounts in a text, left to right."""
    found = []
    for match in AMOUNT.finditer(text):
        num = match.group("num").replace(" ", "")
        if num.startswith("."):
            num = "0" + num  # ".88": parse_money would read 88
        try:
            value = parse_money(num)
        except MoneyError:
            continue
        if match.group("neg") or match.group("trail"):
            value = -value
        found.append((value, match))
    return found


def find_date(text: str, *, day_first: bool = True) -> tuple[str, date] | None:
    """The date printed in a text: the text as printed and its reading.

    Matches may overlap ("REG #19- 18/01/2018" holds "19- 18/01" and "18/01/2018"), so
    every start is tried; four-digit years and month names beat two-digit years.
    """
    found: list[tuple[int, int, str, date]] = []
    pos = 0
    while (match := DATE_TEXT.search(text, pos)) is not None:
        printed = match.group(0).strip(" .,-")
        # parse_date reads "02-JAN-2017" but not "02/JAN/2017".
        readable = re.sub(r"(?<=[A-Za-z])/|/(?=[A-Za-z])", "-", printed)
        reading = read_date(readable, day_first=day_first)
        if reading is not None:
            strong = bool(re.search(r"(?:19|20)\d\d|[A-Za-z]{3}", printed))
            found.append((0 if strong else 1, match.start(), printed, reading))
        pos = match.start() + 1
    if not found:
        return None
    _, _, printed, reading = min(found)
    return printed, reading


def read_date(printed: str, *, day_first: bool = True) -> date | None:
    """parse_date without its age limit: the reader reports what is printed (a 2016
    receipt is still dated 2016); judging plausibility is the normalizer's business.
    parse_date accepts a window of OLDEST_PLAUSIBLE ending at ``today``, so slide the
    window back a few times before giving up.
    """
    today = date.today()
    for _ in range(4):
        try:
            return parse_date(printed, day_first=day_first, today=today)
        except DateError:
            today -= OLDEST_PLAUSIBLE - timedelta(days=1)
    return None


def with_leading_zero(printed: str) -> str:
    """An amount printed without its leading zero gets it back: ".88" -> "0.88",
    "$.30" -> "$0.30", "-.30" -> "-0.30" (readers of the printed text, e.g. the ingest
    normalizer's parse_money, take ".88" for 88)."""
    return re.sub(r"(?<![\d.,])\.(?=\d{2}(?!\d))", "0.", printed, count=1)


def norm(text: str) -> str:
    """Upper-case letters and digits only: for comparing labels."""
    return re.sub(r"[^A-Z0-9]", "", text.upper())
