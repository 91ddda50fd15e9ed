"""Synthetic spending histories in the lake's shape, for the forecast backtest and tests.

``bench/etl_data.py`` draws receipt dates uniformly, which has no monthly structure to
forecast. These histories have what real spending has: habits (a shop visited a few
times a month, each visit a basket), a slow per-user trend, a yearly season per category
shared by everyone (December dining and shopping, summer travel, winter utilities), a
month-wide shock (a busy month raises every habit), occasional large one-off purchases,
tips that the line items do not show, refunds, and FAILED/PENDING receipts without
amounts. Users start at different times, so some histories are a few months long.

Everything is drawn from one ``numpy`` generator seeded by the caller: tune on one seed,
assert on another. The figures they give are synthetic, not a claim about real users.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Shop:
    name: str
    category: str  # the receipt's category (stored names, some legacy, as in the lake)
    visits: float  # typical visits a month for a user who has the habit
    items: tuple[tuple[str, float, str], ...]  # (description, price in EUR-like units, category)


SHOPS: tuple[Shop, ...] = (
    Shop(
        "FreshMart",
        "groceries_fresh",
        4.0,
        (
            ("Milk 1l", 1.2, "groceries_fresh"),
            ("Sourdough", 3.5, "groceries_fresh"),
            ("Apples 1kg", 2.8, "groceries_fresh"),
            ("Pasta", 1.6, "groceries_pantry"),
            ("Orange juice", 2.9, "groceries_drinks"),
            ("Dish soap", 2.2, "household"),
        ),
    ),
    Shop(
        "Corner Market",
        "groceries",
        3.0,
        (("Rice 2kg", 4.5, "groceries_pantry"), ("Eggs", 3.2, "groceries_fresh"), ("Wine", 8.0, "alcohol")),
    ),
    Shop(
        "Le Bistro",
        "dining",
        1.5,
        (("Menu du jour", 18.0, "dining"), ("Glass of wine", 6.5, "dining"), ("Dessert", 7.0, "dining")),
    ),
    Shop("Cafe Lumen", "dining", 5.0, (("Flat white", 3.8, "dining"), ("Croissant", 2.9, "dining"))),
    Shop("Shell", "fuel", 2.0, (("Fuel", 55.0, "transport"), ("Car wash", 9.0, "transport"))),
    Shop("City Pharmacy", "health", 0.8, (("Ibuprofen", 5.5, "health"), ("Shampoo", 4.5, "personal_care"))),
    Shop("PowerCo", "utilities", 1.0, (("Electricity bill", 70.0, "utilities_services"),)),
    Shop("StreamFlix", "services", 1.0, (("Monthly plan", 12.99, "entertainment"),)),
    Shop("Cinema Palace", "leisure", 0.7, (("Ticket", 11.0, "entertainment"), ("Popcorn", 6.0, "dining"))),
    Shop("Style Store", "clothing", 0.5, (("T-shirt", 19.0, "shopping"), ("Jeans", 59.0, "shopping"))),
    Shop(
        "Home Depot", "household", 0.4, (("Light bulbs", 9.0, "household"), ("Drill bits", 24.0, "household"))
    ),
)
# One-off large purchases (the "spikes"): shop, item, price.
BIG_TICKETS: tuple[tuple[str, str, str, float], ...] = (
    ("Media Markt", "electronics", "Laptop", 900.0),
    ("Sunset Hotel", "travel", "Hotel, 3 nights", 450.0),
    ("Furniture World", "household", "Sofa", 700.0),
)
# Yearly season by taxonomy slug (January first); categories not named are flat.
SEASON: dict[str, tuple[float, ...]] = {
    "dining": (0.8, 0.85, 0.95, 1.0, 1.05, 1.1, 1.15, 1.1, 1.0, 0.95, 1.0, 1.45),
    "shopping": (1.1, 0.7, 0.8, 0.9, 0.9, 0.9, 1.0, 0.9, 0.9, 1.0, 1.5, 1.8),
    "travel": (0.6, 0.6, 0.8, 1.0, 1.0, 1.5, 2.5, 2.5, 1.0, 0.8, 0.6, 1.2),
    "utilities_services": (1.35, 1.3, 1.15, 1.0, 0.85, 0.75, 0.75, 0.75, 0.85, 1.0, 1.15, 1.3),
    "groceries_fresh": (0.95, 0.9, 0.95, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.25),
    "alcohol_tobacco": (0.8, 0.8, 0.9, 1.0, 1.0, 1.1, 1.2, 1.1, 1.0, 0.9, 0.9, 1.6),
    "entertainment": (1.0, 0.9, 0.9, 0.9, 0.9, 1.0, 1.2, 1.2, 0.9, 0.9, 1.0, 1.3),
}
_SEASON_OF_SHOP = {  # the receipt category's season drives a shop's visits
    "groceries_fresh": "groceries_fresh",
    "groceries": "groceries_fresh",
    "dining": "dining",
    "fuel": "transport",
    "utilities": "utilities_services",
    "services": "entertainment",
    "leisure": "entertainment",
    "clothing": "shopping",
}
# EUR-like prices times this, so every currency has its own magnitudes.
CURRENCIES: dict[str, float] = {"EUR": 1.0, "USD": 1.1, "GBP": 0.85, "JPY": 160.0, "ZAR": 20.0}
RECEIPT_COLUMNS = [
    "receipt_id",
    "user_id",
    "status",
    "vendor_name",
    "vendor_key",
    "spend_date",
    "currency",
    "total",
    "is_refund",
    "category",
]
ITEM_COLUMNS = [
    "receipt_id",
    "user_id",
    "line_number",
    "description",
    "quantity",
    "amount",
    "category",
    "currency",
    "vendor_key",
    "spend_date",
    "receipt_status",
]


def _money(x: float) -> Decimal:
    return Decimal(f"{x:.2f}")


def synthetic_lake(
    *, users: int = 40, months: int = 36, end: str = "2026-11", seed: int = 0, spike_rate: float = 0.02
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(receipts, line_items)`` as ``receiptlake.lake.read`` returns them (the columns the
    ML layer reads: money as ``Decimal``, dates as ``datetime.date``)."""
    rng = np.random.default_rng(seed)
    last = pd.Period(end, freq="M")
    receipts: list[dict[str, object]] = []
    items: list[dict[str, object]] = []
    lengths = np.array([2, 4, 8, 14, 20, months, months, months, months])
    for _ in range(users):
        user_id = str(uuid.UUID(bytes=rng.bytes(16), version=4))
        currency = str(rng.choice(list(CURRENCIES)))
        factor = CURRENCIES[currency]
        n_months = int(min(rng.choice(lengths), months))
        scale = float(rng.lognormal(0.0, 0.4))
        trend = float(rng.normal(0.0, 0.008))  # per month
        chosen = rng.choice(len(SHOPS), size=int(rng.integers(4, len(SHOPS) + 1)), replace=False)
        habits = [(SHOPS[i], SHOPS[i].visits * float(rng.lognormal(0.0, 0.35))) for i in chosen]
        for k in range(n_months):
            period = last - (n_months - 1 - k)
            shock = float(rng.lognormal(0.0, 0.15))
            level = scale * (1.0 + trend) ** k * shock
            days = period.days_in_month
            for shop, rate in habits:
                season = SEASON.get(_SEASON_OF_SHOP.get(shop.category, shop.category), (1.0,) * 12)
                for _visit in range(int(rng.poisson(rate * level * season[period.month - 1]))):
                    day = date(period.year, period.month, int(rng.integers(1, days + 1)))
                    _receipt(rng, receipts, items, user_id, currency, factor, shop, day)
            if rng.random() < spike_rate:
                name, category, desc, price = BIG_TICKETS[int(rng.integers(len(BIG_TICKETS)))]
                big = Shop(name, category, 0.0, ((desc, price * float(rng.uniform(0.7, 1.5)), category),))
                day = date(period.year, period.month, int(rng.integers(1, days + 1)))
                _receipt(rng, receipts, items, user_id, currency, factor, big, day, basket=1)
    return pd.DataFrame(receipts, columns=RECEIPT_COLUMNS), pd.DataFrame(items, columns=ITEM_COLUMNS)


def _receipt(
    rng: np.random.Generator,
    receipts: list[dict[str, object]],
    items: list[dict[str, object]],
    user_id: str,
    currency: str,
    factor: float,
    shop: Shop,
    day: date,
    basket: int | None = None,
) -> None:
    receipt_id = uuid.UUID(bytes=rng.bytes(16), version=4).hex
    status = str(rng.choice(["PROCESSED", "NEEDS_REVIEW", "FAILED", "PENDING"], p=[0.9, 0.06, 0.025, 0.015]))
    vendor_key = shop.name.lower().replace(" ", "-")
    row: dict[str, object] = {
        "receipt_id": receipt_id,
        "user_id": user_id,
        "status": status,
        "vendor_name": shop.name,
        "vendor_key": vendor_key,
        "spend_date": day,
        "currency": currency,
        "total": None,
        "is_refund": False,
        "category": shop.category,
    }
    receipts.append(row)
    if status in ("FAILED", "PENDING"):
        return
    refund = rng.random() < 0.01
    sign = -1.0 if refund else 1.0
    count = basket or int(rng.integers(1, len(shop.items) + 1))
    total = 0.0
    for line, index in enumerate(rng.choice(len(shop.items), size=count), start=1):
        desc, price, category = shop.items[int(index)]
        quantity = int(rng.choice([1, 1, 1, 2]))
        amount = round(sign * quantity * price * factor * float(rng.uniform(0.9, 1.1)), 2)
        total += amount
        items.append(
            {
                "receipt_id": receipt_id,
                "user_id": user_id,
                "line_number": line,
                "description": desc,
                "quantity": Decimal(quantity),
                "amount": _money(amount),
                "category": category,
                "currency": currency,
                "vendor_key": vendor_key,
                "spend_date": day,
                "receipt_status": status,
            }
        )
    if shop.category == "dining" and not refund and rng.random() < 0.5:
        total += round(0.1 * total, 2)  # the tip: on the total, not on any line
    row.update(total=_money(total), is_refund=refund)
