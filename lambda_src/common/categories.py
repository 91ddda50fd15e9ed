"""The spending taxonomy: one vocabulary for line items and receipts, shared by ingest (the
categorizer), the API (corrections), the ML layer (training labels) and the web app.

Why these kinds: a person asks "how much went on food I cooked vs. food I ate out, on
drinks and on alcohol", and "what else". Groceries are split by how people budget them
(fresh, pantry, drinks); alcohol and tobacco stand apart because people track them apart.
``docs/categories.md`` explains each category with examples and the mapping from the
training data's labels (``ml/labels.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lambda_src.common.model import UNCATEGORIZED


@dataclass(frozen=True)
class Category:
    slug: str
    label: str
    description: str


TAXONOMY: tuple[Category, ...] = (
    Category("groceries_fresh", "Groceries: fresh", "fruit, vegetables, meat, fish, dairy, eggs, bread"),
    Category("groceries_pantry", "Groceries: pantry", "packaged and dry food, snacks, sauces, frozen food"),
    Category("groceries_drinks", "Groceries: drinks", "water, juice, soft drinks, coffee, tea to take home"),
    Category("alcohol_tobacco", "Alcohol & tobacco", "beer, wine, spirits, cigarettes"),
    Category("dining", "Dining out", "restaurants, cafes, takeaway, food and drinks served, service charges"),
    Category("transport", "Transport & fuel", "fuel, parking, tolls, fares, taxis, car care"),
    Category("household", "Household", "cleaning, home goods, hardware, tools, furniture, bags"),
    Category("health", "Health", "pharmacy, medicine, doctors"),
    Category("personal_care", "Personal care", "toiletries, cosmetics, hair and beauty"),
    Category("shopping", "Shopping", "clothing, electronics, office supplies, gifts, general merchandise"),
    Category("entertainment", "Entertainment", "cinema, events, games, streaming, hobbies"),
    Category("travel", "Travel", "hotels, flights, trips"),
    Category("utilities_services", "Utilities & services", "power, phone, internet, subscriptions, fees"),
    Category("other", "Other", "anything that fits none of the above"),
)

CATEGORY_SLUGS: tuple[str, ...] = tuple(c.slug for c in TAXONOMY)
LABELS: Mapping[str, str] = {c.slug: c.label for c in TAXONOMY}

# Names stored before this taxonomy (the keyword baseline's first vocabulary and the web
# app's first suggestions). Readers map them so history and new receipts add up.
LEGACY: Mapping[str, str] = {
    "groceries": "groceries_pantry",
    "alcohol": "alcohol_tobacco",
    "electronics": "shopping",
    "office": "shopping",
    "clothing": "shopping",
    "fuel": "transport",
    "fees": "utilities_services",
    "services": "utilities_services",
    "utilities": "utilities_services",
    "leisure": "entertainment",
}


def canonical(category: str | None) -> str:
    """A stored category in today's taxonomy: legacy names mapped, unknown ones ``other``,
    nothing ``uncategorized``."""
    if category is None:
        return UNCATEGORIZED
    name = category.strip().lower()
    if not name or name == UNCATEGORIZED:
        return UNCATEGORIZED
    if name in LABELS:
        return name
    return LEGACY.get(name, "other")
