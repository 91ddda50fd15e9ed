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
from glue_scripts.items import MALFORMED_LINE, export_lines, merge_snapshot
from glue_scripts.metrics import Metric, MetricsPublisher
from glue_scripts.store import LakeStore
from glue_scripts.transforms import (
    FLAGS,
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


def _read_lines(spark: SparkSession, store: LakeStore, manifest: ExportManifest) -> DataFrame:
    """The lines of the data files that exist (a missing one is counted by _file_shortfalls)."""
    folders = {f.key.rsplit("/", 1)[0] + "/" for f in manifest.files}
    present = {k for folder in folders for k in store.list_keys(folder)}
    uris = [store.uri(f.key) for f in manifest.files if f.key in present]
    if not uris:
        return spark.createDataFrame([], "value string, source_file string")
    return spark.read.text(uris).withColumn("source_file", F.input_file_name())


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


def _count_by(frame: DataFrame, column: str) -> dict[str | None, int]:
    return {row[0]: int(row[1]) for row in frame.groupBy(column).count().collect()}


def _line_counts(changes: DataFrame) -> tuple[dict[str, int], int]:
    """Lines read per data file, and how many of all were unusable: one pass."""
    per_file: dict[str, int] = {}
    bad = 0
    grouped = changes.groupBy("source_file").agg(
        F.count(F.lit(1)).alias("lines"), F.count("error").alias("bad")
    )
    for row in grouped.collect():
        per_file[str(row["source_file"])] = int(row["lines"])
        bad += int(row["bad"])
    return per_file, bad


_KEYS_MISSING = " OR ".join(f"{k} IS NULL" for k in ("receipt_id", "user_id", "year", "month"))


def _receipt_stats(receipts: DataFrame) -> dict[str, int]:
    """Everything the checks and the report need of the receipts table: one pass."""
    total = F.col("total")
    flag_counts = [
        F.sum(F.array_contains("quality_flags", flag).cast("int")).alias(f"flag_{flag}") for flag in FLAGS
    ]
    row = receipts.agg(
        F.count(F.lit(1)).alias("rows"),
        F.countDistinct("user_id", "receipt_id").alias("distinct"),
        F.sum("line_item_count").alias("listed_items"),
        F.sum(((total < 0) & ~F.col("is_refund")).cast("int")).alias("unflagged_negative"),
        F.sum((F.col("is_refund") & ~F.coalesce(total < 0, F.lit(False))).cast("int")).alias(
            "refunds_not_negative"
        ),
        F.sum(F.expr(_KEYS_MISSING).cast("int")).alias("missing_keys"),
        *flag_counts,
    ).first()
    assert row is not None  # an aggregation without grouping always has one row
    return {key: int(value or 0) for key, value in row.asDict().items()}


def _key_stats(frame: DataFrame) -> dict[str, int]:
    row = frame.agg(
        F.count(F.lit(1)).alias("rows"), F.sum(F.expr(_KEYS_MISSING).cast("int")).alias("missing_keys")
    ).first()
    assert row is not None
    return {key: int(value or 0) for key, value in row.asDict().items()}


def _erased_receipts(latest: DataFrame, erased: DataFrame) -> int:
    return latest.join(F.broadcast(erased), "user_id", "left_semi").count()


def _leaked(tables: dict[str, DataFrame], erased: DataFrame) -> dict[str, int]:
    """Rows of erased users left in the new tables (there must be none): one pass."""
    users = None
    for name, frame in tables.items():
        tagged = frame.select("user_id", F.lit(name).alias("table"))
        users = tagged if users is None else users.unionByName(tagged)
    assert users is not None
    found = _count_by(users.join(F.broadcast(erased), "user_id", "left_semi"), "table")
    return {name: found.get(name, 0) for name in tables}


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
        # repartition, not coalesce: coalesce(1) would pull the upstream scans into one task.
        rows.repartition(1).write.mode("overwrite").json(store.uri(f"{lake.QUARANTINE_PREFIX}run={run_id}/"))


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

    lines = _read_lines(spark, store, manifest)
    changes = export_lines(lines, manifest.time_micros).persist(StorageLevel.MEMORY_AND_DISK)
    per_file, bad_n = _line_counts(changes)
    partial = _file_shortfalls(store, manifest, per_file, report)
    report.export["lines_read"] = sum(per_file.values())
    report.export["partial"] = partial
    _add(report.quarantined, MALFORMED_LINE, bad_n)
    bad_lines = changes.where(F.col("error").isNotNull())
    good_lines = changes.where(F.col("error").isNull())
    # The same key twice in one export (a retried write, an overlapping incremental): the
    # latest image is kept; how many lines that collapsed is reported.
    distinct_keys = good_lines.select("pk", "sk").distinct().count()
    report.export["duplicate_lines"] = report.export["lines_read"] - bad_n - distinct_keys

    previous = spark.read.schema(SNAPSHOT_SCHEMA).parquet(store.uri(previous_key)) if previous_key else None
    snapshot = merge_snapshot(previous, changes, keep_unlisted=manifest.incremental or partial).persist(
        StorageLevel.MEMORY_AND_DISK
    )

    parsed = parse_receipts(snapshot).persist(StorageLevel.MEMORY_AND_DISK)
    problems = _count_by(parsed, "_problem")
    report.source["receipts"] = sum(problems.values())
    quarantined_receipts = 0
    for reason, n in problems.items():
        if reason is not None:
            _add(report.quarantined, reason, n)
            quarantined_receipts += n
    usable_n = report.source["receipts"] - quarantined_receipts
    latest = latest_versions(parsed.where(F.col("_problem").isNull())).persist(StorageLevel.MEMORY_AND_DISK)
    kept = drop_erased(latest, erased)

    corrections_all = parse_corrections(snapshot)
    correction_problems = _count_by(corrections_all, "_problem")
    report.source["corrections"] = sum(correction_problems.values())
    for reason, n in correction_problems.items():
        if reason is not None:
            _add(report.quarantined, f"correction_{reason}", n)
    corrections_ok = corrections_all.where(F.col("_problem").isNull())

    tables = {
        lake.RECEIPTS.name: to_contract(kept, lake.RECEIPTS),
        lake.LINE_ITEMS.name: to_contract(line_items_of(kept), lake.LINE_ITEMS),
        lake.CORRECTIONS.name: to_contract(drop_erased(corrections_ok, erased), lake.CORRECTIONS),
    }
    tables = {name: frame.persist(StorageLevel.MEMORY_AND_DISK) for name, frame in tables.items()}
    stats = _receipt_stats(tables["receipts"])
    item_stats = _key_stats(tables["line_items"])
    rows = {
        "receipts": stats["rows"],
        "line_items": item_stats["rows"],
        "corrections": tables["corrections"].count(),
    }
    report.flagged = {flag: stats[f"flag_{flag}"] for flag in FLAGS if stats[f"flag_{flag}"]}
    erased_n = _erased_receipts(latest, erased) if erased_list else 0
    report.superseded = usable_n - rows["receipts"] - erased_n
    report.erased = {"users": len(erased_list), "receipts": erased_n}

    checks = [
        quality.receipts_reconcile(
            report.source["receipts"], rows["receipts"], quarantined_receipts, report.superseded, erased_n
        ),
        quality.line_items_reconcile(stats["listed_items"], rows["line_items"]),
        quality.refunds_only_negative(stats["unflagged_negative"], stats["refunds_not_negative"]),
        quality.unique_receipts(rows["receipts"], stats["distinct"]),
        quality.no_erased_users(_leaked(tables, erased) if erased_list else {}),
        *(quality.schema_check(lake.TABLES_BY_NAME[n], f.schema) for n, f in tables.items()),
        quality.keys_present("receipts", stats["missing_keys"]),
        quality.keys_present("line_items", item_stats["missing_keys"]),
    ]
    report.checks = [c.as_dict() for c in checks]
    failed = quality.failures(checks)

    if report.quarantined:  # nothing to write (and no scans) on a clean run
        _write_quarantine(
            store,
            run_id,
            [
                bad_lines.select(
                    F.col("error").alias("reason"), F.col("value").alias("record"), "source_file"
                ),
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
        _drop_older_snapshots(store, snapshot_key)
    report.succeeded = not failed
    report.duration_seconds = round(time.monotonic() - started, 3)
    store.write_text(f"{lake.RUNS_PREFIX}{run_id}.json", report.as_json())
    publisher.publish(report.metrics())
    for frame in (changes, snapshot, parsed, latest, *tables.values()):
        frame.unpersist()
    if failed:
        raise quality.QualityError(
            "lake not updated, quality checks failed: " + "; ".join(f"{c.name}: {c.detail}" for c in failed)
        )
    return report


def _drop_older_snapshots(store: LakeStore, current: str) -> None:
    """Only the snapshot the state names is ever read again."""
    runs = {
        f"{lake.STAGING_ITEMS_PREFIX}{key[len(lake.STAGING_ITEMS_PREFIX) :].split('/', 1)[0]}/"
        for key in store.list_keys(lake.STAGING_ITEMS_PREFIX)
    }
    for prefix in sorted(runs - {current}):
        store.delete_prefix(prefix)


def tombstoned_users(store: LakeStore) -> list[str]:
    """Users erased by DELETE /api/me: ``tombstones/{user id}.json``."""
    names = (k[len(lake.TOMBSTONES_PREFIX) :] for k in store.list_keys(lake.TOMBSTONES_PREFIX))
    return sorted(n[: -len(".json")] for n in names if n.endswith(".json") and "/" not in n)
