"""`receiptlake normalize FILE.json...`: saved AnalyzeExpense responses → receipts.

One JSON line per input file, in input order, each naming its file in ``source``. A file
that cannot be read still gets its line (status FAILED, failure_reason says why) and makes
the exit code 1.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path
from typing import Any

from lambda_src.common.model import Receipt
from lambda_src.ingest.categorize import KeywordCategorizer, categorize
from lambda_src.ingest.normalize import normalize_expense
from receiptlake.receipt_lines import failed, print_receipt_lines, receipt_id_for


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "normalize",
        help="read saved Textract AnalyzeExpense responses and print one receipt per file",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE.json")
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        default=None,
        help="the day purchase dates may not be after (default: today)",
    )
    parser.add_argument("--ocr-engine", choices=("textract", "local"), default="textract")
    parser.add_argument("--user-id", default="local", help="user id to put on the receipts")
    parser.set_defaults(func=run)


def normalize_file(
    path: Path, *, position: int, user_id: str, ocr_engine: str, today: date | None
) -> Receipt:
    base = Receipt(receipt_id=receipt_id_for(path, position), user_id=user_id, object_key=str(path))
    try:
        response = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return failed(base, f"cannot read {path}: {exc}")
    if not isinstance(response, dict) or not isinstance(response.get("ExpenseDocuments"), list):
        return failed(base, f"{path} is not an AnalyzeExpense response (no ExpenseDocuments list)")
    try:
        receipt = normalize_expense(response, base=base, ocr_engine=ocr_engine, today=today or date.today())
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return failed(base, f"{path} could not be normalized: {exc}")
    return categorize(receipt, KeywordCategorizer())


def run(args: argparse.Namespace) -> int:
    return print_receipt_lines(
        args.files,
        lambda path, position: normalize_file(
            path, position=position, user_id=args.user_id, ocr_engine=args.ocr_engine, today=args.today
        ),
    )
