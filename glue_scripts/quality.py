"""The lake's data-quality checks: run on the tables before they replace the previous ones.

A failed check means the job itself is wrong (rows lost or invented, a refund rule broken,
the schema drifted), not that a user uploaded something odd: odd input is quarantined or
flagged and counted by the transforms. So a failed check stops the run before it writes
the curated tables, and is emitted as a metric the monitoring layer alarms on.

The checks are pure functions of counts the pipeline gathers in a few Spark aggregations
(one pass per table), so they are cheap to run and to test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from pyspark.sql import types as T

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


def _plain(schema: T.StructType) -> list[tuple[str, str]]:
    return [(f.name, f.dataType.simpleString()) for f in schema.fields]


def schema_check(table: lake.Table, schema: T.StructType) -> Check:
    expected, actual = _plain(contract_schema(table)), _plain(schema)
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


def line_items_reconcile(listed: int, written: int) -> Check:
    return Check(
        "line_items_reconcile", listed == written, f"receipts list {listed} line items, {written} written"
    )


def refunds_only_negative(unflagged_negative: int, refunds_not_negative: int) -> Check:
    return Check(
        "negative_totals_are_refunds",
        unflagged_negative == 0 and refunds_not_negative == 0,
        f"{unflagged_negative} negative totals not flagged as refunds, "
        f"{refunds_not_negative} refunds without a negative total",
    )


def keys_present(table: str, missing: int) -> Check:
    return Check(f"keys_{table}", missing == 0, f"{missing} rows without receipt_id, user_id, year or month")


def unique_receipts(rows: int, distinct: int) -> Check:
    return Check("unique_receipts", distinct == rows, f"{rows} rows, {distinct} distinct receipts")


def no_erased_users(leaked: Mapping[str, int]) -> Check:
    return Check(
        "erased_users_absent",
        not any(leaked.values()),
        ", ".join(f"{name}: {n}" for name, n in leaked.items()) or "no erased users",
    )


def failures(checks: list[Check]) -> list[Check]:
    return [c for c in checks if not c.passed]
