"""Build small AnalyzeExpense-shaped responses for edge cases the real fixtures lack."""

from __future__ import annotations

from typing import Any


def sf(
    type_: str,
    value: str,
    *,
    label: str | None = None,
    conf: float = 99.0,
    top: float = 0.5,
    left: float = 0.1,
    page: int = 1,
    groups: tuple[str, ...] = (),
    currency: str | None = None,
) -> dict[str, Any]:
    field: dict[str, Any] = {
        "Type": {"Text": type_, "Confidence": conf},
        "ValueDetection": {
            "Text": value,
            "Confidence": conf,
            "Geometry": {"BoundingBox": {"Top": top, "Left": left, "Width": 0.3, "Height": 0.02}},
        },
        "PageNumber": page,
    }
    if label is not None:
        field["LabelDetection"] = {"Text": label, "Confidence": conf}
    if groups:
        field["GroupProperties"] = [{"Types": list(groups), "Id": "g"}]
    if currency:
        field["Currency"] = {"Code": currency}
    return field


def item(**values: str) -> dict[str, Any]:
    """A line item from keyword arguments: item=..., price=..., quantity=..., expense_row=..."""
    return {
        "LineItemExpenseFields": [
            {
                "Type": {"Text": key.upper(), "Confidence": 99.0},
                "ValueDetection": {"Text": value, "Confidence": 98.0},
                "PageNumber": 1,
            }
            for key, value in values.items()
        ]
    }


def response(*summary: dict[str, Any], items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"ExpenseIndex": 1, "SummaryFields": list(summary), "LineItemGroups": []}
    if items:
        doc["LineItemGroups"] = [{"LineItemGroupIndex": 1, "LineItems": items}]
    return {"DocumentMetadata": {"Pages": 1}, "ExpenseDocuments": [doc]}
