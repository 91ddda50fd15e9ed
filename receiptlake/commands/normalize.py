"""`receiptlake normalize FILE.json...`: saved AnalyzeExpense responses → receipts.

One JSON line per input file, in input order, each naming its file in ``source``. A file
that cannot be read still gets its line (status FAILED, failure_reason says why) and makes
the exit code 1.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from datetime import date
from pathlib import Path
from typing import Any

from lambda_src.common.model import Receipt, Status
from lambda_src.ingest.categorize import KeywordCategorizer, categorize
from lambda_src.ingest.normalize import normalize_expense


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


def _receipt_id(path: Path, position: int) -> str:
    # Stable per file and position, and valid for the model's id pattern.
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", path.stem)[:40].strip("-") or "receipt"
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:8]
    return f"{stem}-{position}-{digest}"


def normalize_file(
    path: Path, *, position: int, user_id: str, ocr_engine: str, today: date | None
) -> Receipt:
    base = Receipt(receipt_id=_receipt_id(path, position), user_id=user_id, object_key=str(path))
    try:
        response = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return _failed(base, f"cannot read {path}: {exc}")
    if not isinstance(response, dict) or not isinstance(response.get("ExpenseDocuments"), list):
        return _failed(base, f"{path} is not an AnalyzeExpense response (no ExpenseDocuments list)")
    try:
        receipt = normalize_expense(response, base=base, ocr_engine=ocr_engine, today=today or date.today())
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return _failed(base, f"{path} could not be normalized: {exc}")
    return categorize(receipt, KeywordCategorizer())


def _failed(base: Receipt, reason: str) -> Receipt:
    return base.model_copy(update={"status": Status.FAILED, "failure_reason": reason})


def run(args: argparse.Namespace) -> int:
    failed = False
    for position, path in enumerate(args.files):
        receipt = normalize_file(
            path, position=position, user_id=args.user_id, ocr_engine=args.ocr_engine, today=args.today
        )
        failed = failed or receipt.status is Status.FAILED
        line = {"source": str(path), **json.loads(receipt.model_dump_json())}
        sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return 1 if failed else 0
