"""The lake from a notebook, in one line::

    from receiptlake import lake
    receipts = lake.read("receipts")                 # local mode: .local/lake/
    items = lake.read("line_items", env="staging")   # a deployed environment, through Athena

Tables and columns are glue_scripts/lake_schema.py's. Money comes back as exact
``decimal.Decimal`` (``df.total.astype(float)`` when a plot wants floats), dates as
``datetime.date``; ``year`` and ``month`` are the partitions. Amounts are in each row's
``currency``: group by it before summing.

Where to read is chosen by ``env`` (or ``$RECEIPTLAKE_LAKE_ENV``): unset or ``local`` reads
the local Parquet files; any other name reads that environment's Glue database through its
Athena workgroup with awswrangler (AWS credentials from the usual places).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glue_scripts import lake_schema as schema

if TYPE_CHECKING:
    import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_LAKE_DIR = REPO_ROOT / ".local" / "lake"
ENV_VARIABLE = "RECEIPTLAKE_LAKE_ENV"
LOCAL = "local"


class LakeError(LookupError):
    """The table or the lake is not there; the message says what to run."""


def _environment(env: str | None) -> str:
    return env or os.environ.get(ENV_VARIABLE) or LOCAL


def _table(name: str) -> schema.Table:
    try:
        return schema.TABLES_BY_NAME[name]
    except KeyError:
        raise LakeError(f"no lake table {name!r}: choose one of {', '.join(schema.TABLES_BY_NAME)}") from None


def workgroup(env: str) -> str:
    return f"receiptlake-{env}-analysts"


def read(
    table: str,
    *,
    env: str | None = None,
    lake_dir: Path | None = None,
    columns: list[str] | None = None,
    filters: list[tuple[str, str, Any]] | None = None,
) -> pd.DataFrame:
    """One lake table as a pandas DataFrame (``filters`` in pyarrow's form, e.g.
    ``[("year", "=", 2026)]``; they prune partitions)."""
    spec = _table(table)
    known = {*spec.column_names, *(name for name, _ in schema.PARTITION_KEYS)}
    unknown = sorted(set(columns or []) - known)
    if unknown:
        raise LakeError(f"{spec.name} has no column {', '.join(unknown)}: it has {', '.join(sorted(known))}")
    where = _environment(env)
    if where == LOCAL:
        return _read_local(spec, lake_dir or DEFAULT_LAKE_DIR, columns, filters)
    if filters:
        raise LakeError("filters apply to the local lake; use lake.sql() with a WHERE clause for Athena")
    cols = ", ".join(f'"{c}"' for c in columns) if columns else "*"
    # Only contract names reach the query (checked above), never free text.
    return sql(f'SELECT {cols} FROM "{spec.name}"', env=where)  # noqa: S608


def sql(query: str, *, env: str | None = None) -> pd.DataFrame:
    """An Athena query against an environment's lake (its database is the default)."""
    where = _environment(env)
    if where == LOCAL:
        raise LakeError(
            "lake.sql() queries a deployed environment through Athena; pass env='dev' (or similar)"
        )
    import awswrangler as wr

    frame: pd.DataFrame = wr.athena.read_sql_query(
        query, database=schema.database_name(where), workgroup=workgroup(where), ctas_approach=False
    )
    return frame


def _read_local(
    spec: schema.Table,
    lake_dir: Path,
    columns: list[str] | None,
    filters: list[tuple[str, str, Any]] | None,
) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.dataset as ds

    partitioning = ds.partitioning(
        pa.schema([pa.field(name, pa.int32()) for name, _ in schema.PARTITION_KEYS]), flavor="hive"
    )
    folder = lake_dir / spec.prefix
    files = sorted(folder.rglob("*.parquet")) if folder.is_dir() else []
    if not files:
        if not (lake_dir / schema.STATE_KEY).exists():
            raise LakeError(f"no lake at {lake_dir}: run `receiptlake local etl` first")
        wanted = columns or [*spec.column_names, *(name for name, _ in schema.PARTITION_KEYS)]
        import pandas as pd

        return pd.DataFrame(columns=wanted)
    dataset = ds.dataset(
        [str(f) for f in files], format="parquet", partitioning=partitioning, partition_base_dir=str(folder)
    )
    expression = None
    for column, op, value in filters or []:
        term = _compare(ds.field(column), op, value)
        expression = term if expression is None else expression & term
    frame: pd.DataFrame = dataset.to_table(columns=columns, filter=expression).to_pandas()
    return frame


def _compare(field: Any, op: str, value: Any) -> Any:
    operations = {
        "=": field.__eq__,
        "==": field.__eq__,
        "!=": field.__ne__,
        "<": field.__lt__,
        "<=": field.__le__,
        ">": field.__gt__,
        ">=": field.__ge__,
        "in": field.isin,
    }
    if op not in operations:
        raise LakeError(f"unsupported filter operator {op!r}: use one of {', '.join(operations)}")
    return operations[op](value)
