from decimal import Decimal

import pytest

from lambda_src.common.money import MoneyError, detect_currency, parse_money, quantize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12.50", "12.50"),
        ("RM 1,234.50", "1234.50"),
        ("1.234,50 €", "1234.50"),
        ("12,50", "12.50"),
        ("1,234", "1234"),
        ("$0.99", "0.99"),
        ("(3.00)", "-3.00"),
        ("-4.10", "-4.10"),
        ("4.10-", "-4.10"),
        ("TOTAL: 193.00", "193.00"),
        ("1.234.567,89", "1234567.89"),
        (".88", "0.88"),  # printed without the leading zero
        ("$.88", "0.88"),
        ("-.25", "-0.25"),
        ("(.50)", "-0.50"),
    ],
)
def test_parse_money_reads_printed_amounts_exactly(text: str, expected: str) -> None:
    # Given an amount as receipts print it / When parsed / Then the exact Decimal
    assert parse_money(text) == Decimal(expected)


def test_parse_money_honours_forced_decimal_comma() -> None:
    assert parse_money("1,5", decimal_comma=True) == Decimal("1.5")
    assert parse_money("1,500", decimal_comma=False) == Decimal("1500")


@pytest.mark.parametrize("text", ["", "TOTAL", "abc"])
def test_parse_money_rejects_text_without_amount(text: str) -> None:
    with pytest.raises(MoneyError, match="no amount"):
        parse_money(text)


@pytest.mark.parametrize(
    ("text", "code"),
    [("RM 12.00", "MYR"), ("€5", "EUR"), ("£3", "GBP"), ("¥500", "JPY"), ("USD 4", "USD"), ("$4", "USD")],
)
def test_detect_currency_maps_symbols_and_words(text: str, code: str) -> None:
    assert detect_currency(text) == code


def test_detect_currency_ignores_letters_inside_words() -> None:
    # "RM" inside "FORM" is not ringgit
    assert detect_currency("FORM 12") is None


def test_quantize_rounds_half_to_even() -> None:
    assert quantize(Decimal("2.345")) == Decimal("2.34")
    assert quantize(Decimal("2.355")) == Decimal("2.36")
