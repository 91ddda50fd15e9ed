"""The lake's data-quality checks: run on the tables before they replace the previous ones.

A failed check means the job itself is wrong (rows lost or invented, a refund rule broken,
the schema drifted), not that a user uploaded something odd: odd input is quarantined or
flagged and counted by the transforms. So a failed check stops the run before it writes
the curated tables, and is emitted as a metric the monitoring layer alarms on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from glue_scripts import lake_schema as lake
from glue_scripts.transforms import contract_schema


class QualityError(RuntimeError):
    """One or more checks failed; the message names them."""


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _plain(schema: Any) -> list[tuple[str, str]]:
    return [(f.name, f.dataType.simpleString()) for f in schema.fields]


def schema_check(table: lake.Table, frame: DataFrame) -> Check:
    expected, actual = _plain(contract_schema(table)), _plain(frame.schema)
    drift = [f"{e} != {a}" for e, a in zip(expected, actual, strict=False) if e != a]
    if len(expected) != len(actual):
        drift.append(f"{len(actual)} columns, the contract has {len(expected)}")
    return Check(f"schema_{table.name}", not drift, "; ".join(drift) or "as the contract says")


def receipts_reconcile(source: int, written: int, quarantined: int, superseded: int, erased: int) -> Check:
    accounted = written + quarantined + superseded + erased
    return Check(
        "receipts_reconcile",
        source == accounted,
        f"source {source} = written {written} + quarantined {quarantined} + older versions "
        f"{superseded} + erased {erased}" + ("" if source == accounted else f" (accounted {accounted})"),
    )


def line_items_reconcile(receipts: DataFrame, written: int) -> Check:
    row = receipts.agg(F.coalesce(F.sum("line_item_count"), F.lit(0))).first()
    expected = row[0] if row is not None else 0
    return Check(
        "line_items_reconcile",
        int(expected) == written,
        f"receipts list {expected} line items, {written} written",
    )


def refunds_only_negative(receipts: DataFrame) -> Check:
    bad = receipts.where((F.col("total") < 0) & ~F.col("is_refund")).count()
    wrong_flag = receipts.where(F.col("is_refund") & ~(F.col("total") < 0)).count()
    return Check(
        "negative_totals_are_refunds",
        bad == 0 and wrong_flag == 0,
        f"{bad} negative totals not flagged as refunds, {wrong_flag} refunds without a negative total",
    )


def keys_present(table: lake.Table, frame: DataFrame) -> Check:
    keys = ["receipt_id", "user_id", "year", "month"]
    missing = frame.where(" OR ".join(f"{k} IS NULL" for k in keys)).count()
    return Check(f"keys_{table.name}", missing == 0, f"{missing} rows without {', '.join(keys)}")


def unique_receipts(receipts: DataFrame, rows: int) -> Check:
    distinct = receipts.select("user_id", "receipt_id").distinct().count()
    return Check("unique_receipts", distinct == rows, f"{rows} rows, {distinct} distinct receipts")


def no_erased_users(frames: dict[str, DataFrame], erased: DataFrame) -> Check:
    leaked = {
        name: frame.join(F.broadcast(erased.select("user_id")), "user_id", "left_semi").count()
        for name, frame in frames.items()
    }
    return Check(
        "erased_users_absent",
        not any(leaked.values()),
        ", ".join(f"{name}: {n}" for name, n in leaked.items()),
    )


def failures(checks: list[Check]) -> list[Check]:
    return [c for c in checks if not c.passed]
