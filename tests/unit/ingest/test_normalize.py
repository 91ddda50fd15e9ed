"""The normalizer's choices, one rule at a time, on small built responses."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from lambda_src.common.model import Receipt, Status
from lambda_src.ingest.normalize import clean_text, normalize_expense
from tests.unit.ingest.expense_builder import item, response, sf

TODAY = date(2025, 6, 1)


def run(resp: dict[str, Any], today: date | None = TODAY) -> Receipt:
    return normalize_expense(resp, base=Receipt(receipt_id="r", user_id="u"), ocr_engine="local", today=today)


def shop(
    *extra: dict[str, Any],
    total: str = "$10.00",
    date_text: str = "2025-05-01",
    items: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return response(
        sf("VENDOR_NAME", "CORNER SHOP", top=0.05),
        sf("INVOICE_RECEIPT_DATE", date_text),
        sf("TOTAL", total, label="TOTAL"),
        *extra,
        items=items if items is not None else [item(item="BREAD", price=total)],
    )


# ---- vendor ---------------------------------------------------------------------------


def test_vendor_beside_the_address_beats_a_logo_at_the_top() -> None:
    resp = shop(
        sf("VENDOR_NAME", "BIG LOGO TEXT", top=0.01),
        sf("VENDOR_ADDRESS", "1 High St\nTown", top=0.30),
        sf("VENDOR_NAME", "Real Store Name", top=0.27),
    )
    assert run(resp).vendor.name == "Real Store Name"
    assert run(resp).vendor.address == "1 High St, Town"


def test_without_contact_details_the_highest_name_wins() -> None:
    resp = response(
        sf("VENDOR_NAME", "Lower Name", top=0.4),
        sf("VENDOR_NAME", "Upper Name", top=0.05),
        sf("TOTAL", "1.00"),
    )
    assert run(resp).vendor.name == "Upper Name"


def test_the_local_readers_legal_name_field_is_the_vendors_legal_name() -> None:
    # Given the brand and the registered name, as the local reader labels them
    resp = response(
        sf("VENDOR_NAME", "GREEN PHARMACY", top=0.02),
        sf("VENDOR_LEGAL_NAME", "Green Pharmacy LLC", top=0.05),
        sf("TOTAL", "5.00"),
    )

    # Then the name is the brand and the legal name is kept beside it
    vendor = run(resp).vendor
    assert (vendor.name, vendor.legal_name) == ("GREEN PHARMACY", "Green Pharmacy LLC")


def test_textracts_second_vendor_name_with_a_legal_suffix_is_the_legal_name() -> None:
    # Given Textract's two VENDOR_NAME readings: the brand by the address, the company below
    resp = response(
        sf("VENDOR_NAME", "Shell", top=0.02),
        sf("VENDOR_ADDRESS", "Hauptstrasse 101\n80331 Muenchen", top=0.06),
        sf("VENDOR_NAME", "Shell Deutschland GmbH", top=0.6),
        sf("TOTAL", "5.00"),
    )

    # Then the brand is the name and the registered company its legal name
    vendor = run(resp).vendor
    assert (vendor.name, vendor.legal_name) == ("Shell", "Shell Deutschland GmbH")


def test_a_registered_name_alone_is_name_and_legal_name_and_a_brand_alone_has_none() -> None:
    only_legal = response(sf("VENDOR_NAME", "OJC MARKETING SDN BHD"), sf("TOTAL", "5.00"))
    assert run(only_legal).vendor.legal_name == "OJC MARKETING SDN BHD"
    assert run(only_legal).vendor.name == "OJC MARKETING SDN BHD"
    assert run(shop()).vendor.legal_name is None


def test_a_name_in_the_receiver_block_is_never_the_vendor() -> None:
    resp = response(
        sf("NAME", "Customer Ltd", groups=("RECEIVER",)),
        sf("RECEIVER_NAME", "Customer Ltd"),
        sf("VENDOR_NAME", "Customer Ltd"),
        sf("TOTAL", "1.00"),
    )
    assert run(resp).vendor.name is None


def test_stray_punctuation_lines_are_dropped_from_names() -> None:
    assert clean_text("META\n-") == "META"
    assert clean_text("Pf CB210G 2S\n04808887290370") == "Pf CB210G 2S"
    assert clean_text("Multi line\nname here") == "Multi line name here"


# ---- dates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "currency_total", "expected"),
    [
        ("03/04/2025", "RM 10.00", date(2025, 4, 3)),  # Malaysia: day first
        ("03/04/2025", "$10.00", date(2025, 3, 4)),  # US: month first
        ("03/04/2025", "10,00 €", date(2025, 4, 3)),
        ("13/04/2025", "$10.00", date(2025, 4, 13)),  # impossible month-first reading
        ("12 March 2025", "£10.00", date(2025, 3, 12)),
        ("Mar 12, 2025", "£10.00", date(2025, 3, 12)),
        ("2025-03-12 14:02", "¥1000", date(2025, 3, 12)),
        ("09/03/20254:21PM", "RM10.00", date(2025, 3, 9)),  # OCR glued the time on
    ],
)
def test_dates_follow_the_currency_locale(text: str, currency_total: str, expected: date) -> None:
    receipt = run(shop(total=currency_total, date_text=text))
    assert receipt.purchase_date == expected


def test_a_future_date_is_not_taken() -> None:
    receipt = run(shop(date_text="2030-01-01"))
    assert receipt.purchase_date is None
    assert receipt.status is Status.NEEDS_REVIEW
    assert receipt.review_reasons[0].startswith("purchase_date: '2030-01-01' is in the future")


def test_a_date_one_day_ahead_of_upload_is_a_time_zone_not_the_future() -> None:
    receipt = run(shop(date_text="2025-06-02"))
    assert receipt.purchase_date == date(2025, 6, 2)


def test_today_defaults_to_the_upload_day() -> None:
    base = Receipt(receipt_id="r", user_id="u", uploaded_at=datetime(2024, 1, 1, tzinfo=UTC))
    receipt = normalize_expense(shop(date_text="2024-06-01"), base=base, ocr_engine="local")
    assert receipt.purchase_date is None


def test_labelled_visit_date_is_used_but_not_a_birth_date() -> None:
    resp = response(
        sf("VENDOR_NAME", "Clinic"),
        sf("OTHER", "1960-01-01", label="Date of Birth", conf=99.9),
        sf("OTHER", "2025-02-03", label="Date of Visit", conf=80.0),
        sf("TOTAL", "$5.00"),
        items=[item(description="Visit", total="$5.00")],
    )
    assert run(resp).purchase_date == date(2025, 2, 3)


# ---- currency -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "code"),
    [
        ("RM 12.50", "MYR"),
        ("€12,50", "EUR"),
        ("£12.50", "GBP"),
        ("¥1250", "JPY"),
        ("12.50 USD", "USD"),
        ("$12.50", "USD"),
        ("S$12.50", "SGD"),
        ("₱12.50", "PHP"),
    ],
)
def test_currency_from_symbols_and_words(total: str, code: str) -> None:
    assert run(shop(total=total)).currency == code


def test_textract_currency_code_is_used_when_no_symbol_is_printed() -> None:
    resp = shop(total="12.50")
    resp["ExpenseDocuments"][0]["SummaryFields"][2]["Currency"] = {"Code": "GBP"}
    assert run(resp).currency == "GBP"


def test_a_dollar_in_canada_is_canadian() -> None:
    resp = shop(sf("VENDOR_ADDRESS", "100 King St W, Toronto, ON M5X 1A9"))
    assert run(resp).currency == "CAD"


def test_explicit_usd_wins_over_an_address() -> None:
    resp = shop(sf("VENDOR_ADDRESS", "Toronto, Canada"), total="USD 10.00")
    assert run(resp).currency == "USD"


def test_two_currencies_need_review() -> None:
    resp = shop(sf("SUBTOTAL", "RM 10.00"))
    receipt = run(resp)
    assert receipt.status is Status.NEEDS_REVIEW
    assert "currency: amounts in several currencies (MYR, USD)" in receipt.review_reasons


# ---- totals ---------------------------------------------------------------------------


def test_cash_tendered_is_not_the_total() -> None:
    resp = shop(sf("AMOUNT_PAID", "$20.00", label="CASH"), sf("OTHER", "$10.00", label="CHANGE"))
    receipt = run(resp)
    assert receipt.total == Decimal("10.00")
    assert receipt.payment_method == "CASH"
    assert receipt.status is Status.PROCESSED


def test_amount_paid_is_the_total_when_no_total_is_printed() -> None:
    resp = response(
        sf("VENDOR_NAME", "Shop"),
        sf("INVOICE_RECEIPT_DATE", "2025-01-02"),
        sf("AMOUNT_PAID", "€7,00"),
        items=[item(item="Coffee", price="7,00")],
    )
    receipt = run(resp)
    assert receipt.total == Decimal("7.00")
    assert receipt.status is Status.PROCESSED


def test_only_a_subtotal_gives_an_implied_total_to_review() -> None:
    resp = response(
        sf("VENDOR_NAME", "Shop"),
        sf("INVOICE_RECEIPT_DATE", "2025-01-02"),
        sf("SUBTOTAL", "$9.00"),
        sf("TAX", "$1.00"),
    )
    receipt = run(resp)
    assert receipt.total == Decimal("10.00")
    assert receipt.status is Status.NEEDS_REVIEW
    assert receipt.review_reasons[0] == "total: not printed; taken as subtotal 9.00 + tax 1.00"


def test_the_total_that_adds_up_wins_over_a_more_confident_one() -> None:
    resp = shop(
        sf("TOTAL", "$99.00", label="TOTAL", conf=99.9),
        sf("SUBTOTAL", "$9.00"),
        sf("TAX", "$1.00"),
        items=[item(item="Soap", price="$9.00")],
    )
    receipt = run(resp)
    assert receipt.total == Decimal("10.00")
    assert receipt.status is Status.PROCESSED


def test_tip_discount_and_rounding_are_part_of_the_sum() -> None:
    resp = shop(
        sf("GRATUITY", "RM 2.00", label="TIP"),
        sf("DISCOUNT", "-RM 1.00", label="DISCOUNT"),
        sf("OTHER", "-0.02", label="ROUNDING ADJ"),
        sf("TAX", "RM 0.60", label="SST 6%"),
        total="RM 11.55",
        items=[item(item="Nasi lemak", price="6.00"), item(item="Teh tarik", price="3.97")],
    )
    receipt = run(resp)
    assert (receipt.tip, receipt.discount, receipt.tax) == (Decimal("2.00"), Decimal("1.00"), Decimal("0.60"))
    assert receipt.status is Status.PROCESSED, receipt.review_reasons


def test_tax_printed_twice_counts_once_and_two_taxes_add_up() -> None:
    twice = shop(
        sf("TAX", "$1.00", label="TAX"),
        sf("TAX", "$1.00", label="Tax"),
        total="$10.00",
        items=[item(item="Pen", price="$9.00")],
    )
    assert run(twice).tax == Decimal("1.00")
    two = shop(
        sf("TAX", "$0.50", label="GST"),
        sf("TAX", "$0.70", label="PST"),
        total="$11.20",
        items=[item(item="Pen", price="$10.00")],
    )
    assert run(two).tax == Decimal("1.20")
    assert run(two).status is Status.PROCESSED


def test_prices_including_tax_still_add_up() -> None:
    resp = shop(
        sf("TAX", "€1,60", label="MwSt 19%"),
        total="€10,00",
        items=[item(item="Brot", price="4,00"), item(item="Käse", price="6,00")],
    )
    assert run(resp).status is Status.PROCESSED


def test_a_total_that_does_not_add_up_names_the_total() -> None:
    resp = shop(total="$12.00", items=[item(item="Milk", price="$10.00")])
    receipt = run(resp)
    assert receipt.status is Status.NEEDS_REVIEW
    assert receipt.review_reasons == ["total: 12.00 does not match line items 10.00 = 10.00 (off by 2.00)"]


# ---- line items -----------------------------------------------------------------------


def test_expense_row_gives_the_name_when_item_is_missing() -> None:
    resp = shop(items=[item(expense_row="CHOC BAR 2.50 S", price="2.50"), item(item="Gum", price="7.50")])
    receipt = run(resp)
    assert [i.description for i in receipt.line_items] == ["CHOC BAR", "Gum"]


def test_amount_from_quantity_and_unit_price() -> None:
    resp = shop(items=[item(item="Apples", quantity="4", unit_price="2.50")])
    (line,) = run(resp).line_items
    assert (line.quantity, line.unit_price, line.amount) == (Decimal(4), Decimal("2.50"), Decimal("10.00"))


def test_rows_that_repeat_summary_lines_are_not_items() -> None:
    resp = shop(items=[item(item="Bread", price="$10.00"), item(item="TOTAL", price="$10.00")])
    assert len(run(resp).line_items) == 1


def test_low_confidence_total_needs_review() -> None:
    resp = response(
        sf("VENDOR_NAME", "Shop"),
        sf("INVOICE_RECEIPT_DATE", "2025-01-02"),
        sf("TOTAL", "$3.00", conf=30.0),
        items=[item(item="Tea", price="3.00")],
    )
    receipt = run(resp)
    assert receipt.review_reasons == ["total: read with low confidence (0.30)"]


def test_an_empty_response_is_all_review() -> None:
    receipt = run({"ExpenseDocuments": []})
    assert receipt.status is Status.NEEDS_REVIEW
    assert [r.split(":")[0] for r in receipt.review_reasons] == [
        "vendor",
        "purchase_date",
        "currency",
        "total",
    ]
