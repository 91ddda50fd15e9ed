"""The normalizer on real AnalyzeExpense responses (tests/fixtures/textract, see SOURCE.txt).

Expected values were read off the receipt images by hand (receipt.jpg, the invoice PNG) or,
for responses without an image, from the printed values visible in the response.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from lambda_src.common.model import Receipt, Status
from lambda_src.ingest.normalize import normalize_expense

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "textract"
TODAY = date(2025, 6, 1)


@dataclass(frozen=True)
class Expected:
    vendor: str | None
    purchase_date: date | None
    currency: str | None
    total: str | None
    tax: str | None
    items: list[tuple[str, str | None]]  # (description, amount)
    status: Status
    review_fields: set[str] = field(default_factory=set)
    subtotal: str | None = None
    discount: str | None = None


MEGA_ITEMS: list[tuple[str, str | None]] = [
    ("LG FLATSCREEN 65", "899.99"),
    ("SONY VIAO I7 6938", "689.99"),
    ("6FT HDMI CABLE BB", "19.99"),
    ("APPLE TV V4", "89.99"),
]

EXPECTED: dict[str, Expected] = {
    # The photo shows the "MEGA BIGBOX" logo (read "MEGA BIGBOK") and, beside the phone
    # and city, the store name MEGA MARKET PLUS; 12/07/2019 on a US receipt is 7 December.
    "mega_market_receipt": Expected(
        "MEGA MARKET PLUS",
        date(2019, 12, 7),
        "USD",
        "1810.46",
        "110.50",
        MEGA_ITEMS,
        Status.PROCESSED,
        subtotal="1699.96",
    ),
    "mega_market_receipt_second_call": Expected(
        "MEGA MARKET PLUS",
        date(2019, 12, 7),
        "USD",
        "1810.46",
        "110.50",
        MEGA_ITEMS,
        Status.PROCESSED,
        subtotal="1699.96",
    ),
    # The seller is Amazon.com (no VENDOR_NAME; "XZY Company" is the ship-to party).
    "amazon_invoice": Expected(
        "Amazon.com",
        date(2021, 1, 1),
        "USD",
        "6231.09",
        "61.69",
        [("Product 1", "1000"), ("Service 3", "2789"), ("Product 2", "212.08"), ("Product 3", "2168.32")],
        Status.PROCESSED,
        subtotal="6169.40",
    ),
    # Two pages, one ExpenseDocument each; the total is printed on page 2 only.
    "multipage_invoice": Expected(
        "META",
        date(2020, 3, 12),
        "USD",
        "5715.00",
        None,
        [
            (
                "ACP101 Accounting Package Annual Subscription to Premier Version with Tax, "
                "Inventory and Payroll Plugins",
                "1350.00",
            ),
            (
                "ACP101T Online Training Hours of Training in Premier Version Interactive Demos "
                "with Q&A Sessions",
                "495.00",
            ),
            (
                "ACP101S Standard Support Initial Hours allocated for access to email and phone "
                "support for Premier Version",
                "1100.00",
            ),
            (
                "ACP101C Screen Customization Hours spent customizing screens in Premier Version "
                "for client requirements",
                "660.00",
            ),
            (
                "ACP101R Report Customization Hours spent customizing reports in Premier Version "
                "for client requirements",
                "495.00",
            ),
            ("ACP101I System Imports Hours spent importing customer records into Premier Version", "220.00"),
            (
                "ACP100 Accounting Package Annual Subscription to Standard Version of Accounts System",
                "900.00",
            ),
            (
                "ACP100T Online Training Hours of Training in Standard Version Interactive Demos "
                "with Q&A Sessions",
                "495.00",
            ),
        ],
        Status.PROCESSED,
    ),
    # A Canadian clinic (North Vancouver; patient in Ontario): "$" is the Canadian dollar.
    # "Balance $0.00" is what is left to pay, not the total.
    "clinic_receipt": Expected(
        "Demo Clinic",
        date(2019, 3, 12),
        "CAD",
        "60.00",
        None,
        [("Chiropractic manipulative treatment (CMT); spinal, three to four regions", "60.00")],
        Status.PROCESSED,
    ),
    # Charges 5,680.81 - adjustments 1,136.16 = amount due 4,544.65; no seller name printed
    # in a field Textract recognised.
    "hospital_statement": Expected(
        None,
        date(2017, 1, 13),
        "USD",
        "4544.65",
        None,
        [
            ("Pharmacy", "264.50"),
            ("Med/Surg Supplies and Devices", "87.50"),
            ("Laboratory", "1316.00"),
            ("CT Scan", "1700.00"),
            ("Emergency Room", "2147.00"),
            ("Pharmacy (Extended)", "165.81"),
        ],
        Status.NEEDS_REVIEW,
        {"vendor"},
        discount="1136.16",
    ),
    # A bill whose "TOTAL DUE" is what is left after insurance: the lines cannot add up.
    "hospital_bill": Expected(
        None,
        None,
        "USD",
        "50.00",
        None,
        [
            ("COR CARE POST CCU", "0.00"),
            ("PHARMACY GENERAL", "379.50"),
            ("M/S SUPPLY GENERAL", "78.47"),
            ("M/S SUPPLY STERILE SUPPLY", "127.20"),
            ("LABORATORY GENERAL", "58.32"),
            ("LABORATORY CHEMISTRY", "1467.00"),
            ("LAB HEMATOLOGY", "585.00"),
            ("LAB BACTERIOLOGY MICROBIO", "407.00"),
            ("LAB ÜROLOGY", "187.00"),
            ("RADIOLOGY DIAG GENERAL", "415.00"),
            ("CAT SCAN HEAD", "2502.00"),
            ("CAT SCAN BODY", "2886.00"),
            ("PHYSICALTHERAPY GENERAL", "80.00"),
            ("PHYSICAL THERAPY EVALUATE", "300.00"),
            ("EMERGENCY ROOM GENERAL", "4421.00"),
            ("DRUG SPEC ID DETAIL CODING", "224.00"),
            ("EKG/ECG GENERAL", "396.00"),
            ("TREAT/OBS RM OBSERVATION", "6762.00"),
            ("ADJUSTMENT MISCPPO", "0.00"),
            ("ADJUSTMENT MISCPPO", "18930.54"),
            ("ADJUSTMENT MISCPPO", "-242.00"),
        ],
        Status.NEEDS_REVIEW,
        {"vendor", "purchase_date", "total"},
    ),
}

# Line items without summary fields (the photo is cut off above the header and below the
# last line). Product codes printed under names are not part of the name; the Swiss Miss
# line reads "/6.50" for 76.50 (5 x 15.30, quantity unreadable).
NO_SUMMARY_ITEMS = [
    ("GIL VNS HR CMEGI CRT", "659.00"),
    ("GLUEBRD PFANUT4PCS", "127.50"),
    ("HH*PAPABNNACTSUP5300", "46.00"),
    ("J&JCHIZ CURLS 55G", "43.00"),
    ("KNR CBS PR120GFRLQDS", "75.25"),
    ("KNRCRMUSRM2SGETARG", "110.00"),
    ("mc agmno fry tonktsu", "81.50"),
    ("mckatsucurrymild125g", "86.00"),
    ("MMS OYSTER SCE 156G", "67.25"),
    ("MRMUSCLEINTANKTBC", "329.00"),
    ("MYRA FG FWASHB1T1", "83.00"),
    ("NESTLEAPC250MLx2sv15", "246.00"),
    ("NOVA CNTRY CHED160G", "72.00"),
    ("NSSNRMNGRPRKINKTS600", "87.00"),
    ("ottgijinramenchi110g", "76.00"),
    ("ottogi cheese ramen", "170.00"),
    ("Loyal Treats B2+10", "0.00"),
    ("OVALTINE PREM 256", "43.65"),
    ("PAPA BNN CTSUP 320G", "28.50"),
    ("PB MS YELLWCKEMIX15", "159.00"),
    ("Pf CB210G 2S SLTSVR", "206.00"),
    ("PIKNIK SHOESTRING90/", "175.00"),
    ("robd1 kalamansi 1000", "97.25"),
    ("SANICARE BI I PLY 4S", "98.25"),
    ("Loyal Treats 110", "0.00"),
    ("starchwaredessert10", "62.00"),
    ("SUPER DELIGHT BROWN", "85.00"),
    ("SWISSMISS DRKCHC03TG", "76.50"),
    ("LOR BBQ 1606", "41.25"),
]


def _normalize(name: str) -> Receipt:
    response = json.loads((FIXTURES / f"{name}.json").read_text())
    base = Receipt(receipt_id="r-1", user_id="u-1")
    return normalize_expense(response, base=base, ocr_engine="textract", today=TODAY)


def _money(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_fields(name: str) -> None:
    # Given a real response, When it is normalized
    receipt = _normalize(name)
    want = EXPECTED[name]
    # Then every key field matches what is printed on the document
    assert receipt.vendor.name == want.vendor
    assert receipt.purchase_date == want.purchase_date
    assert receipt.currency == want.currency
    assert receipt.total == _money(want.total)
    assert receipt.tax == _money(want.tax)
    assert receipt.subtotal == _money(want.subtotal)
    assert receipt.discount == _money(want.discount)
    assert [(i.description, i.amount) for i in receipt.line_items] == [(d, _money(a)) for d, a in want.items]
    assert receipt.status is want.status
    assert {r.split(":")[0] for r in receipt.review_reasons} == want.review_fields
    assert receipt.ocr_engine == "textract"


def test_no_summary_fields_still_yields_items() -> None:
    receipt = _normalize("no_summary_fields")
    assert [(i.description, i.amount) for i in receipt.line_items] == [
        (d, Decimal(a)) for d, a in NO_SUMMARY_ITEMS
    ]
    assert receipt.status is Status.NEEDS_REVIEW
    assert {r.split(":")[0] for r in receipt.review_reasons} == {
        "vendor",
        "purchase_date",
        "currency",
        "total",
    }
    swiss = receipt.line_items[27]
    assert swiss.unit_price == Decimal("15.30") and swiss.quantity is None
    curls = receipt.line_items[3]
    assert (curls.quantity, curls.unit_price) == (Decimal(2), Decimal("21.50"))


def test_repeat_calls_on_the_same_photo_agree() -> None:
    first = _normalize("mega_market_receipt")
    second = _normalize("mega_market_receipt_second_call")
    assert first.model_dump(exclude={"uploaded_at"}) == second.model_dump(exclude={"uploaded_at"})


def test_details_of_the_mega_market_receipt() -> None:
    receipt = _normalize("mega_market_receipt")
    assert receipt.vendor.phone == "800-532-2918"
    assert receipt.payment_method == "VISA"  # the brand only: never the card number
    assert set(receipt.confidence) >= {"vendor", "purchase_date", "currency", "total", "tax"}
    assert all(0 <= v <= 1 for v in receipt.confidence.values())


def test_vendor_address_ignores_the_ship_to_block() -> None:
    receipt = _normalize("amazon_invoice")
    assert receipt.vendor.address == "123 Some Street, Some City, XYZ, USA"
    assert receipt.vendor.phone == "+1333-333-3333"


def test_every_fixture_round_trips_through_json() -> None:
    for path in sorted(FIXTURES.glob("*.json")):
        receipt = _normalize(path.stem)
        assert Receipt.model_validate_json(receipt.model_dump_json()) == receipt
