"""The quality checks are pure functions of counts: each fails when its numbers disagree."""

from __future__ import annotations

from pyspark.sql import types as T

from glue_scripts import lake_schema as lake
from glue_scripts import quality
from glue_scripts.transforms import contract_schema


def test_reconciliation_accounts_for_every_source_receipt() -> None:
    assert quality.receipts_reconcile(10, 6, 2, 1, 1).passed
    failed = quality.receipts_reconcile(10, 6, 2, 1, 0)
    assert not failed.passed and "accounted 9" in failed.detail


def test_line_items_refunds_keys_uniqueness_and_erasure() -> None:
    assert quality.line_items_reconcile(5, 5).passed and not quality.line_items_reconcile(5, 4).passed
    assert quality.refunds_only_negative(0, 0).passed
    assert not quality.refunds_only_negative(1, 0).passed and not quality.refunds_only_negative(0, 1).passed
    assert quality.keys_present("receipts", 0).passed and not quality.keys_present("receipts", 2).passed
    assert quality.unique_receipts(3, 3).passed and not quality.unique_receipts(3, 2).passed
    assert quality.no_erased_users({}).passed and quality.no_erased_users({"receipts": 0}).passed
    assert not quality.no_erased_users({"receipts": 0, "line_items": 1}).passed


def test_schema_drift_is_named() -> None:
    contract = contract_schema(lake.CORRECTIONS)
    assert quality.schema_check(lake.CORRECTIONS, contract).passed
    drifted = T.StructType([*contract.fields[:-1], T.StructField("month", T.StringType())])
    check = quality.schema_check(lake.CORRECTIONS, drifted)
    assert not check.passed and "month" in check.detail
    shorter = quality.schema_check(lake.CORRECTIONS, T.StructType(contract.fields[:-1]))
    assert not shorter.passed and "columns" in shorter.detail
    assert quality.failures([check, quality.line_items_reconcile(1, 1)]) == [check]


def test_every_contract_type_has_a_spark_type() -> None:
    from glue_scripts.transforms import spark_type

    for table in lake.TABLES:
        for column in table.columns:
            assert spark_type(column.type).simpleString() == column.type.replace(" ", ""), column
