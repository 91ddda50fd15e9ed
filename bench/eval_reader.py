"""Evaluate the local receipt reader (receiptlake.reader) on the shared dev data.

    python bench/eval_reader.py                      # everything: text-only and end to end
    python bench/eval_reader.py --mode text          # fast: SROIE box/ transcripts, no OCR
    python bench/eval_reader.py --mode e2e --limit 20 --engine rapidocr

Figures (see bench/README.md, "Local reader", for the definitions):
- sroie-train: SROIE task-3 style exact-match precision/recall/F1 for company, date,
  address and total; end to end from img/ (OCR + parser) and text-only from box/ (the
  dataset's own OCR transcripts and boxes through the parser).
- wildreceipt-dev: line-item F1 (description and amount both right), end to end from the
  images and text-only from the annotated boxes.
- seconds per image (OCR + parsing, model load excluded) end to end.

Data: --data, else $RECEIPTLAKE_DATA, else /work/shared/data.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import json
import math
import os
import re
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from lambda_src.common.money import MoneyError, parse_money  # noqa: E402
from receiptlake.reader.ocr import OcrEngine, OcrLine, _fix_case_slips, get_engine  # noqa: E402
from receiptlake.reader.parser import parse_page  # noqa: E402
from receiptlake.reader.reader import analyze_pages, load_pages  # noqa: E402
from receiptlake.reader.text import find_date  # noqa: E402

DEFAULT_DATA = Path(os.environ.get("RECEIPTLAKE_DATA", "/work/shared/data"))
SROIE_FIELDS = ("company", "date", "address", "total")


# --- reading predictions out of an AnalyzeExpense-shaped response ---------------------


def summary(response: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for doc in response["ExpenseDocuments"]:
        for f in doc["SummaryFields"]:
            out.setdefault(f["Type"]["Text"], f["ValueDetection"]["Text"])
    return out


def line_items(response: dict[str, Any]) -> list[tuple[str, str]]:
    items = []
    for doc in response["ExpenseDocuments"]:
        for group in doc["LineItemGroups"]:
            for item in group["LineItems"]:
                kinds = {
                    f["Type"]["Text"]: f["ValueDetection"]["Text"] for f in item["LineItemExpenseFields"]
                }
                if "ITEM" in kinds and "PRICE" in kinds:
                    items.append((kinds["ITEM"], kinds["PRICE"]))
    return items


def sroie_prediction(response: dict[str, Any]) -> dict[str, str | None]:
    s = summary(response)
    # SROIE's "company" is usually the registered name: compare against the legal name
    # when the reader found one, else the brand name.
    return {
        "company": s.get("VENDOR_LEGAL_NAME") or s.get("VENDOR_NAME"),
        "date": s.get("INVOICE_RECEIPT_DATE"),
        "address": s.get("VENDOR_ADDRESS"),
        "total": s.get("TOTAL"),
    }


# --- scoring ------------------------------------------------------------------------------


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text.upper())


def _money(text: str) -> Decimal | None:
    # ".88" (US receipts print amounts under a dollar so): parse_money would read 88.
    text = re.sub(r"(?<![\d.,])\.(?=\d{2}(?!\d))", "0.", text, count=1)
    try:
        return abs(parse_money(text.replace("RM", "").replace("$", "")))
    except (MoneyError, ArithmeticError):
        return None


def sroie_match(name: str, predicted: str | None, truth: str) -> bool:
    if not predicted:
        return False
    if name == "date":
        p, t = find_date(predicted), find_date(truth)
        return p is not None and t is not None and p[1] == t[1]
    if name == "total":
        p_money, t_money = _money(predicted), _money(truth)
        return p_money is not None and p_money == t_money
    return _squash(predicted) == _squash(truth)


@dataclass
class Score:
    tp: int = 0
    predicted: int = 0
    truth: int = 0

    def add(self, tp: int, predicted: int, truth: int) -> None:
        self.tp += tp
        self.predicted += predicted
        self.truth += truth

    @property
    def precision(self) -> float:
        return self.tp / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.tp / self.truth if self.truth else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Run:
    scores: dict[str, Score] = field(default_factory=dict)
    seconds: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    def score(self, name: str) -> Score:
        return self.scores.setdefault(name, Score())


def _desc_key(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", text.upper())


def match_items(predicted: list[tuple[str, str]], truth: list[tuple[str, str]], fuzzy: float | None) -> int:
    """Matched predicted items: amount equal and description equal (after dropping case,
    spaces and punctuation) or, with ``fuzzy``, at least that similar (difflib ratio)."""
    left = list(truth)
    hits = 0
    for desc, amount in predicted:
        value = _money(amount)
        for k, (t_desc, t_amount) in enumerate(left):
            if value is None or value != _money(t_amount):
                continue
            a, b = _desc_key(desc), _desc_key(t_desc)
            same = a == b if fuzzy is None else difflib.SequenceMatcher(None, a, b).ratio() >= fuzzy
            if same:
                hits += 1
                del left[k]
                break
    return hits


# --- data sets ----------------------------------------------------------------------------


def sroie_ids(data: Path, with_images: bool) -> list[str]:
    root = data / "sroie-train"
    if with_images:
        return sorted(p.stem for p in (root / "img").glob("*.jpg"))
    return sorted(p.stem for p in (root / "entities").glob("*.json"))


def sroie_box_lines(path: Path) -> list[OcrLine]:
    lines = []
    for row in csv.reader(path.read_text(encoding="utf-8", errors="replace").splitlines()):
        if len(row) < 9:
            continue
        try:
            xs = [float(v) for v in row[:8]]
        except ValueError:
            continue
        text = ",".join(row[8:]).strip()
        if text:
            pts = ((xs[0], xs[1]), (xs[2], xs[3]), (xs[4], xs[5]), (xs[6], xs[7]))
            lines.append(OcrLine(text, 1.0, pts))
    return lines


def wild_receipts(data: Path) -> Iterator[dict[str, Any]]:
    with (data / "wildreceipt-dev" / "receipts.jsonl").open() as fh:
        for line in fh:
            yield json.loads(line)


def _center_y(box: list[float]) -> float:
    return sum(box[1::2]) / 4


def _height(box: list[float]) -> float:
    return max(box[1::2]) - min(box[1::2])


def _rows_by_y(boxes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Boxes grouped into rows: a box joins a row when its centre is within half the
    shorter one's height of the row's centre."""
    rows: list[dict[str, Any]] = []
    for b in sorted(boxes, key=lambda a: _center_y(a["box"])):
        y, h = _center_y(b["box"]), _height(b["box"])
        same = next((r for r in rows if abs(r["y"] - y) < 0.5 * min(h, r["h"])), None)
        if same is None:
            rows.append({"y": y, "h": h, "boxes": [b]})
        else:
            same["boxes"].append(b)
    return rows


def _row_offset(name_rows: list[dict[str, Any]], price_rows: list[dict[str, Any]], h: float) -> float:
    """The vertical offset of the price column against the name column.

    WildReceipt's boxes are axis-aligned even on tilted or curled photos, where the price
    of a row sits up to a row or two above or below its name (the prices are far to the
    right). Names and prices are printed in the same order, one price per item row: the
    offset is the one that pairs the price rows one-to-one with name rows best: each pair
    within half a row height scores 1 at distance 0 down to 0 at half a row height, less
    one per row height of offset (0 on a level photo; a shift by a whole row must pair
    clearly better to win).
    """
    candidates = {0.0} | {
        p["y"] - n["y"] for p in price_rows for n in name_rows if abs(p["y"] - n["y"]) < 3 * h
    }
    best, best_key = 0.0, (-math.inf, 0.0)
    for c in candidates:
        taken: set[int] = set()
        residual = 0.0  # the pairs' scores
        for p in price_rows:
            k, d = min(((k, abs(n["y"] + c - p["y"])) for k, n in enumerate(name_rows)), key=lambda t: t[1])
            if d < 0.5 * h and k not in taken:
                taken.add(k)
                residual += 1 - d / (0.5 * h)
        key = (residual - abs(c) / h, -abs(c))
        if key > best_key:
            best, best_key = c, key
    return best


def wild_truth(receipt: dict[str, Any]) -> list[tuple[str, str]]:
    """Ground-truth items: each product price box with the product name boxes of its row
    (names on rows without a price join the nearest priced row). Several prices on one row
    (unit price, amount): the rightmost is the amount. Rows are matched after correcting
    the offset between the name and price columns (``_row_offset``): on tilted photos the
    plain nearest-by-height pairing put prices on the neighbouring row."""
    anns = receipt["annotations"]
    prices = [a for a in anns if a["label"] == 15]
    names = [a for a in anns if a["label"] == 11]
    rows = _rows_by_y(prices)
    for r in rows:
        r["price"] = max(r["boxes"], key=lambda a: min(a["box"][0::2]))
        r["names"] = []
    if not rows:
        return []
    name_rows = _rows_by_y(names)
    if name_rows:
        h = sorted(r["h"] for r in rows)[len(rows) // 2]
        c = _row_offset(name_rows, rows, h)
        # Each price row takes the name row at its offset; the other name rows (a second
        # line of a name, a modifier under its dish) join the nearest taken name row,
        # the one above when about as near.
        owner: dict[int, dict[str, Any]] = {}
        for r in rows:
            k = min(range(len(name_rows)), key=lambda k: abs(name_rows[k]["y"] + c - r["y"]))
            if abs(name_rows[k]["y"] + c - r["y"]) < 0.5 * h and k not in owner:
                owner[k] = r
        # A price row left without a name (a weighed item: "ORANGES AUST" above
        # "1.385kg @ $2.98/kg  4.13") takes the free name row just above it.
        for r in rows:
            if r in owner.values():
                continue
            free = [k for k in range(len(name_rows)) if k not in owner]
            free_above = [k for k in free if 0 < r["y"] - name_rows[k]["y"] - c < 2.5 * h]
            if free_above:
                owner[max(free_above, key=lambda k: name_rows[k]["y"])] = r
        for k, nr in enumerate(name_rows):
            if k not in owner and owner:
                above = max((j for j in owner if j < k), default=None)
                below = min((j for j in owner if j > k), default=None)
                d_above = nr["y"] - name_rows[above]["y"] if above is not None else float("inf")
                d_below = name_rows[below]["y"] - nr["y"] if below is not None else float("inf")
                if above is not None and d_above <= 1.3 * d_below:
                    owner[k] = owner[above]
                elif below is not None:
                    owner[k] = owner[below]
            if k in owner:
                owner[k]["names"].extend(nr["boxes"])
            else:
                min(rows, key=lambda r: abs(r["y"] - nr["y"] - c))["names"].extend(nr["boxes"])
    items = []
    for r in rows:
        if r["names"]:
            ordered = sorted(
                r["names"], key=lambda a: (round(_center_y(a["box"]) / max(r["h"], 1)), a["box"][0])
            )
            items.append((" ".join(a["text"] for a in ordered), r["price"]["text"]))
    return items


def wild_box_lines(receipt: dict[str, Any]) -> list[OcrLine]:
    lines = []
    for a in receipt["annotations"]:
        b = a["box"]
        pts = [(b[0], b[1]), (b[2], b[3]), (b[4], b[5]), (b[6], b[7])]
        # WildReceipt boxes come in different point orders: rebuild top-left clockwise.
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        quad = ((min(xs), min(ys)), (max(xs), min(ys)), (max(xs), max(ys)), (min(xs), max(ys)))
        if a["text"].strip():
            lines.append(OcrLine(a["text"], 1.0, quad))
    return lines


# --- runs ---------------------------------------------------------------------------------


def _response(lines: list[OcrLine], width: int, height: int) -> dict[str, Any]:
    page = parse_page(lines, width, height)
    return {"DocumentMetadata": {"Pages": 1}, "ExpenseDocuments": [{"ExpenseIndex": 1, **page}]}


def _extent(lines: list[OcrLine]) -> tuple[int, int]:
    return (
        int(max((ln.right for ln in lines), default=1)) + 1,
        int(max((ln.bottom for ln in lines), default=1)) + 1,
    )


def eval_sroie(data: Path, ids: Iterable[str], engine: str | None) -> Run:
    run = Run()
    root = data / "sroie-train"
    for sid in ids:
        truth = json.loads((root / "entities" / f"{sid}.json").read_text())
        if engine is None:
            lines = sroie_box_lines(root / "box" / f"{sid}.csv")
            response = _response(lines, *_extent(lines))
        else:
            response, seconds = _ocr(root / "img" / f"{sid}.jpg", engine)
            if seconds is not None:
                run.seconds.append(seconds)
        pred = sroie_prediction(response)
        for name in SROIE_FIELDS:
            ok = sroie_match(name, pred[name], truth.get(name, ""))
            run.score(name).add(int(ok), int(bool(pred[name])), int(bool(truth.get(name))))
            if not ok:
                run.misses.append(f"{sid} {name}: got {pred[name]!r} want {truth.get(name)!r}")
    return run


def eval_wild(data: Path, limit: int | None, engine: str | None) -> Run:
    run = Run()
    for n, receipt in enumerate(wild_receipts(data)):
        if limit is not None and n >= limit:
            break
        image = data / "wildreceipt-dev" / receipt["file_name"]
        truth = wild_truth(receipt)
        if engine is None:
            response = _response(wild_box_lines(receipt), receipt["width"], receipt["height"])
        else:
            if not image.exists():
                continue
            response, seconds = _ocr(image, engine)
            if seconds is not None:
                run.seconds.append(seconds)
        pred = line_items(response)
        exact = match_items(pred, truth, None)
        fuzzy = match_items(pred, truth, 0.8)
        run.score("items (exact desc)").add(exact, len(pred), len(truth))
        run.score("items (desc ≥0.8 similar)").add(fuzzy, len(pred), len(truth))
        # Every 5th receipt (n % 5 == 4) is held out from rule tuning: it tells whether a
        # rule generalizes. Both slices are printed.
        part = "held-out, every 5th" if n % 5 == 4 else "tuning slice"
        run.score(f"  ≥0.8, {part}").add(fuzzy, len(pred), len(truth))
        if fuzzy < max(len(pred), len(truth)):
            run.misses.append(f"{receipt['file_name']}: got {pred} want {truth}")
    return run


class _CachedEngine:
    """Stores OCR lines per image so parser changes can be re-scored end to end without
    re-running OCR (``--cache DIR``); seconds are only measured on a miss."""

    def __init__(self, engine: OcrEngine, directory: Path, key: str) -> None:
        self.name = engine.name
        self.engine = engine
        self.directory = directory
        self.key = key
        self.hit = False

    def read(self, image: Any) -> list[OcrLine]:
        path = self.directory / f"{self.engine.name}-{self.key}.json"
        if path.exists():
            self.hit = True
            # Cached lines may predate the engine's own text fixes: apply them again.
            return [
                OcrLine(_fix_case_slips(t), c, tuple(tuple(p) for p in b))  # type: ignore[arg-type]
                for t, c, b in json.loads(path.read_text())
            ]
        lines = self.engine.read(image)
        path.write_text(json.dumps([[ln.text, ln.confidence, ln.box] for ln in lines]))
        return lines


CACHE: Path | None = None
# CPU seconds per image (all threads), beside wall seconds: on a shared machine the wall
# clock measures the neighbours too; CPU seconds / threads is what an idle machine would take.
CPU_SECONDS: list[float] = []


def _cpu() -> float:
    # Children too: tesseract runs as a subprocess.
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _ocr(path: Path, engine: str) -> tuple[dict[str, Any], float | None]:
    ocr: OcrEngine = get_engine(engine)
    pages = load_pages(path.read_bytes(), "")
    cached = None
    if CACHE is not None:
        CACHE.mkdir(parents=True, exist_ok=True)
        ocr = cached = _CachedEngine(ocr, CACHE, re.sub(r"\W", "_", "_".join(path.parts[-3:])))
    start, cpu = time.perf_counter(), _cpu()
    response = analyze_pages(pages, ocr)
    seconds = time.perf_counter() - start
    if cached is not None and cached.hit:
        return response, None
    CPU_SECONDS.append(_cpu() - cpu)
    return response, seconds


def _warm(engine: str, data: Path) -> None:
    # Model load is once per process; keep it out of the per-image time.
    sample = next((data / "sroie-train" / "img").glob("*.jpg"), None)
    if sample is not None:
        _ocr(sample, engine)


def report(title: str, run: Run) -> None:
    print(f"\n{title}")
    print(f"  {'field':<28}{'P':>7}{'R':>7}{'F1':>7}{'n':>6}")
    for name, s in run.scores.items():
        print(f"  {name:<28}{s.precision:>7.3f}{s.recall:>7.3f}{s.f1:>7.3f}{s.truth:>6}")
    if run.seconds:
        mean = sum(run.seconds) / len(run.seconds)
        ordered = sorted(run.seconds)
        p90 = ordered[int(0.9 * (len(ordered) - 1))]
        print(f"  seconds/image (wall): mean {mean:.2f}, p90 {p90:.2f}, n {len(run.seconds)}")
        cpu = CPU_SECONDS[-len(run.seconds) :]
        print(
            f"  CPU seconds/image (all threads): mean {sum(cpu) / len(cpu):.2f}; "
            f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None, help="at most N receipts per set")
    parser.add_argument("--mode", choices=("text", "e2e", "all"), default="all")
    parser.add_argument("--engine", default="rapidocr", help="rapidocr or tesseract")
    parser.add_argument("--sets", default="sroie,wild", help="comma-separated: sroie,wild")
    parser.add_argument("--misses", type=Path, default=None, help="write wrong answers here")
    parser.add_argument("--cache", type=Path, default=None, help="keep OCR lines here (re-score without OCR)")
    args = parser.parse_args(argv)
    global CACHE
    CACHE = args.cache
    sets = set(args.sets.split(","))
    misses: list[str] = []

    def cap(ids: list[str]) -> list[str]:
        return ids[: args.limit] if args.limit is not None else ids

    if args.mode in ("text", "all"):
        if "sroie" in sets:
            run = eval_sroie(args.data, cap(sroie_ids(args.data, False)), None)
            report("sroie-train, text-only from box/ (parser on the dataset's OCR)", run)
            misses += run.misses
        if "wild" in sets:
            run = eval_wild(args.data, args.limit, None)
            report("wildreceipt-dev, text-only from annotated boxes", run)
            misses += run.misses
    if args.mode in ("e2e", "all"):
        _warm(args.engine, args.data)
        if "sroie" in sets:
            run = eval_sroie(args.data, cap(sroie_ids(args.data, True)), args.engine)
            report(f"sroie-train, end to end from img/ ({args.engine})", run)
            misses += run.misses
        if "wild" in sets:
            run = eval_wild(args.data, args.limit, args.engine)
            report(f"wildreceipt-dev, end to end from images ({args.engine})", run)
            misses += run.misses
    if args.misses:
        args.misses.write_text("\n".join(misses) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
