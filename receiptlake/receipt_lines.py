"""The output of `receiptlake read` and `receiptlake normalize`: one receipt per input file."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from lambda_src.common.model import Receipt, Status


def receipt_id_for(path: Path, position: int) -> str:
    # Stable per file and position, and valid for the model's id pattern.
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", path.stem)[:40].strip("-") or "receipt"
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:8]
    return f"{stem}-{position}-{digest}"


def failed(base: Receipt, reason: str) -> Receipt:
    return base.model_copy(update={"status": Status.FAILED, "failure_reason": reason})


def print_receipt_lines(files: Sequence[Path], read: Callable[[Path, int], Receipt]) -> int:
    """One JSON line per file, in input order, with ``source``; exit code 1 if any FAILED."""
    any_failed = False
    for position, path in enumerate(files):
        receipt = read(path, position)
        any_failed = any_failed or receipt.status is Status.FAILED
        line = {"source": str(path), **json.loads(receipt.model_dump_json())}
        sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return 1 if any_failed else 0
