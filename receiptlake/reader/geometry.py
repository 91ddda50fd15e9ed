"""Page geometry: skew, rows and Textract-style normalized boxes.

A receipt is read row by row. OCR engines return one box per text run, so a row such as
"TOTAL            9.00" arrives as two boxes; grouping them back needs their vertical
overlap, measured after undoing the page's skew (phone photos are rarely level).
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from receiptlake.reader.ocr import OcrLine


def skew_angle(lines: Sequence[OcrLine]) -> float:
    """The page's dominant text angle in radians (positive: text runs downhill)."""
    angles = []
    for line in lines:
        (x0, y0), (x1, y1) = line.box[0], line.box[1]
        if x1 - x0 > 3 * line.height:  # short boxes give noisy angles
            angles.append(math.atan2(y1 - y0, x1 - x0))
    return statistics.median(angles) if angles else 0.0


@dataclass
class Placed:
    """A line with its position on the de-skewed page."""

    line: OcrLine
    x0: float
    x1: float
    y: float  # centre
    h: float

    @property
    def text(self) -> str:
        return self.line.text


@dataclass
class Row:
    cells: list[Placed] = field(default_factory=list)

    @property
    def y(self) -> float:
        return statistics.fmean(c.y for c in self.cells)

    @property
    def h(self) -> float:
        return statistics.median(c.h for c in self.cells)

    @property
    def text(self) -> str:
        return " ".join(c.text for c in self.cells)

    @property
    def lines(self) -> list[OcrLine]:
        return [c.line for c in self.cells]


def place(lines: Iterable[OcrLine], angle: float) -> list[Placed]:
    cos, sin = math.cos(-angle), math.sin(-angle)
    placed = []
    for line in lines:
        xs, ys = [], []
        for x, y in line.box:
            xs.append(x * cos - y * sin)
            ys.append(x * sin + y * cos)
        placed.append(Placed(line, min(xs), max(xs), sum(ys) / 4, line.height))
    return placed


def group_rows(lines: Sequence[OcrLine]) -> list[Row]:
    """Rows top to bottom, cells left to right.

    A cell joins a row when its centre lies within 55% of the row's height of the row's
    centre and it does not overlap a cell already in the row horizontally (two stacked
    lines of a tall header are two rows, not one).

    Amounts standing alone on the right ("14.00", "27.38 T") are placed last: on a tilted
    or curled photo the amount column sits a fraction of a row above or below its labels
    (the skew left after the page-wide correction grows with the distance to the label).
    The column's offset is estimated from the amounts themselves (``column_offset``) and
    each amount joins the row its offset points at.
    """
    placed = place(lines, skew_angle(lines))
    columns = _amount_column(placed)
    rows = _greedy_rows([p for p in placed if p not in columns])
    if columns:
        offset = column_offset(rows, columns)
        leftovers = []
        for cell in columns:
            best = min(
                (r for r in rows if not _overlaps(r, cell)),
                key=lambda r: abs(r.y + offset - cell.y),
                default=None,
            )
            limit = 0.55 * min(best.h, cell.h) + 0.15 * max(best.h, cell.h) if best else 0.0
            if best is not None and abs(best.y + offset - cell.y) < limit:
                best.cells.append(cell)
            else:
                leftovers.append(cell)
        rows += _greedy_rows(leftovers)
    for row in rows:
        row.cells.sort(key=lambda c: c.x0)
    rows.sort(key=lambda r: r.y)
    return rows


_LONE_AMOUNT = re.compile(
    r"[-(]?\s?(?:[A-Z]{1,3}\s?)?[$€£¥]?\s?(?:\d{1,3}(?:[,.]\d{3})*[.,]|\.)\s?\d{2}-?\)?(?:\s?[A-Z*]{1,2})?",
)


def _amount_column(placed: list[Placed]) -> list[Placed]:
    """Cells holding nothing but an amount, in the right half of the text."""
    if len(placed) < 4:
        return []
    left = min(p.x0 for p in placed)
    right = max(p.x1 for p in placed)
    middle = left + 0.5 * (right - left)
    return [p for p in placed if p.x0 > middle and _LONE_AMOUNT.fullmatch(p.text.strip().upper())]


def column_offset(rows: Sequence[Row], column: Sequence[Placed]) -> float:
    """The vertical offset of the amount column against the rows of labels.

    Items print one amount per row in the same order as their labels: the offset is the
    one that pairs the amounts one-to-one with rows best. A pair within 30% of a row
    height scores 1 at distance 0 down to 0 at that limit; 1.5 is taken off per row
    height of offset (a whole-row shift must pair clearly better to win, and a short
    column of totals is not moved by a chance fit; 0 on a level photo). Offsets beyond
    one row height are not considered.
    """
    if not rows:
        return 0.0
    h = statistics.median(c.h for c in column)
    candidates = {0.0} | {c.y - r.y for c in column for r in rows if abs(c.y - r.y) < h}
    best, best_key = 0.0, (-math.inf, 0.0)
    for offset in candidates:
        taken: set[int] = set()
        score = 0.0
        for cell in column:
            k, d = min(((k, abs(r.y + offset - cell.y)) for k, r in enumerate(rows)), key=lambda t: t[1])
            if d < 0.3 * h and k not in taken:
                taken.add(k)
                score += 1 - d / (0.3 * h)
        key = (score - 1.5 * abs(offset) / h, -abs(offset))
        if key > best_key:
            best, best_key = offset, key
    return best


def _greedy_rows(placed: Sequence[Placed]) -> list[Row]:
    rows: list[Row] = []
    for cell in sorted(placed, key=lambda p: p.y):
        best: Row | None = None
        best_dist = math.inf
        for row in rows[-4:]:  # only recent rows can still be open
            dist = abs(cell.y - row.y)
            limit = 0.55 * min(row.h, cell.h) + 0.15 * max(row.h, cell.h)
            if dist < limit and dist < best_dist and not _overlaps(row, cell):
                best, best_dist = row, dist
        if best is None:
            rows.append(Row([cell]))
        else:
            best.cells.append(cell)
    return rows


def _overlaps(row: Row, cell: Placed) -> bool:
    for other in row.cells:
        overlap = min(other.x1, cell.x1) - max(other.x0, cell.x0)
        if overlap > 0.3 * min(other.x1 - other.x0, cell.x1 - cell.x0):
            return True
    return False


def textract_geometry(lines: Sequence[OcrLine], width: int, height: int) -> dict[str, Any]:
    """Textract's Geometry of the region covering ``lines``, normalized to the page."""
    left = max(0.0, min(line.left for line in lines) / width)
    top = max(0.0, min(line.top for line in lines) / height)
    right = min(1.0, max(line.right for line in lines) / width)
    bottom = min(1.0, max(line.bottom for line in lines) / height)
    if len(lines) == 1:
        polygon = [
            {"X": min(1.0, max(0.0, x / width)), "Y": min(1.0, max(0.0, y / height))} for x, y in lines[0].box
        ]
    else:
        polygon = [
            {"X": left, "Y": top},
            {"X": right, "Y": top},
            {"X": right, "Y": bottom},
            {"X": left, "Y": bottom},
        ]
    return {
        "BoundingBox": {"Width": right - left, "Height": bottom - top, "Left": left, "Top": top},
        "Polygon": polygon,
    }
