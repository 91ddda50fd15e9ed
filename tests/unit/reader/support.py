"""Helpers: OCR lines from SROIE-style box rows ("x1,y1,...,x4,y4,text")."""

from __future__ import annotations

import math
from typing import Any

from receiptlake.reader.ocr import OcrLine
from receiptlake.reader.parser import parse_page


def lines_from_boxes(text: str, angle_deg: float = 0.0) -> list[OcrLine]:
    """OcrLines from box rows; ``angle_deg`` rotates the page to imitate a skewed photo."""
    out = []
    a = math.radians(angle_deg)
    for raw in text.strip().splitlines():
        parts = raw.strip().split(",", 8)
        xs = [float(v) for v in parts[:8]]
        pts = [(xs[i], xs[i + 1]) for i in range(0, 8, 2)]
        pts = [(x * math.cos(a) - y * math.sin(a) + 300, x * math.sin(a) + y * math.cos(a)) for x, y in pts]
        out.append(OcrLine(parts[8], 0.95, tuple(pts)))  # type: ignore[arg-type]
    return out


def parse(text: str, angle_deg: float = 0.0) -> dict[str, Any]:
    lines = lines_from_boxes(text, angle_deg)
    width = int(max(ln.right for ln in lines)) + 50
    height = int(max(ln.bottom for ln in lines)) + 50
    return parse_page(lines, width, height)


def fields(page: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in page["SummaryFields"]:
        out.setdefault(f["Type"]["Text"], f["ValueDetection"]["Text"])
    return out


def items(page: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {f["Type"]["Text"]: f["ValueDetection"]["Text"] for f in item["LineItemExpenseFields"]}
        for group in page["LineItemGroups"]
        for item in group["LineItems"]
    ]
