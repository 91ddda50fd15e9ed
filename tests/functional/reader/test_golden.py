"""Golden receipts through the real OCR engine: image -> AnalyzeExpense-shaped response.

Expected values are the datasets' ground truth (tests/fixtures/reader/SOURCE.txt). The
OCR model loads once for the module.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from lambda_src.common.money import parse_money
from receiptlake.reader import LocalTextract, read_bytes, read_file
from receiptlake.reader.text import read_date

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "reader"


def summary(response: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in response["ExpenseDocuments"][0]["SummaryFields"]:
        out.setdefault(f["Type"]["Text"], f["ValueDetection"]["Text"])
    return out


def money(text: str) -> Decimal:
    return parse_money(text.replace("$", ""))


@pytest.fixture(scope="module")
def responses() -> dict[str, dict[str, Any]]:
    return {p.name: read_file(p) for p in sorted(FIXTURES.glob("*.jp*g"))}


@pytest.mark.parametrize(
    ("name", "company", "day", "total"),
    [
        ("sroie_X00016469612.jpg", "SDN BHD", date(2018, 12, 25), "9.00"),
        ("sroie_X51005433492.jpg", "UNIHAKKA INTERNATIONAL SDN BHD", date(2018, 3, 5), "8.20"),
        ("sroie_X51005433541.jpg", "UNIHAKKA INTERNATIONAL SDN BHD", date(2018, 3, 14), "8.20"),
        ("sroie_X51009453801.jpg", "GL HANDICRAFT & TAILORING", date(2018, 3, 20), "102.00"),
    ],
)
def test_sroie_receipts(
    responses: dict[str, dict[str, Any]], name: str, company: str, day: date, total: str
) -> None:
    got = summary(responses[name])
    assert company in (got.get("VENDOR_LEGAL_NAME") or got["VENDOR_NAME"]).upper()
    assert read_date(got["INVOICE_RECEIPT_DATE"]) == day
    assert money(got["TOTAL"]) == Decimal(total)


def test_us_receipt_month_first_date_and_items(responses: dict[str, dict[str, Any]]) -> None:
    response = responses["wild_ff3cfcb0.jpeg"]
    got = summary(response)
    assert read_date(got["INVOICE_RECEIPT_DATE"], day_first=False) == date(2015, 4, 10)
    assert money(got["TOTAL"]) == Decimal("43.67")
    prices = [
        money(f["ValueDetection"]["Text"])
        for item in response["ExpenseDocuments"][0]["LineItemGroups"][0]["LineItems"]
        for f in item["LineItemExpenseFields"]
        if f["Type"]["Text"] == "PRICE"
    ]
    assert prices == [Decimal("35.10"), Decimal("2.00"), Decimal("4.00")]


def test_german_receipt_items(responses: dict[str, dict[str, Any]]) -> None:
    items = [
        {f["Type"]["Text"]: f["ValueDetection"]["Text"] for f in item["LineItemExpenseFields"]}
        for item in responses["wild_4741004b.jpeg"]["ExpenseDocuments"][0]["LineItemGroups"][0]["LineItems"]
    ]
    assert [(i["ITEM"].replace(" ", ""), i["PRICE"]) for i in items] == [
        ("TapasTellerveget.", "16.40"),
        ("Span.Fischpfanne", "18.60"),
        ("blancdeblancs", "21.90"),
        ("0.75Fachingernatur", "5.30"),
    ]


def test_multi_page_pdf_through_local_textract() -> None:
    # Given a two-page PDF (a receipt continued on a second page)
    pages = [Image.open(FIXTURES / "sroie_X51005433541.jpg").convert("RGB") for _ in range(2)]
    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", save_all=True, append_images=pages[1:], resolution=150)
    # When the local Textract stand-in analyzes it
    response = LocalTextract().analyze_expense(buffer.getvalue(), "application/pdf")
    # Then both pages are read, fields say which page they are on, and the shape holds
    assert response["DocumentMetadata"] == {"Pages": 2}
    (doc,) = response["ExpenseDocuments"]
    assert doc["ExpenseIndex"] == 1
    assert {f["PageNumber"] for f in doc["SummaryFields"]} <= {1, 2}
    assert money(summary(response)["TOTAL"]) == Decimal("8.20")
    assert [g["LineItemGroupIndex"] for g in doc["LineItemGroups"]] == list(
        range(1, len(doc["LineItemGroups"]) + 1)
    )


def test_unreadable_bytes_raise_a_clear_error() -> None:
    from receiptlake.reader import UnreadableDocumentError

    with pytest.raises(UnreadableDocumentError):
        read_bytes(b"not an image", "image/png")
