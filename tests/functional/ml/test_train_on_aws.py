"""`python -m ml train` as an EC2 instance runs it, against moto's server standing in for
AWS: the lake's Parquet read from S3 (by pyarrow's own S3 client), the models bucket, the
table's insights items, the CloudWatch metrics the dashboard graphs, and an erased user."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambda_src.api.insights import read_insights
from ml import metrics_names
from ml.__main__ import main
from receiptlake.local.moto_server import LocalAws
from receiptlake.local.provision import LocalResources, client, provision


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalResources]:
    with LocalAws() as server, pytest.MonkeyPatch.context() as monkeypatch:
        resources = provision(server.endpoint, web_origins=["http://127.0.0.1:8000"])
        # What the instance profile and the region give boto3 and pyarrow on EC2.
        for name, value in {
            "AWS_ENDPOINT_URL": server.endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": resources.region,
            "AWS_REGION": resources.region,
        }.items():
            monkeypatch.setenv(name, value)
        yield resources


def _upload(s3: Any, bucket: str, root: Path) -> None:
    for path in root.rglob("*.parquet"):
        s3.put_object(Bucket=bucket, Key=path.relative_to(root).as_posix(), Body=path.read_bytes())


def test_a_run_on_aws_reads_s3_and_writes_models_insights_and_metrics(
    aws: LocalResources, small_lake: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    s3 = client("s3", aws.endpoint, aws.region)
    _upload(s3, aws.names.lake_bucket, small_lake.path)
    users = sorted(set(small_lake.receipts["user_id"]))
    erased = users[0]
    s3.put_object(Bucket=aws.names.lake_bucket, Key=f"tombstones/{erased}.json", Body=b"{}")

    code = main(
        ["train", "--env", "dev", "--lake-bucket", aws.names.lake_bucket, "--models-bucket",
         aws.names.models_bucket, "--table", aws.names.table, "--region", aws.region,
         "--as-of", "2026-03-10", "--epochs", "3"]
    )  # fmt: skip

    out = capsys.readouterr().out
    assert code == 0, out
    latest = json.loads(s3.get_object(Bucket=aws.names.models_bucket, Key="latest.json")["Body"].read())
    assert f"version: {latest['version']}" in out
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=aws.names.models_bucket)["Contents"]}
    assert {
        f"runs/{latest['version']}/{n}" for n in ("categorizer.npz", "metrics.json", "model_card.md")
    } <= keys
    assert not [k for k in keys if k.startswith("checkpoints/")]  # a finished run leaves none
    dynamodb = client("dynamodb", aws.endpoint, aws.region)
    served = {u: read_insights(dynamodb, aws.names.table, u) for u in users}
    assert served[erased].reason is not None  # an erased user's insights never come back
    assert any(r.reason is None and r.insights.forecasts for u, r in served.items() if u != erased)
    cloudwatch = client("cloudwatch", aws.endpoint, aws.region)
    emitted = {m["MetricName"] for m in cloudwatch.list_metrics(Namespace=metrics_names.NAMESPACE)["Metrics"]}
    assert set(metrics_names.ALL_METRICS) <= emitted
    succeeded = cloudwatch.get_metric_statistics(
        Namespace=metrics_names.NAMESPACE,
        MetricName=metrics_names.RUN_SUCCEEDED,
        Dimensions=[{"Name": metrics_names.DIMENSION_ENVIRONMENT, "Value": "dev"}],
        StartTime="2000-01-01T00:00:00Z",
        EndTime="2100-01-01T00:00:00Z",
        Period=86400,
        Statistics=["Maximum"],
    )["Datapoints"]
    assert [p["Maximum"] for p in succeeded] == [1.0]


def test_a_failed_run_is_counted(aws: LocalResources) -> None:
    s3 = client("s3", aws.endpoint, aws.region)
    s3.create_bucket(Bucket="empty-lake", CreateBucketConfiguration={"LocationConstraint": aws.region})
    with pytest.raises(Exception):  # noqa: B017 - any failure: here the lake has no tables
        main(
            ["train", "--env", "staging", "--lake-bucket", "empty-lake", "--models-bucket",
             aws.names.models_bucket, "--table", aws.names.table, "--region", aws.region]
        )  # fmt: skip
    cloudwatch = client("cloudwatch", aws.endpoint, aws.region)
    points = cloudwatch.get_metric_statistics(
        Namespace=metrics_names.NAMESPACE,
        MetricName=metrics_names.RUN_SUCCEEDED,
        Dimensions=[{"Name": metrics_names.DIMENSION_ENVIRONMENT, "Value": "staging"}],
        StartTime="2000-01-01T00:00:00Z",
        EndTime="2100-01-01T00:00:00Z",
        Period=86400,
        Statistics=["Minimum"],
    )["Datapoints"]
    assert [p["Minimum"] for p in points] == [0.0]
