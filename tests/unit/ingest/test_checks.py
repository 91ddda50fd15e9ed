from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from lambda_src.ingest.checks import (
    TOLERANCE,
    Breakdown,
    amount_reasons,
    balances,
    date_reasons,
    merge_reasons,
)

cents = st.integers(min_value=0, max_value=10_000_00).map(lambda c: D(c) / 100)


@given(st.lists(cents, min_size=1, max_size=20), cents, cents, cents)
def test_a_receipt_built_from_its_parts_always_balances(items: list[D], tax: D, tip: D, discount: D) -> None:
    b = Breakdown(items=tuple(items), tax=tax, tip=tip, discount=discount)
    assert balances(b, sum(items) + tax + tip - discount)


@given(st.lists(cents, min_size=1, max_size=20), cents)
def test_off_by_more_than_the_tolerance_never_balances(items: list[D], tax: D) -> None:
    b = Breakdown(items=tuple(items), tax=tax)
    wrong = sum(items) + tax + TOLERANCE + D("0.01")
    # Tax-inclusive reading could explain it only if tax itself is about the error.
    if abs(tax - TOLERANCE - D("0.01")) > TOLERANCE:
        assert not balances(b, wrong)


def test_within_tolerance_balances() -> None:
    assert balances(Breakdown(items=(D("1.00"),)), D("1.02"))
    assert not balances(Breakdown(items=(D("1.00"),)), D("1.03"))


def test_missing_item_amounts_fall_back_to_the_subtotal() -> None:
    b = Breakdown(items=(D("5"),), items_without_amount=1, subtotal=D("8"), tax=D("2"))
    assert amount_reasons(b, D("10")) == []
    only_items = Breakdown(items=(D("5"),), items_without_amount=1)
    assert amount_reasons(only_items, D("10")) == [
        "line_items: 1 of 2 items have no readable amount, so the total cannot be checked"
    ]


def test_items_that_disagree_with_the_subtotal_are_named() -> None:
    b = Breakdown(items=(D("5"), D("4")), subtotal=D("10"), tax=D("1"))
    assert amount_reasons(b, D("11")) == ["line_items: add up to 9.00, not the subtotal 10.00"]


def test_nothing_to_check_against_is_a_reason() -> None:
    assert amount_reasons(Breakdown(), D("3")) == [
        "line_items: no line items or subtotal were read, so the total cannot be checked"
    ]
    assert amount_reasons(Breakdown(items=(D(1),)), None) == ["total: not found on the receipt"]


def test_dates() -> None:
    today = date(2025, 1, 1)
    assert date_reasons(date(2024, 12, 31), today) == []
    assert date_reasons(date(2025, 1, 2), today) == ["purchase_date: 2025-01-02 is in the future"]
    assert date_reasons(date(2010, 1, 1), today) == ["purchase_date: 2010-01-01 is more than 10 years ago"]
    assert date_reasons(None, today) == ["purchase_date: not found on the receipt"]


def test_merge_keeps_the_first_reason_per_field() -> None:
    assert merge_reasons(["total: a"], ["total: b", "vendor: c"]) == ["total: a", "vendor: c"]
