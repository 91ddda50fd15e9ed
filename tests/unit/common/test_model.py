import json
from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from lambda_src.common.model import LineItem, Receipt, Status, Vendor


def make(**fields: object) -> Receipt:
    return Receipt.model_validate({"receipt_id": "r1", "user_id": "u1", **fields})


def test_money_is_decimal_in_python_and_a_string_in_json() -> None:
    receipt = make(total="1,234.50", tax=0.1, currency="myr")
    assert receipt.total == Decimal("1234.50")
    assert receipt.tax == Decimal("0.1")
    body = json.loads(receipt.model_dump_json())
    assert body["total"] == "1234.50"
    assert body["tax"] == "0.1"
    assert body["currency"] == "MYR"


def test_json_round_trip_keeps_every_field() -> None:
    receipt = make(
        status=Status.PROCESSED,
        vendor=Vendor(name="Tesco", legal_name="Tesco Stores Ltd"),
        purchase_date=date(2026, 3, 4),
        currency="GBP",
        total="9.99",
        line_items=[LineItem(description="milk", quantity="2", unit_price="1.10", amount="2.20")],
        confidence={"total": 0.97},
    )
    assert Receipt.model_validate_json(receipt.model_dump_json()) == receipt


@pytest.mark.parametrize(
    ("field", "value"),
    [("total", "abc"), ("currency", "EURO"), ("receipt_id", "../etc"), ("status", "DONE")],
)
def test_invalid_fields_are_rejected_with_the_field_named(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as info:
        make(**{field: value})
    assert field in str(info.value)


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError, match="extra"):
        make(colour="red")


def test_category_split_adds_up_to_the_total() -> None:
    receipt = make(
        total="10.00",
        category="groceries",
        line_items=[
            LineItem(description="wine", amount="6.00", category="alcohol"),
            LineItem(description="bread", amount="2.50"),
        ],
    )
    split = receipt.category_split()
    assert split == {"alcohol": Decimal("6.00"), "groceries": Decimal("4.00")}
    assert sum(split.values()) == receipt.total


def test_only_read_receipts_with_total_and_currency_count_as_spending() -> None:
    assert make(status=Status.PROCESSED, total="1", currency="EUR").counts_as_spending
    assert make(status=Status.NEEDS_REVIEW, total="1", currency="EUR").counts_as_spending
    assert not make(status=Status.FAILED, total="1", currency="EUR").counts_as_spending
    assert not make(status=Status.PENDING, total="1", currency="EUR").counts_as_spending
    assert not make(status=Status.PROCESSED, currency="EUR").counts_as_spending


def test_spend_date_falls_back_to_the_upload_day() -> None:
    receipt = make()
    assert receipt.spend_date == receipt.uploaded_at.date()
    assert make(purchase_date="2025-01-02").spend_date == date(2025, 1, 2)
