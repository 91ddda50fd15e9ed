"""ml/anomalies.py: spikes found with the right kind and drivers, flat histories quiet,
currencies apart, explanations a person can read."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd

from lambda_src.api.schemas import Anomaly
from ml.anomalies import find_anomalies
from tests.unit.ml.real_data import za_lake

MONTHS = [(2025, m) for m in range(6, 13)] + [(2026, m) for m in range(1, 7)]  # 13 months, June last


class History:
    """A user's receipts, built month by month (EUR unless told)."""

    def __init__(self) -> None:
        self.receipts: list[dict] = []
        self.items: list[dict] = []

    def add(self, vendor, day, lines, *, category, currency="EUR", user="u1", extra="0.00"):
        rid = f"r{len(self.receipts)}"
        total = sum((Decimal(amount) for _, amount, _ in lines), Decimal(extra))
        self.receipts.append(
            {
                "receipt_id": rid,
                "user_id": user,
                "status": "PROCESSED",
                "vendor_name": vendor,
                "vendor_key": vendor.lower(),
                "spend_date": day,
                "currency": currency,
                "total": total,
                "is_refund": False,
                "category": category,
            }
        )
        for n, (desc, amount, cat) in enumerate(lines, start=1):
            self.items.append(
                {
                    "receipt_id": rid,
                    "user_id": user,
                    "line_number": n,
                    "description": desc,
                    "amount": Decimal(amount),
                    "category": cat,
                }
            )
        return rid

    def usual_month(self, year, month, *, user="u1", currency="EUR", wobble=0):
        # Two grocery runs and one dinner; ``wobble`` keeps months from being identical.
        for day, amount in ((3, 40 + wobble), (17, 42 - wobble)):
            self.add(
                "FreshMart",
                date(year, month, day),
                [("Milk", "3.00", "groceries_fresh"), ("Pasta", f"{amount - 3}.00", "groceries_pantry")],
                category="groceries",
                currency=currency,
                user=user,
            )
        self.add(
            "Cafe Lumen",
            date(year, month, 9),
            [("Lunch", f"{20 + wobble}.00", "dining")],
            category="dining",
            currency=currency,
            user=user,
        )

    def frames(self):
        return pd.DataFrame(self.receipts), pd.DataFrame(self.items)


def history(months=MONTHS[:-1], **kwargs) -> History:
    h = History()
    for k, (y, m) in enumerate(months):
        h.usual_month(y, m, wobble=k % 3, **kwargs)
    return h


def only(found, user="u1"):
    for a in found.get(user, []):
        Anomaly.model_validate(a)
    return found.get(user, [])


def test_a_flat_history_has_no_anomalies():
    h = history(MONTHS)
    assert find_anomalies(*h.frames()) == {}


def test_a_large_purchase_at_a_new_vendor_is_a_vendor_anomaly_with_its_items():
    # Given a steady year, then in June a laptop at a shop never visited before
    h = history()
    h.usual_month(2026, 6)
    rid = h.add(
        "Media Markt",
        date(2026, 6, 20),
        [("Laptop", "899.00", "shopping"), ("USB cable", "12.50", "shopping")],
        category="electronics",
    )
    # When June is examined
    found = only(find_anomalies(*h.frames(), month="2026-06"))
    # Then the top anomaly is that vendor, driven by the laptop on that receipt
    top = found[0]
    assert (top["kind"], top["vendor"], top["currency"]) == ("vendor", "Media Markt", "EUR")
    assert top["amount"] == Decimal("911.50")
    assert top["drivers"][0]["label"] == "Laptop" and top["drivers"][0]["receipt_id"] == rid
    # And the sentence names the amount and the vendor
    assert "€911.50" in top["explanation"] and "Media Markt" in top["explanation"]
    assert "not used before" in top["explanation"]
    # And the same money is not reported again as a category or a month
    assert [a["kind"] for a in found] == ["vendor"]


def test_a_category_spike_names_the_vendors_and_items_that_made_it():
    # Given a steady year of one lunch a month, then a June of dinners at two restaurants
    h = history()
    h.usual_month(2026, 6)
    for day in (5, 12, 19):
        h.add(
            "Le Bistro",
            date(2026, 6, day),
            [("Menu du jour", "38.00", "dining"), ("Wine", "14.00", "dining")],
            category="dining",
            extra="5.00",
        )
    h.add("Trattoria Roma", date(2026, 6, 26), [("Pizza", "16.00", "dining")], category="dining")
    found = only(find_anomalies(*h.frames()))
    dining = next(a for a in found if a["kind"] == "category")
    assert dining["category"] == "dining" and dining["month"] == "2026-06"
    vendors = [d["label"] for d in dining["drivers"] if d["kind"] == "vendor"]
    items = [d["label"] for d in dining["drivers"] if d["kind"] == "item"]
    assert vendors[0] == "Le Bistro" and "Trattoria Roma" in vendors
    assert items[0] == "Menu du jour"
    # 3 x 57.00 at Le Bistro (tip included), most of the 208.00
    assert "Dining out" in dining["explanation"] and "Le Bistro (€171.00, 3 visits)" in dining["explanation"]
    assert found == sorted(found, key=lambda a: -a["score"])


def test_one_receipt_far_above_the_usual_at_its_vendor_is_a_receipt_anomaly():
    h = history()
    h.usual_month(2026, 6)
    rid = h.add(
        "FreshMart",
        date(2026, 6, 24),
        [("Champagne", "120.00", "alcohol_tobacco"), ("Oysters", "60.00", "groceries_fresh")],
        category="groceries",
    )
    found = only(find_anomalies(*h.frames()))
    assert found[0]["kind"] == "receipt" and found[0]["receipt_id"] == rid
    assert [d["label"] for d in found[0]["drivers"]] == ["Champagne", "Oysters"]
    assert "€180.00" in found[0]["explanation"] and "FreshMart" in found[0]["explanation"]
    assert not any(a["kind"] == "vendor" and a["vendor"] == "FreshMart" for a in found)


def test_currencies_are_never_compared_or_mixed():
    # Given a steady euro year, and in June a first trip paid in dollars
    h = history()
    h.usual_month(2026, 6)
    h.add("Hotel Sol", date(2026, 6, 10), [("Room", "700.00", "travel")], category="travel", currency="USD")
    # Then no anomaly: the dollars have no baseline, and the euros are as usual
    assert find_anomalies(*h.frames()) == {}
    # And with a euro spike too, the anomaly counts euros only
    h.add("Media Markt", date(2026, 6, 20), [("Laptop", "899.00", "shopping")], category="electronics")
    found = only(find_anomalies(*h.frames()))
    assert {a["currency"] for a in found} == {"EUR"}
    assert found[0]["amount"] == Decimal("899.00")


def test_users_are_examined_apart_and_capped():
    h = history()
    h.usual_month(2026, 6)
    other = history(user="u2")
    other.usual_month(2026, 6, user="u2")
    other.add(
        "Media Markt",
        date(2026, 6, 20),
        [("Laptop", "899.00", "shopping")],
        category="electronics",
        user="u2",
    )
    r1, i1 = h.frames()
    r2, i2 = other.frames()
    found = find_anomalies(pd.concat([r1, r2]), pd.concat([i1, i2]))
    assert set(found) == {"u2"} and len(found["u2"]) <= 10


def test_a_real_history_explains_its_biggest_month():
    # Given four months of a real person's debits, November 2023 with two insurance debits
    found = only(find_anomalies(*za_lake()), "za-user")
    top = found[0]
    assert top["month"] == "2023-11" and top["currency"] == "ZAR"
    assert "ZAR 33,425.58" in top["explanation"]
    assert any("Disclife" in d["label"] for d in top["drivers"])
