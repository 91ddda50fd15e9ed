"""One ETL run, the same in Glue and on local Spark: an export in, the lake's tables out.

    export (manifest + data files) ─► items ─► snapshot (merged with the previous one)
        ─► receipts / line_items / corrections ─► checks ─► curated/ + report + metrics

Nothing is silently dropped: unusable lines and items go to ``quarantine/etl/run=…/`` with
their reason, odd-but-usable rows are flagged, and the report counts both. The curated
tables are only replaced when every quality check passed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from glue_scripts import lake_schema as lake
from glue_scripts import quality
from glue_scripts.export_manifest import ExportError, ExportManifest, read_manifest
from glue_scripts.items import export_lines, merge_snapshot
from glue_scripts.metrics import Metric, MetricsPublisher
from glue_scripts.store import LakeStore
from glue_scripts.transforms import (
    drop_erased,
    latest_versions,
    line_items_of,
    parse_corrections,
    parse_receipts,
    to_contract,
)

MISSING_DATA_FILE = "missing_data_file"
PARTIAL_DATA_FILE = "partial_data_file"
MANIFEST_LINE = "unreadable_manifest_line"
SNAPSHOT_SCHEMA = "pk string, sk string, write_ts bigint, image string"


def spark_settings() -> dict[str, str]:
    """Settings the transforms rely on, in Glue and locally alike."""
    return {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.ansi.enabled": "false",  # an unreadable date or amount becomes null, counted
        # A truncated gzip keeps the lines read before the damage; the manifest's counts
        # tell how many were lost, and the run goes on with the rest.
        "spark.sql.files.ignoreCorruptFiles": "true",
        "spark.sql.files.ignoreMissingFiles": "true",
        "spark.sql.sources.partitionOverwriteMode": "static",
        "spark.sql.parquet.compression.codec": "snappy",
    }


@dataclass
class EtlReport:
    run_id: str
    export: dict[str, Any]
    started_at: str
    duration_seconds: float = 0.0
    succeeded: bool = False
    source: dict[str, int] = field(default_factory=dict)
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)
    flagged: dict[str, int] = field(default_factory=dict)
    superseded: int = 0
    erased: dict[str, int] = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    snapshot: str = ""

    def as_json(self) -> str:
        return json.dumps(self.__dict__, indent=1, sort_keys=True)

    def metrics(self) -> list[Metric]:
        out = [
            Metric(lake.METRIC_JOB_SUCCEEDED, 1.0 if self.succeeded else 0.0),
            Metric(lake.METRIC_DURATION, self.duration_seconds, "Seconds"),
        ]
        out += [
            Metric(lake.METRIC_ROWS_WRITTEN, float(t["rows"]), dimensions={"Table": name})
            for name, t in self.tables.items()
        ]
        out += [
            Metric(lake.METRIC_QUARANTINED, float(n), dimensions={"Reason": reason})
            for reason, n in self.quarantined.items()
        ]
        out += [
            Metric(lake.METRIC_FLAGGED, float(n), dimensions={"Reason": reason})
            for reason, n in self.flagged.items()
        ]
        failed = [c for c in self.checks if not c["passed"]]
        out.append(Metric(lake.METRIC_QUALITY_VIOLATIONS, float(len(failed))))
        out += [Metric(lake.METRIC_QUALITY_VIOLATIONS, 1.0, dimensions={"Check": c["name"]}) for c in failed]
        return out


def new_run_id(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")


def _add(counts: dict[str, int], key: str, n: int) -> None:
    if n:
        counts[key] = counts.get(key, 0) + n


def _read_lines(
    spark: SparkSession, store: LakeStore, manifest: ExportManifest
) -> tuple[DataFrame, list[str]]:
    folders = {f.key.rsplit("/", 1)[0] + "/" for f in manifest.files}
    present = {k for folder in folders for k in store.list_keys(folder)}
    uris = [store.uri(f.key) for f in manifest.files if f.key in present]
    if not uris:
        empty = spark.createDataFrame([], "value string, source_file string")
        return empty, []
    lines = spark.read.text(uris).withColumn("source_file", F.input_file_name())
    return lines, uris


def _file_shortfalls(
    store: LakeStore, manifest: ExportManifest, counts: dict[str, int], report: EtlReport
) -> bool:
    """Compare each data file's lines with its manifest count; True when anything is missing."""
    partial = bool(manifest.problems)
    for problem in manifest.problems:
        report.problems.append(problem)
        _add(report.quarantined, MANIFEST_LINE, 1)
    for data_file in manifest.files:
        uri = store.uri(data_file.key)
        read = next((n for path, n in counts.items() if path.endswith(data_file.key)), None)
        if read is None and data_file.item_count:
            report.problems.append(f"{uri}: missing ({data_file.item_count} items)")
            _add(report.quarantined, MISSING_DATA_FILE, data_file.item_count)
            partial = True
        elif read is not None and read < data_file.item_count:
            report.problems.append(f"{uri}: {read} of {data_file.item_count} lines readable")
            _add(report.quarantined, PARTIAL_DATA_FILE, data_file.item_count - read)
            partial = True
    return partial


def _count_by(frame: DataFrame, column: str) -> dict[str, int]:
    return {str(row[0]): int(row[1]) for row in frame.groupBy(column).count().collect()}


def _files_under(spark: SparkSession, uri: str) -> int:
    jvm: Any = spark.sparkContext._jvm
    conf: Any = spark.sparkContext._jsc
    path = jvm.org.apache.hadoop.fs.Path(uri)
    fs = path.getFileSystem(conf.hadoopConfiguration())
    if not fs.exists(path):
        return 0
    files, found = fs.listFiles(path, True), 0
    while files.hasNext():
        if files.next().getPath().getName().endswith(".parquet"):
            found += 1
    return found


def _write_quarantine(store: LakeStore, run_id: str, frames: Iterable[DataFrame]) -> None:
    rows = None
    for frame in frames:
        rows = frame if rows is None else rows.unionByName(frame)
    if rows is not None:
        rows.coalesce(1).write.mode("overwrite").json(store.uri(f"{lake.QUARANTINE_PREFIX}run={run_id}/"))


def run_etl(
    spark: SparkSession,
    store: LakeStore,
    summary_key: str,
    *,
    erased_users: Iterable[str],
    publisher: MetricsPublisher,
    run_id: str | None = None,
) -> EtlReport:
    """Turn one export into the lake; returns the report (also written to ``etl/runs/``).

    Raises ``quality.QualityError`` after writing the report and metrics when a check fails
    (the curated tables are then left as they were), and ``ExportError`` when the export
    cannot be used at all."""
    started = time.monotonic()
    run_id = run_id or new_run_id()
    manifest = read_manifest(store, summary_key)
    state = json.loads(store.read_text(lake.STATE_KEY) or "{}")
    previous_key = state.get("snapshot")
    if manifest.incremental and not previous_key:
        raise ExportError(
            f"export {manifest.export_id} is incremental but the lake has no snapshot to merge it "
            "into: run the job with export_mode=full once"
        )
    report = EtlReport(
        run_id=run_id,
        started_at=datetime.now(UTC).isoformat(),
        export={
            "id": manifest.export_id,
            "kind": manifest.kind,
            "time": manifest.export_time.isoformat(),
            "items": manifest.item_count,
        },
    )
    erased_list = sorted(set(erased_users))
    erased = spark.createDataFrame([(u,) for u in erased_list], "user_id string")

    lines, _ = _read_lines(spark, store, manifest)
    changes = export_lines(lines, manifest.time_micros).persist(StorageLevel.MEMORY_AND_DISK)
    per_file = _count_by(changes, "source_file") if manifest.files else {}
    partial = _file_shortfalls(store, manifest, per_file, report)
    report.export["lines_read"] = sum(per_file.values())
    report.export["partial"] = partial
    bad_lines = changes.where(F.col("error").isNotNull())
    _add(report.quarantined, "malformed_line", bad_lines.count())
    good_lines = changes.where(F.col("error").isNull())
    # The same key twice in one export (a retried write, an overlapping incremental): the
    # latest image is kept; how many lines that collapsed is reported.
    report.export["duplicate_lines"] = good_lines.count() - good_lines.select("pk", "sk").distinct().count()

    previous = spark.read.schema(SNAPSHOT_SCHEMA).parquet(store.uri(previous_key)) if previous_key else None
    snapshot = merge_snapshot(previous, changes, keep_unlisted=manifest.incremental or partial).persist(
        StorageLevel.MEMORY_AND_DISK
    )
    report.source["items"] = snapshot.count()

    parsed = parse_receipts(snapshot).persist(StorageLevel.MEMORY_AND_DISK)
    report.source["receipts"] = parsed.count()
    for reason, n in _count_by(parsed.where(F.col("_problem").isNotNull()), "_problem").items():
        _add(report.quarantined, reason, n)
    usable = parsed.where(F.col("_problem").isNull())
    latest = latest_versions(usable)
    kept = drop_erased(latest, erased).persist(StorageLevel.MEMORY_AND_DISK)
    usable_n, latest_n, kept_n = usable.count(), latest.count(), kept.count()
    report.superseded = usable_n - latest_n
    report.erased = {"users": len(erased_list), "receipts": latest_n - kept_n}
    flags = kept.select(F.explode("quality_flags").alias("flag"))
    report.flagged = _count_by(flags, "flag")

    corrections_all = parse_corrections(snapshot)
    corrections_ok = corrections_all.where(F.col("_problem").isNull())
    for reason, n in _count_by(corrections_all.where(F.col("_problem").isNotNull()), "_problem").items():
        _add(report.quarantined, f"correction_{reason}", n)
    report.source["corrections"] = corrections_all.count()

    tables = {
        lake.RECEIPTS.name: to_contract(kept, lake.RECEIPTS),
        lake.LINE_ITEMS.name: to_contract(line_items_of(kept), lake.LINE_ITEMS),
        lake.CORRECTIONS.name: to_contract(drop_erased(corrections_ok, erased), lake.CORRECTIONS),
    }
    tables = {name: frame.persist(StorageLevel.MEMORY_AND_DISK) for name, frame in tables.items()}
    rows = {name: frame.count() for name, frame in tables.items()}
    quarantined_receipts = report.source["receipts"] - usable_n

    checks = [
        quality.receipts_reconcile(
            report.source["receipts"],
            rows["receipts"],
            quarantined_receipts,
            report.superseded,
            report.erased["receipts"],
        ),
        quality.line_items_reconcile(tables["receipts"], rows["line_items"]),
        quality.refunds_only_negative(tables["receipts"]),
        quality.unique_receipts(tables["receipts"], rows["receipts"]),
        quality.no_erased_users(tables, erased),
        *(quality.schema_check(lake.TABLES_BY_NAME[n], f) for n, f in tables.items()),
        *(quality.keys_present(lake.TABLES_BY_NAME[n], f) for n, f in tables.items() if n != "corrections"),
    ]
    report.checks = [c.as_dict() for c in checks]
    failed = quality.failures(checks)

    _write_quarantine(
        store,
        run_id,
        [
            bad_lines.select(F.col("error").alias("reason"), F.col("value").alias("record"), "source_file"),
            parsed.where(F.col("_problem").isNotNull()).select(
                F.col("_problem").alias("reason"),
                F.col("_image").alias("record"),
                F.lit(None).alias("source_file"),
            ),
            corrections_all.where(F.col("_problem").isNotNull()).select(
                F.concat(F.lit("correction_"), F.col("_problem")).alias("reason"),
                F.col("_image").alias("record"),
                F.lit(None).alias("source_file"),
            ),
        ],
    )
    if not failed:
        for name, frame in tables.items():
            target = store.uri(lake.TABLES_BY_NAME[name].prefix)
            frame.repartition("year", "month").write.mode("overwrite").partitionBy("year", "month").parquet(
                target
            )
            report.tables[name] = {"rows": rows[name], "files": _files_under(spark, target), "path": target}
        snapshot_key = f"{lake.STAGING_ITEMS_PREFIX}run={run_id}/"
        snapshot.write.mode("overwrite").parquet(store.uri(snapshot_key))
        report.snapshot = snapshot_key
        state = {
            "snapshot": snapshot_key,
            "export_id": manifest.export_id,
            "export_kind": manifest.kind,
            "export_time": manifest.export_time.isoformat(),
            "run_id": run_id,
        }
        store.write_text(lake.STATE_KEY, json.dumps(state, indent=1))
    report.succeeded = not failed
    report.duration_seconds = round(time.monotonic() - started, 3)
    store.write_text(f"{lake.RUNS_PREFIX}{run_id}.json", report.as_json())
    publisher.publish(report.metrics())
    for frame in (changes, snapshot, parsed, kept, *tables.values()):
        frame.unpersist()
    if failed:
        raise quality.QualityError(
            "lake not updated, quality checks failed: " + "; ".join(f"{c.name}: {c.detail}" for c in failed)
        )
    return report


def tombstoned_users(store: LakeStore) -> list[str]:
    """Users erased by DELETE /api/me: ``tombstones/{user id}.json``."""
    names = (k[len(lake.TOMBSTONES_PREFIX) :] for k in store.list_keys(lake.TOMBSTONES_PREFIX))
    return sorted(n[: -len(".json")] for n in names if n.endswith(".json") and "/" not in n)
