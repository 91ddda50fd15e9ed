"""receiptlake.lake: errors a data scientist can act on."""

from __future__ import annotations

from pathlib import Path

import pytest

from receiptlake import lake


def test_unknown_table_and_column_list_the_choices(tmp_path: Path) -> None:
    with pytest.raises(lake.LakeError, match="receipts, line_items, corrections"):
        lake.read("receipt", lake_dir=tmp_path)
    with pytest.raises(lake.LakeError, match="has no column totl"):
        lake.read("receipts", lake_dir=tmp_path, columns=["totl"])


def test_no_local_lake_says_to_run_the_etl(tmp_path: Path) -> None:
    with pytest.raises(lake.LakeError, match="receiptlake local etl"):
        lake.read("receipts", lake_dir=tmp_path)


def test_an_empty_table_has_the_contract_columns(tmp_path: Path) -> None:
    (tmp_path / "etl").mkdir()
    (tmp_path / "etl" / "state.json").write_text("{}")
    frame = lake.read("corrections", lake_dir=tmp_path)
    assert frame.empty
    assert list(frame.columns) == [
        "receipt_id",
        "user_id",
        "field",
        "old_value",
        "new_value",
        "corrected_at",
        "year",
        "month",
    ]


def test_athena_is_for_deployed_environments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(lake.ENV_VARIABLE, raising=False)
    with pytest.raises(lake.LakeError, match="env='dev'"):
        lake.sql("SELECT 1")
    with pytest.raises(lake.LakeError, match="filters apply to the local lake"):
        lake.read("receipts", env="dev", filters=[("year", "=", 2026)])
    assert lake.workgroup("prod") == "receiptlake-prod-analysts"
