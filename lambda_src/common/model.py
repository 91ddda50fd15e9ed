"""The receipt model: one definition used by ingest, api, etl, ml and (as JSON) the web app.

Money is ``Decimal`` in Python and a decimal *string* in JSON, never a float.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, field_validator

from lambda_src.common.money import MoneyError, parse_money


def _to_decimal(value: Any) -> Any:
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        # A float has already lost the exact value; go through its shortest repr.
        return Decimal(repr(value))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return parse_money(value)
        except MoneyError as exc:
            raise ValueError(str(exc)) from exc
    return value


Money = Annotated[
    Decimal,
    BeforeValidator(_to_decimal),
    PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json"),
]


class Status(StrEnum):
    PENDING = "PENDING"
    PROCESSED = "PROCESSED"
    NEEDS_REVIEW = "NEEDS_REVIEW"
    FAILED = "FAILED"

    @property
    def terminal(self) -> bool:
        return self is not Status.PENDING


class Vendor(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    legal_name: str | None = None
    address: str | None = None
    phone: str | None = None


class LineItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str
    quantity: Money | None = None
    unit_price: Money | None = None
    amount: Money | None = None
    category: str | None = None
    category_confidence: float | None = Field(default=None, ge=0, le=1)


UNCATEGORIZED = "uncategorized"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Receipt(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    receipt_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    user_id: str = Field(min_length=1, max_length=128)
    status: Status = Status.PENDING
    failure_reason: str | None = None
    review_reasons: list[str] = Field(default_factory=list)
    object_key: str | None = None
    content_type: str | None = None
    size_bytes: int | None = Field(default=None, ge=0)
    image_sha256: str | None = None
    uploaded_at: datetime = Field(default_factory=utcnow)
    processed_at: datetime | None = None
    vendor: Vendor = Field(default_factory=Vendor)
    purchase_date: date | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    subtotal: Money | None = None
    tax: Money | None = None
    tip: Money | None = None
    discount: Money | None = None
    total: Money | None = None
    payment_method: str | None = None
    line_items: list[LineItem] = Field(default_factory=list)
    category: str | None = None
    confidence: dict[str, float] = Field(default_factory=dict)
    ocr_engine: Literal["textract", "local"] | None = None
    corrected_fields: list[str] = Field(default_factory=list)
    duplicate_of: str | None = None
    version: int = Field(default=0, ge=0)

    @field_validator("currency", mode="before")
    @classmethod
    def _upper_currency(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @property
    def spend_date(self) -> date:
        """The date the spending counts on: the printed one, else the upload day."""
        return self.purchase_date or self.uploaded_at.date()

    @property
    def counts_as_spending(self) -> bool:
        """Whether the receipt contributes to the user's analytics aggregates."""
        return (
            self.status in (Status.PROCESSED, Status.NEEDS_REVIEW)
            and self.total is not None
            and self.currency is not None
        )

    def category_split(self) -> dict[str, Decimal]:
        """The total spread over categories: line items by their own category, and what
        the items do not explain (tax, tip, discount, unread lines) under the receipt's.
        The parts always add up to the total exactly."""
        if self.total is None:
            return {}
        fallback = self.category or UNCATEGORIZED
        split: dict[str, Decimal] = {}
        for item in self.line_items:
            if item.amount is None:
                continue
            key = item.category or fallback
            split[key] = split.get(key, Decimal(0)) + item.amount
        rest = self.total - sum(split.values(), Decimal(0))
        if rest:
            split[fallback] = split.get(fallback, Decimal(0)) + rest
        return {k: v for k, v in split.items() if v}


# Fields a person may correct through the API (line items are corrected as a whole list).
CORRECTABLE_FIELDS = frozenset(
    {
        "vendor",
        "purchase_date",
        "currency",
        "subtotal",
        "tax",
        "tip",
        "discount",
        "total",
        "payment_method",
        "line_items",
        "category",
    }
)
