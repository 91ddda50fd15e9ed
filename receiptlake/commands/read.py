"""`receiptlake read FILE...`: read receipt photos and PDFs offline, one JSON line each.

Each file goes the way an upload goes: validated by its content, read by the local OCR
into an AnalyzeExpense-shaped response, normalized and checked by the ingest layer's
code. Output: one receipt (the receipt model as JSON) per input file, in input order,
with ``source`` naming the file; a file that cannot be read still gets its line, with
status FAILED and the reason. Exit code 1 if any file failed.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from lambda_src.common.model import Receipt
from receiptlake.receipt_lines import failed, print_receipt_lines, receipt_id_for


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "read",
        help="read receipt photos and PDFs with the local OCR; one receipt JSON line per file",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--engine", choices=("rapidocr", "tesseract"), default="rapidocr")
    parser.add_argument("--today", type=date.fromisoformat, default=None, help="latest plausible date")
    parser.add_argument("--user-id", default="local", help="user id to put on the receipts")
    parser.set_defaults(func=run)


def read_one(path: Path, *, position: int, engine: str, user_id: str, today: date | None) -> Receipt:
    from lambda_src.ingest.categorize import KeywordCategorizer, categorize
    from lambda_src.ingest.normalize import normalize_expense
    from lambda_src.ingest.validation import Rejected, validate
    from receiptlake.reader.reader import read_bytes

    base = Receipt(receipt_id=receipt_id_for(path, position), user_id=user_id, object_key=str(path))
    try:
        data = path.read_bytes()
    except OSError as exc:
        return failed(base, f"cannot open {path}: {exc.strerror or exc}")
    try:
        document = validate(data)
    except Rejected as exc:
        return failed(base, exc.reason)
    base = base.model_copy(update={"content_type": document.content_type, "size_bytes": len(data)})
    response = read_bytes(data, document.content_type, engine=engine)
    receipt = normalize_expense(response, base=base, ocr_engine="local", today=today or date.today())
    return categorize(receipt, KeywordCategorizer())


def run(args: argparse.Namespace) -> int:
    return print_receipt_lines(
        args.files,
        lambda path, position: read_one(
            path, position=position, engine=args.engine, user_id=args.user_id, today=args.today
        ),
    )
