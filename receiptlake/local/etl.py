"""`receiptlake local etl`: the ETL layer on this machine.

The table's items come from the running local mode (scanned through moto) or, when it is
not running, from the state it saved on shutdown. They are written out as a DynamoDB
export (receiptlake.local.export), and the Glue job's own pipeline turns that export
into Parquet under ``.local/lake/`` on local Spark.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glue_scripts import lake_schema as lake
from glue_scripts.metrics import RecordingPublisher
from glue_scripts.store import LocalStore
from receiptlake.local.export import write_export
from receiptlake.local.provision import LocalNames, client
from receiptlake.local.running import find_running

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from glue_scripts.pipeline import EtlReport

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_LAKE_DIR = REPO_ROOT / ".local" / "lake"


class NoLocalData(RuntimeError):
    """Nothing to export yet; the message says what to run first."""


@dataclass(frozen=True)
class TableSource:
    items: list[dict[str, Any]]
    erased_users: list[str]
    description: str


def _tombstone_users(keys: Iterator[str]) -> list[str]:
    users = []
    for key in keys:
        name = key[len(lake.TOMBSTONES_PREFIX) :] if key.startswith(lake.TOMBSTONES_PREFIX) else ""
        if name.endswith(".json") and "/" not in name:
            users.append(name[: -len(".json")])
    return sorted(users)


def read_table(state_dir: Path) -> TableSource:
    """The local table's items and erased users: live if local mode runs, else as saved."""
    running = find_running(state_dir)
    if running is not None:
        dynamodb = client("dynamodb", running.endpoint, running.region)
        items = [
            item
            for page in dynamodb.get_paginator("scan").paginate(TableName=running.table)
            for item in page["Items"]
        ]
        s3 = client("s3", running.endpoint, running.region)
        keys = (
            obj["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(
                Bucket=running.lake_bucket, Prefix=lake.TOMBSTONES_PREFIX
            )
            for obj in page.get("Contents", [])
        )
        return TableSource(items, _tombstone_users(keys), f"running local mode at {running.endpoint}")
    saved = state_dir / "dynamodb.jsonl"
    if not (state_dir / "state.json").exists():
        raise NoLocalData(
            f"no local data in {state_dir}: start local mode once (`make demo` or "
            "`receiptlake local up`), or add the samples with `receiptlake local seed`"
        )
    lines = saved.read_text().splitlines() if saved.exists() else []
    items = [json.loads(line) for line in lines if line.strip()]
    lake_objects = state_dir / "s3" / LocalNames().lake_bucket
    keys = (p.relative_to(lake_objects).as_posix() for p in lake_objects.rglob("*.json") if p.is_file())
    return TableSource(items, _tombstone_users(keys), f"saved local state in {state_dir}")


def prune_exports(lake_dir: Path, keep_export: str) -> None:
    """Earlier exports are of no further use locally (in AWS a lifecycle rule expires them)."""
    exports = lake_dir / lake.EXPORTS_PREFIX / "AWSDynamoDB"
    keep_id = keep_export.split("/")[-2]
    for folder in exports.iterdir() if exports.is_dir() else []:
        if folder.name != keep_id:
            shutil.rmtree(folder, ignore_errors=True)


def run_local_etl(
    state_dir: Path, lake_dir: Path = DEFAULT_LAKE_DIR, spark: SparkSession | None = None
) -> tuple[EtlReport, TableSource]:
    """Export the local table and run the Glue job's pipeline on it, into ``lake_dir``."""
    from glue_scripts.pipeline import run_etl
    from receiptlake.local.spark import local_spark

    source = read_table(state_dir)
    summary_key = write_export(lake_dir, source.items)
    report = run_etl(
        spark or local_spark(),
        LocalStore(lake_dir),
        summary_key,
        erased_users=source.erased_users,
        publisher=RecordingPublisher(),
    )
    prune_exports(lake_dir, summary_key)
    return report, source
