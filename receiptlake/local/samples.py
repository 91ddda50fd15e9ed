"""Sample receipts for the demo, rendered by the project itself (ours to ship).

Deterministic: the same seed gives the same receipts. Several layouts and currencies,
and months of history so analytics and forecasts have something to show.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from PIL import Image, ImageDraw, ImageFont

from lambda_src.common.money import quantize


@dataclass(frozen=True)
class SampleItem:
    description: str
    quantity: int
    unit_price: Decimal
    category: str

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class SampleReceipt:
    vendor: str
    legal_name: str | None
    address: str
    currency: str
    purchase_date: date
    items: tuple[SampleItem, ...]
    tax_rate: Decimal
    tax_included: bool
    tip: Decimal
    category: str

    @property
    def subtotal(self) -> Decimal:
        return sum((i.amount for i in self.items), Decimal(0))

    @property
    def tax(self) -> Decimal:
        if self.tax_included:
            return quantize(self.subtotal - self.subtotal / (1 + self.tax_rate))
        return quantize(self.subtotal * self.tax_rate)

    @property
    def total(self) -> Decimal:
        extra = Decimal(0) if self.tax_included else self.tax
        return self.subtotal + extra + self.tip


@dataclass(frozen=True)
class _Shop:
    name: str
    legal_name: str | None
    address: str
    currency: str
    category: str
    tax_rate: str
    tax_included: bool
    items: tuple[tuple[str, str, str], ...]  # description, unit price, category
    visits_per_month: int
    tips: bool = False


SHOPS: tuple[_Shop, ...] = (
    _Shop(
        "FRESHMART",
        "FreshMart Stores Ltd",
        "12 High Street, Bristol BS1 4DJ",
        "GBP",
        "groceries",
        "0.20",
        True,
        (
            ("MILK 2L", "1.45", "groceries"),
            ("SOURDOUGH BREAD", "2.80", "groceries"),
            ("FREE RANGE EGGS", "3.10", "groceries"),
            ("BANANAS", "0.95", "groceries"),
            ("CHEDDAR CHEESE", "3.60", "groceries"),
            ("DISH SOAP", "1.75", "household"),
            ("TOILET PAPER 9PK", "4.50", "household"),
            ("RED WINE", "8.00", "alcohol"),
        ),
        4,
    ),
    _Shop(
        "Cafe Lumen",
        None,
        "Kastanienallee 7, 10435 Berlin",
        "EUR",
        "dining",
        "0.19",
        True,
        (
            ("Cappuccino", "3.40", "dining"),
            ("Croissant", "2.60", "dining"),
            ("Flat White", "3.80", "dining"),
            ("Avocado Toast", "8.90", "dining"),
        ),
        3,
    ),
    _Shop(
        "Shell",
        "Shell Deutschland GmbH",
        "Hauptstrasse 101, 80331 Muenchen",
        "EUR",
        "fuel",
        "0.19",
        True,
        (("SUPER E10 FUEL", "1.79", "fuel"),),
        2,
    ),
    _Shop(
        "Green Pharmacy",
        "Green Pharmacy LLC",
        "410 Market St, San Francisco, CA 94111",
        "USD",
        "health",
        "0.0863",
        False,
        (
            ("IBUPROFEN 200MG", "7.99", "health"),
            ("VITAMIN D3", "11.49", "health"),
            ("TOOTHPASTE", "3.99", "personal_care"),
            ("SHAMPOO", "6.49", "personal_care"),
        ),
        1,
    ),
    _Shop(
        "Taqueria Sol",
        None,
        "2288 Mission St, San Francisco, CA 94110",
        "USD",
        "dining",
        "0.0863",
        False,
        (
            ("CARNITAS BURRITO", "12.50", "dining"),
            ("CHIPS & SALSA", "4.25", "dining"),
            ("HORCHATA", "3.75", "dining"),
            ("FISH TACOS", "11.00", "dining"),
        ),
        2,
        tips=True,
    ),
)


def generate(seed: int = 2026, *, months: int = 6, today: date | None = None) -> list[SampleReceipt]:
    """Receipts over the last ``months`` months, a little more spent each month (so the
    forecast has a trend) and one unusually large grocery shop (so there is an anomaly)."""
    rng = random.Random(seed)  # noqa: S311 - sample data, not security
    today = today or date.today()
    receipts: list[SampleReceipt] = []
    for month_back in range(months - 1, -1, -1):
        first = _months_before(today.replace(day=1), month_back)
        last_day = today.day if month_back == 0 else 28
        for shop in SHOPS:
            # The month so far gets its share of the visits (on the 1st, one each), so an
            # early-month demo does not stack a whole month's receipts on one day.
            visits = shop.visits_per_month
            if month_back == 0:
                visits = min(visits, math.ceil(visits * today.day / 28))
            for _ in range(visits):
                day = first + timedelta(days=rng.randrange(last_day))
                receipts.append(_receipt(rng, shop, day, growth=1 + (months - month_back) * 0.03))
    anomaly_day = today - timedelta(days=min(today.day - 1, 3))
    receipts.append(_receipt(rng, SHOPS[0], anomaly_day, growth=1.0, basket=18))
    return sorted(receipts, key=lambda r: r.purchase_date)


def _months_before(first: date, months: int) -> date:
    """The first of the month ``months`` calendar months before ``first`` (a first of month)."""
    index = first.year * 12 + first.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _receipt(
    rng: random.Random, shop: _Shop, day: date, *, growth: float, basket: int | None = None
) -> SampleReceipt:
    count = basket or rng.randint(1, min(4, len(shop.items)))
    chosen: list[SampleItem] = []
    for description, price, category in rng.sample(shop.items * 3, count)[:count]:
        quantity = rng.randint(20, 45) if category == "fuel" else rng.choice((1, 1, 1, 2))
        unit = quantize(Decimal(price) * Decimal(str(round(growth, 2))))
        chosen.append(SampleItem(description, quantity, unit, category))
    subtotal = sum((i.amount for i in chosen), Decimal(0))
    tip = quantize(subtotal * Decimal("0.15")) if shop.tips else Decimal(0)
    return SampleReceipt(
        vendor=shop.name,
        legal_name=shop.legal_name,
        address=shop.address,
        currency=shop.currency,
        purchase_date=day,
        items=tuple(chosen),
        tax_rate=Decimal(shop.tax_rate),
        tax_included=shop.tax_included,
        tip=tip,
        category=shop.category,
    )


# Codes rather than "£" and "€": the font render() uses (Pillow's bundled Aileron) has no
# glyph for either and draws an empty box, which no OCR reads as a currency.
SYMBOLS = {"GBP": "GBP ", "EUR": "EUR ", "USD": "$"}


def _date_text(receipt: SampleReceipt) -> str:
    if receipt.currency == "USD":
        return receipt.purchase_date.strftime("%m/%d/%Y")
    return receipt.purchase_date.strftime("%d/%m/%Y")


def lines(receipt: SampleReceipt) -> Iterator[tuple[str, str]]:
    """(left, right) text rows as printed."""
    yield receipt.vendor.upper(), ""
    if receipt.legal_name:
        yield receipt.legal_name, ""
    yield receipt.address, ""
    yield f"DATE {_date_text(receipt)}  12:{receipt.purchase_date.day + 10:02d}", ""
    yield "", ""
    for item in receipt.items:
        if item.quantity > 1:
            yield item.description, ""
            yield f"  {item.quantity} x {item.unit_price}", f"{item.amount:.2f}"
        else:
            yield item.description, f"{item.amount:.2f}"
    yield "", ""
    yield "SUBTOTAL", f"{receipt.subtotal:.2f}"
    label = f"VAT {receipt.tax_rate * 100:.0f}% INCL" if receipt.tax_included else "SALES TAX"
    yield label, f"{receipt.tax:.2f}"
    if receipt.tip:
        yield "TIP", f"{receipt.tip:.2f}"
    yield "TOTAL", f"{SYMBOLS[receipt.currency]}{receipt.total:.2f}"
    yield "", ""
    yield "THANK YOU FOR SHOPPING", ""


def receipt_font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The font receipts are printed in."""
    return ImageFont.load_default(size=26)


def render(receipt: SampleReceipt, *, width: int = 720) -> bytes:
    """The receipt as a PNG, printed in a receipt-like layout."""
    font = receipt_font()
    rows = list(lines(receipt))
    line_height = 38
    image = Image.new("RGB", (width, 80 + line_height * len(rows)), "white")
    draw = ImageDraw.Draw(image)
    for index, (left, right) in enumerate(rows):
        y = 40 + index * line_height
        if index == 0:
            text_width = draw.textlength(left, font=font)
            draw.text(((width - text_width) / 2, y), left, fill="black", font=font)
            continue
        draw.text((40, y), left, fill="black", font=font)
        if right:
            draw.text((width - 40 - draw.textlength(right, font=font), y), right, fill="black", font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
