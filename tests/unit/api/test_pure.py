"""Pure pieces of the API: review checks, amount parsing, month ranges, CSV cells, settings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from lambda_src.api.review import review_problems
from lambda_src.api.routes.analytics import resolve_range
from lambda_src.api.routes.export import _text, rows
from lambda_src.api.schemas import ReceiptPatch, UploadRequest
from lambda_src.api.settings import AuthMode, Settings
from lambda_src.common.model import LineItem, Receipt, Status, Vendor

TODAY = date(2026, 11, 25)


def receipt(**kw: object) -> Receipt:
    base: dict[str, object] = {
        "receipt_id": "r1",
        "user_id": "u1",
        "status": Status.NEEDS_REVIEW,
        "vendor": Vendor(name="Shop"),
        "purchase_date": date(2026, 11, 1),
        "currency": "EUR",
        "total": Decimal("5.50"),
    }
    return Receipt.model_validate(base | kw)


def test_review_passes_when_amounts_add_up() -> None:
    items = [
        LineItem(description="a", amount=Decimal("3.00")),
        LineItem(description="b", amount=Decimal("2.00")),
    ]
    assert review_problems(receipt(line_items=items, tax=Decimal("0.50")), TODAY) == []
    assert review_problems(receipt(subtotal=Decimal("5.00"), tip=Decimal("0.50")), TODAY) == []
    assert review_problems(receipt(), TODAY) == []  # nothing to cross-check


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"total": None}, "total"),
        ({"currency": None}, "currency"),
        ({"purchase_date": None}, "date"),
        ({"purchase_date": date(2027, 1, 1)}, "future"),
        ({"purchase_date": date(2001, 1, 1)}, "old"),
        ({"line_items": [LineItem(description="a", amount=Decimal("1.00"))]}, "add up"),
    ],
)
def test_review_names_what_is_wrong(changes: dict[str, object], problem: str) -> None:
    problems = review_problems(receipt(**changes), TODAY)
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize("value", ["12.50", "12", 12, "-3.5", "0.0001", 1.25])
def test_amounts_accepted(value: object) -> None:
    assert ReceiptPatch.model_validate({"total": value}).total == Decimal(str(value))


@pytest.mark.parametrize("value", ["12abc", "1e5", "NaN", "Infinity", "1.23456", True, "1" * 13, [], ""])
def test_amounts_rejected(value: object) -> None:
    with pytest.raises(ValidationError):
        ReceiptPatch.model_validate({"total": value})


def test_patch_changes_only_what_was_sent() -> None:
    patch = ReceiptPatch.model_validate({"vendor": "Tesco", "tip": None, "version": 3, "currency": "gbp"})
    changes = patch.changes()
    assert set(changes) == {"vendor", "tip", "currency"}
    assert changes["vendor"] == Vendor(name="Tesco") and changes["currency"] == "GBP"


def test_upload_request_normalises_hash_and_rejects_extras() -> None:
    body = {"filename": "a.jpg", "content_type": "image/jpeg", "size_bytes": 1, "sha256": "AB" * 32}
    assert UploadRequest.model_validate(body).sha256 == "ab" * 32
    with pytest.raises(ValidationError):
        UploadRequest.model_validate(body | {"user_id": "someone"})


def test_month_ranges() -> None:
    assert resolve_range(None, None, TODAY) == ("2025-12", "2026-11")
    assert resolve_range(None, "2026-03", TODAY) == ("2025-04", "2026-03")
    assert resolve_range("2026-01", None, TODAY) == ("2026-01", "2026-11")
    assert resolve_range("2027-05", None, TODAY) == ("2027-05", "2027-05")
    assert resolve_range(None, "2026-01", TODAY) == ("2025-02", "2026-01")


def test_csv_neutralises_formulas_and_keeps_money_exact() -> None:
    assert _text("=SUM(A1)") == "'=SUM(A1)" and _text("@x") == "'@x" and _text("Milk") == "Milk"
    (row,) = list(rows(receipt(vendor=Vendor(name="+cmd"))))
    assert row[3] == "'+cmd" and row[9] == "5.50" and row[12:] == ["", "", "", "", "", ""]


def test_verify_mode_needs_the_pool() -> None:
    with pytest.raises(ValidationError, match="COGNITO_ISSUER"):
        Settings(
            table_name="t",
            uploads_bucket="u",
            lake_bucket="l",
            ingest_queue_url="q",
            auth_mode=AuthMode.VERIFY,
        )


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "TABLE_NAME": "t",
        "UPLOADS_BUCKET": "u",
        "LAKE_BUCKET": "l",
        "INGEST_QUEUE_URL": "q",
        "AWS_REGION": "eu-central-1",
        "CORS_ORIGINS": '["http://localhost:5173"]',
        "MAX_UPLOAD_BYTES": "1000",
    }.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.auth_mode is AuthMode.APIGW and settings.aws_region == "eu-central-1"
    assert settings.cors_origins == ("http://localhost:5173",) and settings.max_upload_bytes == 1000
