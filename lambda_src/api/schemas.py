"""Request and response bodies: the contract the web app codes against."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
)

from lambda_src.common.model import LineItem, Receipt, Vendor

ALLOWED_CONTENT_TYPES: dict[str, str] = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/tiff": "tiff",
    "application/pdf": "pdf",
}
ContentType = Literal["image/jpeg", "image/png", "image/tiff", "application/pdf"]

_AMOUNT = re.compile(r"^-?\d{1,12}(\.\d{1,4})?$")
MAX_AMOUNT = Decimal("1e12")


def _strict_money(value: Any) -> Any:
    """An amount typed by a person: a plain decimal (string or number), at most 4 places.

    Stricter than the OCR parser on purpose: "12abc" is a typo to report, not 12, and a
    bounded size keeps every sum inside DynamoDB's 38-digit numbers."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError('an amount is a decimal such as "12.50"')
    if isinstance(value, int):
        value = str(value)
    elif isinstance(value, float):
        value = repr(value)
    if isinstance(value, str):
        text = value.strip()
        if not _AMOUNT.match(text):
            raise ValueError('an amount is a decimal such as "12.50" (at most 4 decimal places)')
        try:
            return Decimal(text)
        except InvalidOperation as exc:  # pragma: no cover - the pattern already guards
            raise ValueError("not a decimal amount") from exc
    raise ValueError('an amount is a decimal such as "12.50"')


InputMoney = Annotated[
    Decimal,
    BeforeValidator(_strict_money),
    PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": _AMOUNT.pattern, "examples": ["12.50"]}),
]
MoneyOut = Annotated[
    Decimal,
    PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "examples": ["12.50"]}),
]

Text = Annotated[str, Field(max_length=200)]

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(value: Any) -> Any:
    # pydantic would also read "0" or "1700000000" as a Unix time; a person means a date.
    if isinstance(value, str) and not _ISO_DATE.match(value.strip()):
        raise ValueError("use a date like 2026-03-14 (YYYY-MM-DD)")
    return value.strip() if isinstance(value, str) else value


IsoDate = Annotated[date, BeforeValidator(_iso_date), WithJsonSchema({"type": "string", "format": "date"})]


# ---- uploads ------------------------------------------------------------------------
class UploadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=255)
    content_type: ContentType
    size_bytes: int = Field(ge=1, description="The file's size; above the limit answers 413.")
    sha256: str | None = Field(default=None, pattern=r"^[A-Fa-f0-9]{64}$")

    @field_validator("sha256")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return value.lower() if value else value


class PresignedPost(BaseModel):
    url: str
    fields: dict[str, str]


class UploadSlot(BaseModel):
    receipt: Receipt
    upload: PresignedPost
    duplicate_of: str | None


# ---- receipts -----------------------------------------------------------------------
class ReceiptPage(BaseModel):
    items: list[Receipt]
    next_cursor: str | None


class ReceiptView(BaseModel):
    receipt: Receipt
    image_url: str | None


class ReceiptEnvelope(BaseModel):
    receipt: Receipt


class PatchVendor(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text | None = None
    legal_name: Text | None = None
    address: Annotated[str, Field(max_length=500)] | None = None
    phone: Annotated[str, Field(max_length=50)] | None = None


def _vendor_from_text(value: Any) -> Any:
    # Forgiving: a bare string is the vendor's name.
    return {"name": value} if isinstance(value, str) else value


class PatchLineItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = Field(min_length=1, max_length=500)
    quantity: InputMoney | None = None
    unit_price: InputMoney | None = None
    amount: InputMoney | None = None
    category: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    category_confidence: float | None = Field(default=None, ge=0, le=1)


class ReceiptPatch(BaseModel):
    """Corrections: send only the fields that change (``null`` clears one)."""

    model_config = ConfigDict(extra="forbid")

    vendor: Annotated[PatchVendor | None, BeforeValidator(_vendor_from_text)] = None
    purchase_date: IsoDate | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Za-z]{3}$")] | None = None
    subtotal: InputMoney | None = None
    tax: InputMoney | None = None
    tip: InputMoney | None = None
    discount: InputMoney | None = None
    total: InputMoney | None = None
    payment_method: Annotated[str, Field(max_length=64)] | None = None
    category: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    line_items: list[PatchLineItem] | None = Field(default=None, max_length=200)
    version: int | None = Field(default=None, ge=0, description="409 if the receipt moved on.")

    def changes(self) -> dict[str, Any]:
        """The fields the caller sent, as values for ``Receipt``."""
        out: dict[str, Any] = {}
        for name in self.model_fields_set - {"version"}:
            value = getattr(self, name)
            if name == "vendor":
                value = Vendor.model_validate(value.model_dump()) if value else Vendor()
            elif name == "line_items":
                value = [LineItem.model_validate(i.model_dump()) for i in value or []]
            elif name == "currency" and value:
                value = value.upper()
            out[name] = value
        return out


# ---- analytics ----------------------------------------------------------------------
class SummaryGroup(BaseModel):
    key: str
    label: str
    total: MoneyOut
    count: int
    month: str


class CurrencySummary(BaseModel):
    currency: str
    total: MoneyOut
    count: int
    groups: list[SummaryGroup]


class Summary(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from")
    to: str
    group: Literal["month", "category", "vendor"]
    currencies: list[CurrencySummary]


class PricePoint(BaseModel):
    date: date
    vendor: str | None
    description: str
    quantity: MoneyOut | None
    unit_price: MoneyOut | None
    amount: MoneyOut | None
    currency: str | None
    receipt_id: str


class ItemHistory(BaseModel):
    query: str
    points: list[PricePoint]


# ---- insights -----------------------------------------------------------------------
class Forecast(BaseModel):
    """Next month's spend in one currency: all categories (``category`` null) or one."""

    currency: str
    month: str = Field(description="YYYY-MM, the forecast month")
    category: str | None = Field(default=None, description="taxonomy slug; null = all spending")
    predicted: MoneyOut
    lower: MoneyOut = Field(description="lower end of the 80% interval")
    upper: MoneyOut = Field(description="upper end of the 80% interval")


class Driver(BaseModel):
    """What made an anomaly: a vendor or an item, with the money it added."""

    kind: Literal["vendor", "item", "category"]
    label: str
    amount: MoneyOut
    receipt_id: str | None = None


class Anomaly(BaseModel):
    """Spending far from the user's own baseline, explained by its drivers."""

    kind: Literal["receipt", "month", "category", "vendor"] = "receipt"
    receipt_id: str | None = Field(default=None, description="set when kind is receipt")
    month: str | None = Field(default=None, description="YYYY-MM")
    category: str | None = None
    vendor: str | None = None
    currency: str
    amount: MoneyOut = Field(description="what was spent")
    expected: MoneyOut | None = Field(default=None, description="the user's usual amount")
    explanation: str
    score: float = Field(description="how unusual: robust z-score, higher is stranger")
    drivers: list[Driver] = Field(default_factory=list)


class InsightSet(BaseModel):
    forecasts: list[Forecast] = Field(default_factory=list)
    anomalies: list[Anomaly] = Field(default_factory=list)


class InsightsResponse(BaseModel):
    insights: InsightSet
    reason: str | None
    model_version: str | None


# ---- account ------------------------------------------------------------------------
class ErasedCounts(BaseModel):
    receipts: int
    images: int
    raw_documents: int


class ErasureReport(BaseModel):
    erased: ErasedCounts
