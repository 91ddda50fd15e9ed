"""The Glue job's entry point: export the table, then run the pipeline on the export.

Glue passes ``--name value`` arguments (lake_schema.JOB_ARGUMENTS, set by the ETL stack,
plus Glue's own). The export uses DynamoDB's export to S3 (point-in-time recovery, no
read capacity): incremental from the last export when that is possible (15 minutes to
24 hours later), full otherwise. Transforms are plain PySpark, so nothing here needs
awsglue, and the same function runs in tests.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from glue_scripts import lake_schema as lake

INCREMENTAL_MIN = timedelta(minutes=15)  # DynamoDB's bounds for an incremental export
INCREMENTAL_MAX = timedelta(hours=24)
POLL_SECONDS = 20
EXPORT_TIMEOUT = timedelta(hours=2)


@dataclass(frozen=True)
class ExportPlan:
    kind: str  # full | incremental | none
    from_time: datetime | None = None
    to_time: datetime | None = None
    reason: str = ""


def plan_export(mode: str, state: dict[str, Any], now: datetime) -> ExportPlan:
    """Which export this run asks DynamoDB for, given the last one the lake used."""
    if mode not in ("auto", "full", "incremental"):
        raise ValueError(f"export_mode must be auto, full or incremental, not {mode!r}")
    last = datetime.fromisoformat(state["export_time"]) if state.get("export_time") else None
    if mode == "full" or last is None or not state.get("snapshot"):
        if mode == "incremental":
            raise ValueError("export_mode=incremental needs an earlier run's snapshot: run a full one first")
        return ExportPlan("full", reason="requested" if mode == "full" else "no earlier export in the lake")
    age = now - last
    if age < INCREMENTAL_MIN:
        return ExportPlan("none", reason=f"the lake is {age} old, under DynamoDB's 15-minute minimum")
    if age > INCREMENTAL_MAX:
        if mode == "incremental":
            return ExportPlan("incremental", last, last + INCREMENTAL_MAX, "catching up 24 hours at a time")
        return ExportPlan("full", reason=f"the last export is {age} old, past the 24-hour incremental window")
    return ExportPlan("incremental", last, now, "changes since the last export")


def start_export(dynamodb: Any, table_arn: str, bucket: str, plan: ExportPlan, kms_key_arn: str) -> str:
    request: dict[str, Any] = {
        "TableArn": table_arn,
        "S3Bucket": bucket,
        "S3Prefix": lake.EXPORTS_PREFIX.rstrip("/"),
        "S3SseAlgorithm": "KMS",  # the lake's key, as the rest of the lake
        "S3SseKmsKeyId": kms_key_arn,
        "ExportFormat": "DYNAMODB_JSON",
    }
    if plan.kind == "incremental":
        request["ExportType"] = "INCREMENTAL_EXPORT"
        request["IncrementalExportSpecification"] = {
            "ExportFromTime": plan.from_time,
            "ExportToTime": plan.to_time,
            "ExportViewType": "NEW_AND_OLD_IMAGES",
        }
    else:
        request["ExportType"] = "FULL_EXPORT"
    arn: str = dynamodb.export_table_to_point_in_time(**request)["ExportDescription"]["ExportArn"]
    return arn


def wait_for_export(
    dynamodb: Any, export_arn: str, *, sleep: Callable[[float], None] = time.sleep, poll: float = POLL_SECONDS
) -> str:
    """Wait until the export completes; returns its manifest-summary key."""
    deadline = time.monotonic() + EXPORT_TIMEOUT.total_seconds()
    while True:
        description = dynamodb.describe_export(ExportArn=export_arn)["ExportDescription"]
        status = description["ExportStatus"]
        if status == "COMPLETED":
            manifest: str | None = description.get("ExportManifest")
            export_id = export_arn.rsplit("/", 1)[-1]
            return manifest or f"{lake.EXPORTS_PREFIX}AWSDynamoDB/{export_id}/manifest-summary.json"
        if status == "FAILED":
            raise RuntimeError(
                f"DynamoDB export {export_arn} failed: {description.get('FailureCode')} "
                f"{description.get('FailureMessage')}"
            )
        if time.monotonic() > deadline:
            raise TimeoutError(f"DynamoDB export {export_arn} still {status} after {EXPORT_TIMEOUT}")
        sleep(poll)


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="glue_job")
    for name in lake.JOB_ARGUMENTS:
        parser.add_argument(f"--{name}", required=name != lake.ARG_EXPORT_MODE)
    parser.set_defaults(**{lake.ARG_EXPORT_MODE: "auto"})
    args, _glue_own = parser.parse_known_args(argv)
    return args


def main(argv: Sequence[str] | None = None, *, session: Any = None, spark: Any = None) -> int:
    """Run one ETL: export, transform, check, write. Exit status 1 on any failure, after
    the failure was emitted as a metric (JobSucceeded=0)."""
    import boto3
    from pyspark.sql import SparkSession

    from glue_scripts.export_manifest import ExportError
    from glue_scripts.metrics import CloudWatchPublisher, Metric
    from glue_scripts.pipeline import run_etl, spark_settings, tombstoned_users
    from glue_scripts.quality import QualityError
    from glue_scripts.store import S3Store

    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    session = session or boto3.session.Session()
    store = S3Store(args.lake_bucket, session.client("s3"))
    publisher = CloudWatchPublisher(session.client("cloudwatch"), args.environment, args.metrics_namespace)
    dynamodb = session.client("dynamodb")
    if spark is None:
        spark = SparkSession.builder.getOrCreate()
    for key, value in spark_settings().items():
        spark.conf.set(key, value)

    try:
        state = json.loads(store.read_text(lake.STATE_KEY) or "{}")
        plan = plan_export(args.export_mode, state, datetime.now(UTC))
        print(f"export: {plan.kind} ({plan.reason})", flush=True)
        if plan.kind == "none":
            return 0
        export_arn = start_export(dynamodb, args.table_arn, args.lake_bucket, plan, args.export_kms_key_arn)
        summary_key = wait_for_export(dynamodb, export_arn)
        report = run_etl(spark, store, summary_key, erased_users=tombstoned_users(store), publisher=publisher)
    except QualityError as exc:  # the report and metrics are already out
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    except (ExportError, RuntimeError, TimeoutError, ValueError) as exc:
        publisher.publish([Metric(lake.METRIC_JOB_SUCCEEDED, 0.0)])
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    except Exception:
        # Spark or AWS failed under us: count it, then let Glue show the traceback.
        publisher.publish([Metric(lake.METRIC_JOB_SUCCEEDED, 0.0)])
        raise
    print(report.as_json(), flush=True)
    return 0


if __name__ == "__main__":
    code = main()
    if code:
        # Glue marks the run failed only when the script raises.
        raise SystemExit(code)
