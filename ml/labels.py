"""Training labels for the categorizer: the public datasets' labels mapped onto the taxonomy
(``lambda_src/common/categories.py``), users' corrections from the lake, and the held-out
split that no training step sees.

The receipt dataset's item labels are unnormalised and often say "food" whether it was
eaten in a restaurant or bought in a supermarket, so the mapping reads the receipt's own
label too: the same "Coca Cola" is ``dining`` on a restaurant bill and ``groceries_drinks``
on a supermarket receipt. Items whose label says nothing ("Retail", "Miscellaneous",
"Goods") or that are not spending (discounts) are left out rather than guessed.
"""

from __future__ import annotations

import csv
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lambda_src.common.categories import LABELS, canonical
from lambda_src.common.model import UNCATEGORIZED

DATA_DIR = Path(__file__).with_name("data")
RECEIPT_ITEMS = DATA_DIR / "receipt_items.csv"
BANK_TRANSACTIONS = DATA_DIR / "bank_transactions.csv"

# The held-out split: a receipt (all its items together, so a bill's repeated lines never
# sit on both sides) is in the test part when crc32(id) % 100 < TEST_PERCENT. Fixed, so
# every run and every model is scored on the same receipts.
TEST_PERCENT = 20
VALIDATION_PERCENT = 15  # of the rest: early stopping and model choice


@dataclass(frozen=True)
class Example:
    group: str  # receipt or transaction id: the unit of the split
    description: str
    vendor: str
    label: str
    source: str


def split_of(group: str) -> str:
    """``test``, ``validation`` or ``train``: a pure function of the id."""
    bucket = zlib.crc32(group.encode()) % 100
    if bucket < TEST_PERCENT:
        return "test"
    if bucket < TEST_PERCENT + VALIDATION_PERCENT:
        return "validation"
    return "train"


def _norm(label: str) -> str:
    return re.sub(r"[^a-z]+", " ", label.lower()).strip()


_DINING_RECEIPT = {
    "dining", "restaurant", "meals", "meal", "meals and entertainment", "food dining",
    "cafe", "coffee shop", "fast food",
}  # fmt: skip
_GROCERY_RECEIPT = {"groceries", "grocery", "supermarket", "retail", "sales", "purchase", "goods"}
_FOOD_ITEM = {
    "food", "beverage", "beverages", "drink", "drinks", "food beverage", "food and beverage",
    "food beverages", "food and beverages", "snack", "snacks", "dessert", "bakery", "pastry",
    "cake", "bread", "dairy", "fruit", "fruits", "fruits vegetables", "fruits and vegetables",
    "produce", "vegetables", "meat", "seafood", "condiment", "condiments", "nuts", "soup",
    "salad", "sushi", "groceries", "grocery", "coffee", "tea", "ice cream", "frozen food",
    "food dining", "food and drinks", "food drinks",
}  # fmt: skip
_MEAL_ITEM = {
    "main course", "entree", "appetizer", "side", "side dish", "meal", "dining", "add on",
    "add ons", "topping", "toppings", "combo", "set menu", "main", "main dish", "starter",
}  # fmt: skip
_FRESH_ITEM = {
    "dairy", "fruit", "fruits", "fruits vegetables", "fruits and vegetables", "produce",
    "vegetables", "meat", "seafood", "bakery", "bread", "eggs",
}  # fmt: skip
_DRINK_ITEM = {"beverage", "beverages", "drink", "drinks", "coffee", "tea"}
_DIRECT: dict[str, str] = {
    **dict.fromkeys(("fuel", "gas", "gasoline", "diesel", "parking", "toll", "toll fee",
                     "transportation", "transport", "taxi", "car wash", "tolls", "automotive",
                     "car supplies"), "transport"),
    **dict.fromkeys(("alcohol", "beer", "wine", "liquor", "tobacco", "cigarettes"), "alcohol_tobacco"),
    **dict.fromkeys(("hardware", "tools", "home goods", "household", "cleaning supplies",
                     "cleaning products", "plumbing", "lighting", "furniture", "kitchenware",
                     "home improvement", "building materials", "construction materials",
                     "electrical", "home decor", "home garden", "household supplies",
                     "household items", "lock hardware", "packaging", "glass", "keys",
                     "home appliances", "garden", "paint", "hardware supplies", "appliances",
                     "glassware", "candle", "utensils", "bag", "bags", "baby products"), "household"),
    **dict.fromkeys(("personal care", "toiletries", "cosmetics", "beauty"), "personal_care"),
    **dict.fromkeys(("health", "pharmacy", "medicine", "medical", "healthcare"), "health"),
    **dict.fromkeys(("electronics", "office supplies", "stationery", "clothing", "apparel",
                     "accessories", "toys", "books", "gifts", "shoes"), "shopping"),
    **dict.fromkeys(("postal service", "utilities", "services", "subscription", "telecom",
                     "bank fees", "fees", "telecommunications", "laundry service"), "utilities_services"),
    **dict.fromkeys(("entertainment", "recreation", "games"), "entertainment"),
    **dict.fromkeys(("travel", "lodging", "hotel", "accommodation", "airfare"), "travel"),
}  # fmt: skip
_SERVICE_CHARGE = {"service charge", "service fee", "service", "tip", "takeaway"}
_SAYS_NOTHING = {
    "", "retail", "miscellaneous", "misc", "goods", "general", "general merchandise",
    "general goods", "item", "items", "product", "products", "purchase", "sales", "other",
    "supplies", "discount", "none", "n a", "unknown", "deposit", "tax",
}  # fmt: skip


def receipt_item_label(item_category: str, item_accounting: str, receipt_category: str) -> str | None:
    """The taxonomy slug of one dataset item, or None when its labels do not say."""
    item, accounting, receipt = _norm(item_category), _norm(item_accounting), _norm(receipt_category)
    for label in (item, accounting):
        if label in _DIRECT:
            return _DIRECT[label]
    dining_receipt = receipt in _DINING_RECEIPT or accounting in _DINING_RECEIPT
    if item in _SERVICE_CHARGE or accounting in _SERVICE_CHARGE:
        return "dining" if dining_receipt or "food" in receipt or "beverage" in receipt else None
    if item in _MEAL_ITEM or accounting in _MEAL_ITEM:
        return "dining"
    if item in _FOOD_ITEM or accounting in _FOOD_ITEM:
        if receipt in _GROCERY_RECEIPT and not dining_receipt:
            if item in _FRESH_ITEM or accounting in _FRESH_ITEM:
                return "groceries_fresh"
            if item in _DRINK_ITEM or accounting in _DRINK_ITEM:
                return "groceries_drinks"
            return "groceries_pantry"
        # "Food & Beverage" bills in these datasets are restaurant and cafe receipts.
        return "dining" if receipt not in _SAYS_NOTHING or dining_receipt else None
    return None


def receipt_examples(path: Path = RECEIPT_ITEMS) -> Iterator[Example]:
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            label = receipt_item_label(
                row["item_category"], row["item_accounting_category"], row["receipt_category"]
            )
            description = row["description"].strip()
            if label and len(description) >= 2:
                yield Example(row["receipt"], description, row["merchant"], label, "receipts")


_BANK: dict[str, str] = {
    "Eating Out": "dining", "Fast Food & Takeouts": "dining", "Restaurants": "dining", "Coffee": "dining",
    "Groceries": "groceries_pantry", "Fuel": "transport", "Transport": "transport", "Parking": "transport",
    "Entertainment": "entertainment", "Gambling": "entertainment", "Sport": "entertainment",
    "Subscriptions": "utilities_services", "Cellular Data Purchase": "utilities_services",
    "Bank Charges and Fees": "utilities_services", "Insufficient Funds Fee": "utilities_services",
    "Spend Limit Exceeded Fee": "utilities_services", "Cash Deposit Fee": "utilities_services",
    "Home and Garden": "household", "Clothing": "shopping", "Electronics and Appliances": "shopping",
    "Online Purchase": "shopping", "Tobacco & Smoking": "alcohol_tobacco", "Alcohol": "alcohol_tobacco",
    "Health and Medical": "health", "Personal Care": "personal_care", "Holidays and Travel": "travel",
}  # fmt: skip
# Statement boilerplate around the merchant's name ("POS Purchase Engen Mitchell Park * 07 Oct").
_BANK_NOISE = re.compile(
    r"\b(pos purchase|pos|purchase|card no|rtc express pmt to|debit order|\(effec \))\b|\*.*$|\.", re.I
)


def bank_examples(path: Path = BANK_TRANSACTIONS) -> Iterator[Example]:
    """Bank transactions whose label is spending; the text is the merchant's name, so it
    teaches what a vendor sells (used as both description and vendor)."""
    with path.open(newline="", encoding="utf-8") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            label = _BANK.get(row["label"].strip())
            text = re.sub(r"\s+", " ", _BANK_NOISE.sub(" ", row["description"])).strip()
            if label and text:
                yield Example(f"bank-{i}", text, text, label, "bank")


def correction_examples(line_items: pd.DataFrame, receipts: pd.DataFrame | None = None) -> Iterator[Example]:
    """Users' corrected categories from the lake's ``line_items`` (``category_corrected``):
    a person chose them, so they are labels; uncategorized or unknown ones are not."""
    if line_items.empty or "category_corrected" not in line_items:
        return
    corrected = line_items[line_items["category_corrected"].fillna(False).astype(bool)]
    vendors: dict[str, str] = {}
    if receipts is not None and not receipts.empty:
        vendors = dict(zip(receipts["receipt_id"], receipts["vendor_name"].fillna(""), strict=True))
    for row in corrected.itertuples(index=False):
        raw = row.category if isinstance(row.category, str) else None
        label = canonical(raw)
        description = row.description if isinstance(row.description, str) else ""
        if label == UNCATEGORIZED or label not in LABELS or raw is None or raw.strip().lower() != label:
            continue  # only names of today's taxonomy: a person's free text is not a label
        if description.strip():
            group = f"user-{row.user_id}-{row.receipt_id}"
            yield Example(group, description, vendors.get(row.receipt_id, ""), label, "corrections")


def dataset(extra: Iterable[Example] = ()) -> pd.DataFrame:
    """All examples with their split: columns group, description, vendor, label, source, split."""
    rows = [*receipt_examples(), *bank_examples(), *extra]
    frame = pd.DataFrame([e.__dict__ for e in rows])
    frame["split"] = frame["group"].map(split_of)
    return frame
