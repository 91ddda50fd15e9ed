from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambda_src.common.model import Receipt
from receiptlake.cli import main

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "textract"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict]]:
    code = main(["normalize", "--today", "2025-06-01", *args])
    lines = capsys.readouterr().out.splitlines()
    return code, [json.loads(line) for line in lines]


def test_one_line_per_file_in_input_order(capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(FIXTURES / "amazon_invoice.json"), str(FIXTURES / "mega_market_receipt.json")]
    code, lines = run(capsys, *files)
    assert code == 0
    assert [line["source"] for line in lines] == files
    assert [line["vendor"]["name"] for line in lines] == ["Amazon.com", "MEGA MARKET PLUS"]
    assert lines[1]["total"] == "1810.46"  # money as a decimal string
    receipt = Receipt.model_validate({k: v for k, v in lines[1].items() if k != "source"})
    assert receipt.line_items[0].category == "shopping"


def test_a_bad_file_gets_a_failed_line_and_exit_code_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    other = tmp_path / "other.json"
    other.write_text('{"Blocks": []}')
    missing = tmp_path / "missing.json"
    good = str(FIXTURES / "clinic_receipt.json")
    code, lines = run(capsys, str(broken), good, str(other), str(missing))
    assert code == 1
    assert [line["status"] for line in lines] == ["FAILED", "PROCESSED", "FAILED", "FAILED"]
    assert "cannot read" in lines[0]["failure_reason"]
    assert "not an AnalyzeExpense response" in lines[2]["failure_reason"]
    assert "No such file" in lines[3]["failure_reason"]
    assert len({line["receipt_id"] for line in lines}) == 4


def test_needs_review_is_not_a_failure(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = run(capsys, str(FIXTURES / "no_summary_fields.json"))
    assert code == 0
    assert lines[0]["status"] == "NEEDS_REVIEW" and len(lines[0]["line_items"]) == 29
