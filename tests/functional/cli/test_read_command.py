"""`receiptlake read`: real files through validation, local OCR and the ingest normalizer."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from receiptlake.cli import main
from receiptlake.local.samples import generate, render

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "reader"


def test_one_line_per_file_in_order_with_failures_in_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a real scan, a text file posing as a photo, a rendered receipt and a missing file
    sample = next(s for s in generate(seed=7) if s.currency == "EUR")
    rendered = tmp_path / "rendered.png"
    rendered.write_bytes(render(sample))
    fake = tmp_path / "notes.jpg"
    fake.write_text("not a photo")
    files = [FIXTURES / "sroie_X51009453801.jpg", fake, rendered, tmp_path / "missing.pdf"]

    # When read
    code = main(["read", "--today", "2026-11-25", *map(str, files)])

    # Then every file has its line, in input order, naming its source
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["source"] for line in lines] == [str(f) for f in files]
    scan, text, ours, missing = lines
    assert Decimal(scan["total"]) == Decimal("102.00") and scan["currency"] == "MYR"
    assert scan["purchase_date"] == "2018-03-20" and scan["ocr_engine"] == "local"
    assert text["status"] == "FAILED" and "text, not a receipt image" in text["failure_reason"]
    assert Decimal(ours["total"]) == sample.total and ours["currency"] == sample.currency
    assert ours["purchase_date"] == sample.purchase_date.isoformat()
    assert missing["status"] == "FAILED" and "cannot open" in missing["failure_reason"]
    assert code == 1
