"""AnalyzeExpense → Receipt: choose among Textract's candidates and check the result.

Textract returns every plausible reading (two VENDOR_NAMEs, a TOTAL labelled "Balance",
a TAX line twice); this module decides which ones are the receipt's, records how sure it
is of each, and leaves the receipt PROCESSED only when its parts agree with each other.
The same code runs on real Textract output and on the local OCR's imitation of it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from lambda_src.common.dates import DateError, day_first_for, parse_date
from lambda_src.common.model import LineItem, Receipt, Status, Vendor
from lambda_src.common.money import CENT, MoneyError, detect_currency, parse_money
from lambda_src.ingest import checks
from lambda_src.ingest.checks import Breakdown
from lambda_src.ingest.fields import Document, Field, Row, best, merge, read_documents
from lambda_src.ingest.legal_names import is_legal_name

# A purchase can be a day "after" the upload in UTC when the shop is east of Greenwich.
TIMEZONE_SLACK = timedelta(days=1)

MONEY_TYPES = frozenset(
    {
        "TOTAL",
        "SUBTOTAL",
        "TAX",
        "AMOUNT_PAID",
        "AMOUNT_DUE",
        "DISCOUNT",
        "GRATUITY",
        "SERVICE_CHARGE",
        "SHIPPING_HANDLING_CHARGE",
        "PRIOR_BALANCE",
    }
)
ROW_MONEY_TYPES = frozenset({"PRICE", "UNIT_PRICE"})

# TOTAL fields whose label says they are not what was spent on this receipt.
_WEAK_TOTAL = re.compile(
    r"balance|change|owe|previous|prior|insurance|adjust|saving|charges|credit|deposit", re.I
)
_SUB_LABEL = re.compile(r"\bsub\b|sub-?total|net\b", re.I)
_TAX_LABEL = re.compile(r"\b(tax|vat|gst|hst|pst|sst|mwst)\b", re.I)
_INCLUSIVE = re.compile(r"incl|inc\.|with|after|\+", re.I)
_TIP_LABEL = re.compile(r"\b(tip|tips|gratuity)\b", re.I)
_ROUNDING_LABEL = re.compile(r"round", re.I)
_DATE_LABEL = re.compile(r"\bdate\b|\bdated\b|\bvisit\b|\btransaction\b", re.I)
_NOT_PURCHASE_DATE = re.compile(r"birth|dob|due|exp|valid|print|issue", re.I)
_PRODUCT_CODE = re.compile(r"(?<![\d.,])\d{8,14}(?![\d.,])")
_TENDER_WORDS = (
    ("AMERICAN EXPRESS", "AMEX"),
    ("AMEX", "AMEX"),
    ("MASTERCARD", "MASTERCARD"),
    ("VISA", "VISA"),
    ("DISCOVER", "DISCOVER"),
    ("MAESTRO", "MAESTRO"),
    ("DEBIT", "DEBIT"),
    ("CASH", "CASH"),
)
_SUMMARY_ROW = re.compile(
    r"^(sub\s*-?\s*total|total|grand total|tax|change( due)?|cash|balance( due)?|amount due|tend)$",
    re.I,
)

# Where "$" is not the US dollar: words and postal codes in the addresses say which it is.
_DOLLAR_LOCALES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "CAD",
        re.compile(
            r"\bcanada\b|\bontario\b|\bquebec\b|\bbritish columbia\b|\balberta\b|\bmanitoba\b"
            r"|\bsaskatchewan\b|\bnova scotia\b|\bnew brunswick\b|\bvancouver\b|\btoronto\b"
            r"|\bmontr[eé]al\b|\b[A-CEGHJ-NPR-TVXY]\d[A-Z] ?\d[A-Z]\d\b",
            re.I,
        ),
    ),
    (
        "AUD",
        re.compile(r"\baustralia\b|\b(NSW|VIC|QLD|TAS)\b \d{4}\b|\bABN\b", re.I),
    ),
    ("NZD", re.compile(r"\bnew zealand\b|\bauckland\b|\bwellington\b", re.I)),
    ("SGD", re.compile(r"\bsingapore\b", re.I)),
    ("HKD", re.compile(r"\bhong kong\b|\bkowloon\b", re.I)),
)
_EXPLICIT_USD = re.compile(r"US\$|\bUSD\b")


def normalize_expense(
    response: Mapping[str, Any],
    *,
    base: Receipt,
    ocr_engine: str,
    today: date | None = None,
) -> Receipt:
    """``base`` (the PENDING receipt) filled in from an AnalyzeExpense-shaped response,
    with per-field confidences and status PROCESSED or NEEDS_REVIEW (+ review_reasons).

    ``today`` bounds the purchase date (default: the upload day); a GetExpenseAnalysis
    response with several ExpenseDocuments (one per page) is read as one receipt.
    """
    today = today or base.uploaded_at.date()
    latest = today + TIMEZONE_SLACK
    doc = merge(read_documents(response))
    notes: list[str] = []
    confidence: dict[str, float] = {}

    vendor, vendor_confidence = _vendor(doc)
    if vendor_confidence is not None:
        confidence["vendor"] = vendor_confidence

    currency, currency_confidence, currency_notes = _currency(doc)
    notes += currency_notes
    if currency_confidence is not None:
        confidence["currency"] = currency_confidence

    purchase_date, date_confidence, date_notes = _purchase_date(doc, currency, latest)
    notes += date_notes
    if date_confidence is not None:
        confidence["purchase_date"] = date_confidence

    items, item_confidences, items_without_amount = _line_items(doc.rows)
    if item_confidences:
        confidence["line_items"] = round(sum(item_confidences) / len(item_confidences), 4)

    amounts = _amounts(doc, items, items_without_amount)
    for name, value in amounts.confidence.items():
        confidence[name] = value
    notes += amounts.notes

    result = base.model_copy(
        update={
            "vendor": vendor,
            "purchase_date": purchase_date,
            "currency": currency,
            "subtotal": amounts.breakdown.subtotal,
            "tax": amounts.breakdown.tax,
            "tip": amounts.breakdown.tip,
            "discount": amounts.breakdown.discount,
            "total": amounts.total,
            "payment_method": _payment_method(doc),
            "line_items": items,
            "confidence": {k: round(v, 4) for k, v in confidence.items()},
            "ocr_engine": ocr_engine,
            "failure_reason": None,
        }
    )
    reasons = checks.merge_reasons(notes, checks.review_reasons(result, amounts.breakdown, today=latest))
    # model_copy skips validation; validating once here catches a bad value early.
    return Receipt.model_validate(
        {
            **result.model_dump(),
            "status": Status.NEEDS_REVIEW if reasons else Status.PROCESSED,
            "review_reasons": reasons,
        }
    )


# ---- text helpers ---------------------------------------------------------------------


def clean_text(text: str, *, drop: Iterable[str] = ()) -> str:
    """Lines joined with spaces; lines with no letter or digit (OCR's stray "-") and
    product codes (barcodes printed under the name) left out."""
    dropped = {d for d in drop if d}
    lines: list[str] = []
    for line in text.splitlines():
        for code in dropped:
            line = line.replace(code, " ")
        line = _PRODUCT_CODE.sub(" ", line)
        if any(ch.isalnum() for ch in line):
            lines.append(" ".join(line.split()))
    return " ".join(lines).strip(" ,;:")


def _money(f: Field | None) -> Decimal | None:
    if f is None or not f.text or "%" in f.text:
        return None
    try:
        return parse_money(f.text)
    except MoneyError:
        return None


def _quantity(f: Field | None) -> Decimal | None:
    if f is None:
        return None
    match = re.search(r"\d+(?:[.,]\d+)?", f.text)
    if not match:
        return None
    try:
        return Decimal(match.group(0).replace(",", "."))
    except InvalidOperation:
        return None


# ---- vendor -----------------------------------------------------------------------------


def _vendor(doc: Document) -> tuple[Vendor, float | None]:
    receiver_names = {
        clean_text(f.text).lower()
        for f in doc.summary
        if f.type == "RECEIVER_NAME" or (f.type == "NAME" and "RECEIVER" in f.groups)
    }
    candidates: dict[str, Field] = {}
    for f in doc.summary:
        is_name = f.type == "VENDOR_NAME" or (f.type == "NAME" and "VENDOR" in f.groups)
        if not is_name or "RECEIVER" in f.groups:
            continue
        name = clean_text(f.text)
        if sum(ch.isalpha() for ch in name) < 2 or name.lower() in receiver_names:
            continue
        if name not in candidates or f.confidence > candidates[name].confidence:
            candidates[name] = f

    contacts = [
        f
        for f in doc.summary
        if f.type in ("VENDOR_ADDRESS", "VENDOR_PHONE")
        or (f.type in ("ADDRESS", "ADDRESS_BLOCK", "STREET", "CITY") and "VENDOR" in f.groups)
    ]

    def score(item: tuple[str, Field]) -> float:
        # The shop's name is printed beside its address and phone; a logo or slogan
        # elsewhere on the page is the usual wrong candidate. Failing that, the name is
        # the one printed highest on the first page.
        _, f = item
        nearest = min((f.distance(c) for c in contacts), default=None)
        proximity = 0.5 * min(nearest, 1.0) if nearest is not None else 0.0
        return f.confidence - proximity - 0.1 * f.top - 0.2 * (f.page - 1)

    address = _vendor_address(doc)
    phone = best(doc.of("VENDOR_PHONE"))
    if candidates:
        name, chosen = max(candidates.items(), key=score)
        confidence: float | None = chosen.confidence
    else:
        name, confidence = _vendor_from_url(doc)
    vendor = Vendor(
        name=name or None,
        legal_name=_legal_name(doc, name, candidates),
        address=address,
        phone=clean_text(phone.text) if phone else None,
    )
    return vendor, confidence


def _legal_name(doc: Document, name: str, candidates: Mapping[str, Field]) -> str | None:
    """The registered company name printed beside the brand ("Tesco" / "Tesco Stores Ltd").

    The local reader names it VENDOR_LEGAL_NAME; Textract gives it as one more VENDOR_NAME,
    recognizable by its legal-form suffix. When the only name is the registered one, it is
    both the name and the legal name."""
    labelled = best(doc.of("VENDOR_LEGAL_NAME"))
    if labelled is not None and is_legal_name(clean_text(labelled.text)):
        return clean_text(labelled.text)
    if name and is_legal_name(name):
        return name
    legal = [f for text, f in candidates.items() if text != name and is_legal_name(text)]
    chosen = max(legal, key=lambda f: f.confidence, default=None)
    return clean_text(chosen.text) if chosen is not None else None


def _vendor_address(doc: Document) -> str | None:
    receiver = {f.text for f in doc.summary if "RECEIVER" in f.groups or f.type == "RECEIVER_ADDRESS"}
    chosen = best(doc.of("VENDOR_ADDRESS")) or best(
        f for f in doc.of("ADDRESS") if "VENDOR" in f.groups and f.text not in receiver
    )
    if chosen is None:
        return None
    return ", ".join(part.strip(" ,") for part in chosen.text.splitlines() if part.strip(" ,"))


def _vendor_from_url(doc: Document) -> tuple[str, float | None]:
    """No name field: a seller's web address is the next best thing ("Amazon.com")."""
    urls = doc.of("VENDOR_URL")
    chosen = best(urls)
    if chosen is None:
        return "", None
    domain = re.sub(r"^[a-z]+:\s*//", "", chosen.text.strip(), flags=re.I)
    domain = re.sub(r"^www\.", "", domain.split("/")[0], flags=re.I)
    # Prefer the capitalization printed as plain text ("Amazon.com") over the link's.
    for f in urls:
        text = f.text.strip()
        if text.lower() == domain.lower() and text != text.lower():
            domain = text
    return domain, chosen.confidence


# ---- currency ---------------------------------------------------------------------------


def _currency(doc: Document) -> tuple[str | None, float | None, list[str]]:
    money_fields = [f for f in doc.summary if f.type in MONEY_TYPES] + [
        f for row in doc.rows for f in row.fields if f.type in ROW_MONEY_TYPES
    ]
    votes: Counter[str] = Counter()
    confidence: dict[str, float] = {}
    explicit_usd = False
    for f in money_fields:
        code = detect_currency(f.text) or detect_currency(f.label) or f.currency
        if code is None:
            continue
        explicit_usd = explicit_usd or bool(_EXPLICIT_USD.search(f.text + " " + f.label))
        votes[code] += 1
        confidence[code] = max(confidence.get(code, 0.0), f.confidence)
    if not votes:
        return None, None, []
    if "USD" in votes and not explicit_usd:
        dollar = _dollar_of(doc)
        if dollar != "USD":
            votes[dollar] += votes.pop("USD")
            confidence[dollar] = max(confidence.get(dollar, 0.0), confidence.pop("USD"))
    code, _ = votes.most_common(1)[0]
    notes = []
    if len(votes) > 1:
        notes.append(f"currency: amounts in several currencies ({', '.join(sorted(votes))})")
    return code, confidence[code], notes


def _dollar_of(doc: Document) -> str:
    place = " ".join(
        f.text
        for f in doc.summary
        if "ADDRESS" in f.type or f.type in ("CITY", "STATE", "COUNTRY", "ZIP_CODE", "OTHER")
    )
    for code, pattern in _DOLLAR_LOCALES:
        if pattern.search(place):
            return code
    return "USD"


# ---- date -------------------------------------------------------------------------------


def _purchase_date(
    doc: Document, currency: str | None, latest: date
) -> tuple[date | None, float | None, list[str]]:
    printed = sorted(doc.of("INVOICE_RECEIPT_DATE"), key=lambda f: -f.confidence)
    # Without a receipt date, a labelled date ("Date of Visit") is still the purchase day;
    # birth dates, due dates and card expiry dates are not.
    labelled = sorted(
        (
            f
            for f in doc.summary
            if f.type == "OTHER"
            and f.text
            and _DATE_LABEL.search(f.label)
            and not _NOT_PURCHASE_DATE.search(f.label)
        ),
        key=lambda f: -f.confidence,
    )
    problems: list[str] = []
    for f in [*printed, *labelled]:
        try:
            day = parse_date(f.text, day_first=day_first_for(currency), today=latest)
        except DateError as exc:
            if f in printed:
                problems.append(_date_problem(f.text, exc))
            continue
        return day, f.confidence, []
    return None, None, problems[:1]


def _date_problem(text: str, exc: DateError) -> str:
    if "plausible" in str(exc):
        return f"purchase_date: {text!r} is in the future or more than 10 years ago"
    return f"purchase_date: {text!r} is not a date that could be read"


# ---- line items -------------------------------------------------------------------------


def _line_items(rows: Sequence[Row]) -> tuple[list[LineItem], list[float], int]:
    items: list[LineItem] = []
    confidences: list[float] = []
    without_amount = 0
    for row in rows:
        parsed = _line_item(row)
        if parsed is None:
            continue
        item, item_confidence = parsed
        items.append(item)
        confidences.append(item_confidence)
        if item.amount is None:
            without_amount += 1
    return items, confidences, without_amount


def _line_item(row: Row) -> tuple[LineItem, float] | None:
    codes = [f.text for f in row.of("PRODUCT_CODE")]
    name_field = row.first("ITEM", "DESCRIPTION")
    price = row.first("PRICE") or _row_total(row)
    quantity_field = row.first("QUANTITY")
    unit_field = row.first("UNIT_PRICE")
    if name_field is not None:
        description = clean_text(name_field.text, drop=codes)
    else:
        # No ITEM: the row's text minus the amounts and codes read from it.
        row_field = row.first("EXPENSE_ROW")
        if row_field is None:
            return None
        name_field = row_field
        numbers = [f.text for f in (price, quantity_field, unit_field) if f is not None]
        description = clean_text(row_field.text, drop=[*numbers, *codes])
        description = re.sub(r"(\s+[A-Z])+$", "", description)  # tax-class flags ("S", "V")
    amount = _money(price)
    quantity = _quantity(quantity_field)
    unit_price = _money(unit_field)
    if amount is not None and price is not None and quantity is None and unit_price:
        amount = _repair_amount(price.text, amount, unit_price)
    if amount is None and quantity is not None and unit_price is not None:
        amount = (quantity * unit_price).quantize(CENT)
    if not description and amount is None:
        return None
    if _SUMMARY_ROW.match(description):
        return None
    used = [f for f in (name_field, price) if f is not None]
    item_confidence = min(f.confidence for f in used)
    return (
        LineItem(
            description=description or "(unreadable item)",
            quantity=quantity,
            unit_price=unit_price,
            amount=amount,
        ),
        item_confidence,
    )


def _row_total(row: Row) -> Field | None:
    """Rows without PRICE carry their amount as TOTAL/AMOUNT; the last one is the line's."""
    totals = [f for f in row.of("TOTAL", "AMOUNT") if f.text.strip()]
    return totals[-1] if totals else None


def _repair_amount(text: str, amount: Decimal, unit_price: Decimal) -> Decimal:
    """A price whose first digit OCR turned into a mark ("/6.50" for "76.50") while the
    quantity was unreadable: when exactly one whole quantity times the unit price ends in
    the digits that were read, that product is the price. Otherwise the reading stands."""
    if amount % unit_price == 0 or not re.match(r"^\s*[^\d\s$€£¥(+-]\d", text):
        return amount
    read = format(amount, "f")
    fits = [n * unit_price for n in range(1, 100) if format(n * unit_price, "f").endswith(read)]
    return fits[0] if len(fits) == 1 else amount


# ---- amounts ----------------------------------------------------------------------------


class _Amounts:
    def __init__(self) -> None:
        self.breakdown = Breakdown()
        self.total: Decimal | None = None
        self.confidence: dict[str, float] = {}
        self.notes: list[str] = []


def _sum_distinct(fields: Sequence[Field]) -> tuple[Decimal | None, Decimal | None, float | None]:
    """(sum over differently labelled amounts, the largest single amount, confidence).

    A receipt may print its tax twice (on the slip and in a footer) or as several taxes
    (GST + PST); the same label and amount counts once."""
    seen: dict[tuple[str, Decimal], Field] = {}
    for f in fields:
        value = _money(f)
        if value is not None:
            seen.setdefault((f.label.lower(), value), f)
    if not seen:
        return None, None, None
    values = [v for _, v in seen]
    distinct_by_value = {v for v in values}
    total = sum(values, Decimal(0)) if len(distinct_by_value) > 1 else values[0]
    return total, max(values), min(f.confidence for f in seen.values())


def _amounts(doc: Document, items: list[LineItem], items_without_amount: int) -> _Amounts:
    out = _Amounts()
    summary = [f for f in doc.summary if f.text]

    totals = [f for f in summary if f.type == "TOTAL"]
    subtotal_fields = [f for f in summary if f.type == "SUBTOTAL"] + [
        f for f in totals if _SUB_LABEL.search(f.label)
    ]
    tax_fields = [f for f in summary if f.type == "TAX"] + [
        f for f in totals if _TAX_LABEL.search(f.label) and not _INCLUSIVE.search(f.label)
    ]
    totals = [f for f in totals if f not in subtotal_fields and f not in tax_fields]
    tip_fields = [f for f in summary if f.type == "GRATUITY"] + [
        f for f in summary if f.type == "OTHER" and _TIP_LABEL.search(f.label)
    ]
    rounding_fields = [f for f in summary if _ROUNDING_LABEL.search(f.label)]
    charge_fields = [f for f in summary if f.type in ("SERVICE_CHARGE", "SHIPPING_HANDLING_CHARGE")]
    discount_fields = [f for f in summary if f.type == "DISCOUNT"]

    subtotal_field = best(f for f in subtotal_fields if _money(f) is not None)
    tax_sum, tax_max, tax_conf = _sum_distinct(tax_fields)
    tip, _, tip_conf = _sum_distinct(tip_fields)
    discount, _, discount_conf = _sum_distinct(discount_fields)
    rounding_field = best(f for f in rounding_fields if _money(f) is not None)
    charges, _, _ = _sum_distinct(charge_fields)

    item_amounts = tuple(i.amount for i in items if i.amount is not None)
    breakdown = Breakdown(
        items=item_amounts,
        items_without_amount=items_without_amount,
        subtotal=_money(subtotal_field),
        tax=tax_sum,
        tip=abs(tip) if tip is not None else None,
        discount=abs(discount) if discount is not None else None,
        rounding=_money(rounding_field),
        charges=charges,
    )

    # Candidates for the total, most trustworthy kind first.
    strong = [f for f in totals if not _WEAK_TOTAL.search(f.label)] + [
        f for f in summary if f.type == "AMOUNT_DUE"
    ]
    paid = [f for f in summary if f.type == "AMOUNT_PAID"]
    weak = [f for f in totals if _WEAK_TOTAL.search(f.label)]
    tiers = [sorted(tier, key=lambda f: (-f.confidence, f.page, f.top)) for tier in (strong, paid, weak)]
    candidates = [(f, v) for tier in tiers for f in tier if (v := _money(f)) is not None]
    nonzero = [(f, v) for f, v in candidates if v != 0] or candidates

    # Several taxes or one printed twice: whichever reading makes the receipt add up.
    if tax_max is not None and tax_sum != tax_max:
        alt = replace(breakdown, tax=tax_max)
        if not any(checks.balances(breakdown, v) for _, v in nonzero) and any(
            checks.balances(alt, v) for _, v in nonzero
        ):
            breakdown = alt

    chosen = next(((f, v) for f, v in nonzero if checks.balances(breakdown, v)), None)
    chosen = chosen or (nonzero[0] if nonzero else None)
    if chosen is not None:
        out.total = chosen[1]
        out.confidence["total"] = chosen[0].confidence
    elif breakdown.subtotal is not None and not item_amounts:
        # Only a subtotal was printed (or read): the total is implied, and flagged.
        formula, value = next(checks.explanations(breakdown))
        out.total = value
        out.notes.append(f"total: not printed; taken as {formula}")
        if subtotal_field is not None:
            out.confidence["total"] = subtotal_field.confidence

    out.breakdown = breakdown
    for name, conf in (
        ("subtotal", subtotal_field.confidence if subtotal_field else None),
        ("tax", tax_conf),
        ("tip", tip_conf),
        ("discount", discount_conf),
    ):
        if conf is not None:
            out.confidence[name] = conf
    return out


# ---- payment ----------------------------------------------------------------------------


def _payment_method(doc: Document) -> str | None:
    """The tender used ("VISA", "CASH"), never the card number: a brand in a value
    ("**** VISA 3433"), or a tender word as the label of an amount ("CASH 50.00")."""
    for f in doc.summary:
        value = f.text.upper()
        for word, method in _TENDER_WORDS:
            if word in value and any(ch.isdigit() or ch == "*" for ch in value):
                return method
            if f.label.upper().strip(" :") == word and _money(f) is not None:
                return method
    return None
