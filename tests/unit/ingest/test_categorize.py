from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pytest

from lambda_src.common.model import UNCATEGORIZED, LineItem, Receipt, Vendor
from lambda_src.ingest.categorize import CATEGORIES, KEYWORDS, KeywordCategorizer, Prediction, categorize


@pytest.mark.parametrize(
    ("description", "category"),
    [
        ("LG FLATSCREEN 65", "shopping"),
        ("APPLE TV V4", "shopping"),
        ("6FT HDMI CABLE BB", "shopping"),
        ("nongshim shin ramen", "groceries_pantry"),
        ("ottgijinramenchi110g", "groceries_pantry"),  # glued OCR words
        ("PHARMACY GENERAL", "health"),
        ("Chiropractic manipulative treatment (CMT)", "health"),
        ("UNLEADED RON95", "transport"),
        ("Heineken beer 6pk", "alcohol_tobacco"),
        ("ACP101T Online Training Hours", "utilities_services"),
        ("Parking 2h", "transport"),
        ("Cappuccino", "dining"),
    ],
)
def test_keywords(description: str, category: str) -> None:
    (p,) = KeywordCategorizer().predict([description])
    assert p.category == category
    assert 0.5 <= p.confidence <= 0.85


def test_unknown_items_fall_back_to_the_vendor_kind_then_uncategorized() -> None:
    c = KeywordCategorizer()
    assert c.predict(["XQZ 123"], vendor="Fresh Market") == [Prediction("groceries_pantry", 0.4)]
    assert c.predict(["XQZ 123"]) == [Prediction(UNCATEGORIZED, 0.0)]


def test_short_keywords_match_whole_words_only() -> None:
    # "tv" must not match inside "ATVS", nor "lg" inside "ALGAE".
    assert KeywordCategorizer().predict(["ALGAE ATVS"])[0].category == UNCATEGORIZED


def test_every_keyword_category_is_a_known_category() -> None:
    assert set(KEYWORDS) <= set(CATEGORIES)


def test_categorize_sets_items_and_the_receipt_category_by_money() -> None:
    receipt = Receipt(
        receipt_id="r",
        user_id="u",
        line_items=[
            LineItem(description="Milk", amount=Decimal("2")),
            LineItem(description="HDMI cable", amount=Decimal("20")),
            LineItem(description="???", amount=Decimal("1")),
        ],
    )
    out = categorize(receipt, KeywordCategorizer())
    assert [i.category for i in out.line_items] == ["groceries_fresh", "shopping", UNCATEGORIZED]
    assert out.category == "shopping"


def test_no_items_uses_the_vendor() -> None:
    receipt = Receipt(receipt_id="r", user_id="u", vendor=Vendor(name="Downtown Dental Clinic"))
    assert categorize(receipt, KeywordCategorizer()).category == "health"


class Broken:
    def predict(self, descriptions: Sequence[str], *, vendor: str | None = None) -> list[Prediction]:
        return []


def test_a_categorizer_that_drops_items_is_an_error() -> None:
    receipt = Receipt(receipt_id="r", user_id="u", line_items=[LineItem(description="x")])
    with pytest.raises(ValueError, match="one prediction per line item"):
        categorize(receipt, Broken())
