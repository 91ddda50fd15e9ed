"""The Glue entry point: which export it asks for, how it waits, how it fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from glue_scripts import lake_schema as lake
from glue_scripts.glue_job import (
    ExportPlan,
    main,
    parse_arguments,
    plan_export,
    start_export,
    wait_for_export,
)

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
TABLE_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/receipts"
EXPORT_ARN = f"{TABLE_ARN}/export/01733280000000-abcdef12"
KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/0000"


def _state(age: timedelta) -> dict[str, str]:
    return {"export_time": (NOW - age).isoformat(), "snapshot": "staging/items/run=1/"}


@pytest.mark.parametrize(
    ("mode", "state", "kind"),
    [
        ("auto", {}, "full"),
        ("auto", _state(timedelta(hours=6)), "incremental"),
        ("auto", _state(timedelta(minutes=5)), "none"),
        ("auto", _state(timedelta(days=3)), "full"),
        ("full", _state(timedelta(hours=6)), "full"),
        ("incremental", _state(timedelta(days=3)), "incremental"),
    ],
)
def test_plan_follows_dynamodbs_incremental_window(mode: str, state: dict[str, str], kind: str) -> None:
    plan = plan_export(mode, state, NOW)
    assert plan.kind == kind
    if kind == "incremental":
        assert plan.from_time == NOW - (NOW - datetime.fromisoformat(state["export_time"]))
        assert plan.to_time is not None and plan.to_time - plan.from_time <= timedelta(hours=24)


def test_incremental_without_a_snapshot_is_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match="run a full one first"):
        plan_export("incremental", {}, NOW)
    with pytest.raises(ValueError, match="auto, full or incremental"):
        plan_export("sometimes", {}, NOW)


def _dynamodb() -> Any:
    return boto3.client("dynamodb", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")


def test_incremental_export_request_and_wait_for_its_manifest() -> None:
    client = _dynamodb()
    plan = ExportPlan("incremental", NOW - timedelta(hours=6), NOW)
    with Stubber(client) as stub:
        stub.add_response(
            "export_table_to_point_in_time",
            {"ExportDescription": {"ExportArn": EXPORT_ARN, "ExportStatus": "IN_PROGRESS"}},
            {
                "TableArn": TABLE_ARN,
                "S3Bucket": "lake",
                "S3Prefix": "exports",
                "S3SseAlgorithm": "KMS",
                "S3SseKmsKeyId": KEY_ARN,
                "ExportFormat": "DYNAMODB_JSON",
                "ExportType": "INCREMENTAL_EXPORT",
                "IncrementalExportSpecification": {
                    "ExportFromTime": plan.from_time,
                    "ExportToTime": plan.to_time,
                    "ExportViewType": "NEW_AND_OLD_IMAGES",
                },
            },
        )
        stub.add_response("describe_export", {"ExportDescription": {"ExportStatus": "IN_PROGRESS"}})
        stub.add_response(
            "describe_export",
            {
                "ExportDescription": {
                    "ExportStatus": "COMPLETED",
                    "ExportManifest": "exports/x/manifest-summary.json",
                }
            },
        )
        arn = start_export(client, TABLE_ARN, "lake", plan, KEY_ARN)
        sleeps: list[float] = []
        assert wait_for_export(client, arn, sleep=sleeps.append, poll=1) == "exports/x/manifest-summary.json"
        assert sleeps == [1]
        stub.assert_no_pending_responses()


def test_a_failed_export_raises_with_dynamodbs_reason() -> None:
    client = _dynamodb()
    with Stubber(client) as stub:
        stub.add_response(
            "describe_export",
            {
                "ExportDescription": {
                    "ExportStatus": "FAILED",
                    "FailureCode": "S3AccessDenied",
                    "FailureMessage": "no",
                }
            },
        )
        with pytest.raises(RuntimeError, match="S3AccessDenied"):
            wait_for_export(client, EXPORT_ARN, sleep=lambda _: None)


def test_arguments_are_the_stacks_and_glues_own_are_ignored() -> None:
    argv = [f"--{name}=v-{name}" for name in lake.JOB_ARGUMENTS] + [
        "--JOB_RUN_ID",
        "jr_1",
        "--TempDir",
        "s3://t",
    ]
    args = parse_arguments(argv)
    assert all(getattr(args, name) == f"v-{name}" for name in lake.JOB_ARGUMENTS)
    with pytest.raises(SystemExit):
        parse_arguments(["--table_arn", TABLE_ARN])


def test_a_failed_export_fails_the_run_and_is_counted(aws_credentials: None) -> None:
    from moto import mock_aws

    with mock_aws():
        session = boto3.session.Session(region_name="eu-west-1")
        session.client("s3").create_bucket(
            Bucket="lake", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        dynamodb = session.client("dynamodb")
        stub = Stubber(dynamodb)
        stub.add_response(
            "export_table_to_point_in_time",
            {"ExportDescription": {"ExportArn": EXPORT_ARN, "ExportStatus": "IN_PROGRESS"}},
        )
        stub.add_response(
            "describe_export",
            {"ExportDescription": {"ExportStatus": "FAILED", "FailureCode": "PITRNotEnabled"}},
        )
        stub.activate()

        class Session:
            def client(self, name: str) -> Any:
                return dynamodb if name == "dynamodb" else session.client(name)

        argv = [
            f"--{lake.ARG_TABLE_ARN}={TABLE_ARN}",
            f"--{lake.ARG_LAKE_BUCKET}=lake",
            f"--{lake.ARG_DATABASE}=receiptlake_dev",
            f"--{lake.ARG_METRICS_NAMESPACE}={lake.METRICS_NAMESPACE}",
            f"--{lake.ARG_ENVIRONMENT}=dev",
            f"--{lake.ARG_EXPORT_KMS_KEY}={KEY_ARN}",
        ]

        class Conf:
            def set(self, key: str, value: str) -> None:
                pass

        class Spark:
            conf = Conf()

        assert main(argv, session=Session(), spark=Spark()) == 1
        cloudwatch = session.client("cloudwatch")
        metrics = cloudwatch.list_metrics(Namespace=lake.METRICS_NAMESPACE)["Metrics"]
        assert [(m["MetricName"], m["Dimensions"]) for m in metrics] == [
            (lake.METRIC_JOB_SUCCEEDED, [{"Name": "Environment", "Value": "dev"}])
        ]
