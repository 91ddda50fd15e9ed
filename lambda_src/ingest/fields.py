"""A flat, typed view of the fields in an AnalyzeExpense / GetExpenseAnalysis response.

Textract nests every value in Type / LabelDetection / ValueDetection / Geometry dicts; the
normalizer only needs a handful of attributes, so they are read once here and the rest of
the code works with small frozen records.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Field:
    """One summary field or one line-item field."""

    type: str
    label: str
    text: str
    confidence: float  # 0..1, the value's detection confidence
    page: int
    top: float
    left: float
    width: float
    height: float
    groups: frozenset[str]
    currency: str | None

    @property
    def center(self) -> tuple[float, float]:
        return (self.left + self.width / 2, self.top + self.height / 2)

    def distance(self, other: Field) -> float:
        """Distance between box centres on the page (pages apart count as far apart)."""
        if self.page != other.page:
            return math.inf
        (x1, y1), (x2, y2) = self.center, other.center
        return math.hypot(x1 - x2, y1 - y2)


@dataclass(frozen=True)
class Row:
    """One line item: its fields in Textract's order."""

    fields: tuple[Field, ...]

    def of(self, *types: str) -> list[Field]:
        return [f for f in self.fields if f.type in types]

    def first(self, *types: str) -> Field | None:
        """The first field of the first type that has a non-empty value."""
        for wanted in types:
            for f in self.fields:
                if f.type == wanted and f.text.strip():
                    return f
        return None


@dataclass(frozen=True)
class Document:
    summary: tuple[Field, ...]
    rows: tuple[Row, ...]

    def of(self, *types: str) -> list[Field]:
        return [f for f in self.summary if f.type in types and f.text.strip()]


def _text(node: Mapping[str, Any] | None) -> str:
    if not node:
        return ""
    value = node.get("Text")
    return value if isinstance(value, str) else ""


def _field(raw: Mapping[str, Any]) -> Field:
    value = raw.get("ValueDetection") or {}
    box = (value.get("Geometry") or {}).get("BoundingBox") or {}
    groups = frozenset(t for group in raw.get("GroupProperties") or [] for t in group.get("Types") or [])
    currency = (raw.get("Currency") or {}).get("Code")
    return Field(
        type=_text(raw.get("Type")).upper() or "OTHER",
        label=" ".join(_text(raw.get("LabelDetection")).split()),
        text=_text(value).strip(),
        confidence=float(value.get("Confidence") or 0.0) / 100.0,
        page=int(raw.get("PageNumber") or 1),
        top=float(box.get("Top") or 0.0),
        left=float(box.get("Left") or 0.0),
        width=float(box.get("Width") or 0.0),
        height=float(box.get("Height") or 0.0),
        groups=groups,
        currency=currency.upper() if isinstance(currency, str) and currency else None,
    )


def read_documents(response: Mapping[str, Any]) -> list[Document]:
    """Every ExpenseDocument of a response (one per page or per invoice in async output)."""
    documents: list[Document] = []
    for raw_doc in response.get("ExpenseDocuments") or []:
        summary = tuple(_field(f) for f in raw_doc.get("SummaryFields") or [])
        rows = tuple(
            Row(tuple(_field(f) for f in item.get("LineItemExpenseFields") or []))
            for group in raw_doc.get("LineItemGroups") or []
            for item in group.get("LineItems") or []
        )
        documents.append(Document(summary, rows))
    return documents


def merge(documents: Sequence[Document]) -> Document:
    """A multi-page receipt is one receipt: its pages' fields and rows, in page order."""
    return Document(
        summary=tuple(f for d in documents for f in d.summary),
        rows=tuple(r for d in documents for r in d.rows),
    )


def best(fields: Iterable[Field]) -> Field | None:
    """The most confident field; ties go to the one printed first."""
    ordered = sorted(fields, key=lambda f: (-f.confidence, f.page, f.top))
    return ordered[0] if ordered else None
