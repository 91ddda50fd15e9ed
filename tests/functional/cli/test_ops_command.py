"""`receiptlake ops` against local mode (moto server on 127.0.0.1, provisioned as `local up`
does) and against a "deployed" environment found through its monitoring stack's outputs
(in the same moto), with the errors a person meets when something is missing."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lambda_src.common.model import Receipt
from lambda_src.common.repository import ReceiptRepository
from receiptlake.cli import main
from receiptlake.local.moto_server import LocalAws
from receiptlake.local.provision import LocalResources, client, provision
from receiptlake.local.running import RunningLocalMode, announce, marker_path

JPEG = b"\xff\xd8\xff\xe0" + b"0" * 64


@dataclass
class Local:
    resources: LocalResources
    state_dir: Path

    def client(self, service: str) -> Any:
        return client(service, self.resources.endpoint, self.resources.region)

    def pending(self, user: str, rid: str, *, age: timedelta, upload: bool = True) -> str:
        key = f"uploads/{user}/{rid}.jpg"
        ReceiptRepository(self.resources.names.table, self.client("dynamodb")).create_pending(
            Receipt(receipt_id=rid, user_id=user, object_key=key, uploaded_at=datetime.now(UTC) - age)
        )
        if upload:
            self.client("s3").put_object(Bucket=self.resources.names.uploads_bucket, Key=key, Body=JPEG)
        return key

    def drain(self, url: str) -> list[dict[str, Any]]:
        sqs = self.client("sqs")
        bodies: list[dict[str, Any]] = []
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            for m in messages:
                bodies.append(json.loads(m["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return bodies

    def lose_messages(self) -> None:
        """The S3 notifications never reach ingest (and S3's test event goes too)."""
        self.drain(self.resources.queue_url)


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Local]:
    with LocalAws(port=0, host="127.0.0.1") as aws:
        # moto's backends live in this process, across servers: start from nothing.
        urllib.request.urlopen(urllib.request.Request(f"{aws.endpoint}/moto-api/reset", method="POST"))
        resources = provision(aws.endpoint, web_origins=["http://127.0.0.1:8000"])
        state_dir = tmp_path / "state"
        announce(
            state_dir,
            RunningLocalMode(
                resources.endpoint,
                resources.region,
                resources.names.table,
                resources.names.lake_bucket,
                os.getpid(),
            ),
        )
        yield Local(resources, state_dir)


def ops(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any] | str, str]:
    code = main(["ops", *args])
    captured = capsys.readouterr()
    try:
        return code, json.loads(captured.out), captured.err
    except ValueError:
        return code, captured.out, captured.err


def test_summary_shows_the_flow_of_local_mode(local: Local, capsys: pytest.CaptureFixture[str]) -> None:
    # Given one receipt in flight, one stuck and one abandoned upload slot
    local.pending("u1", "fresh", age=timedelta(minutes=1))
    local.pending("u1", "stuck", age=timedelta(hours=2))
    local.pending("u1", "never", age=timedelta(hours=2), upload=False)
    local.lose_messages()
    # When the summary is asked for
    code, result, _ = ops(capsys, "summary", "--local", "--state-dir", str(local.state_dir), "--json")
    # Then it counts what is there
    assert code == 0 and isinstance(result, dict)
    assert result["receipts_by_status"] == {"PENDING": 3}
    assert (result["pending_too_long"], result["abandoned_uploads"]) == (1, 1)
    assert result["ingest_queue"]["visible"] == 0 and result["dlq"]["visible"] == 0
    # And the human form says the same
    code, text, _ = ops(capsys, "summary", "--local", "--state-dir", str(local.state_dir))
    assert code == 0 and "receipts            PENDING 3" in str(text) and "abandoned uploads   1" in str(text)


def test_reconcile_requeues_a_lost_message_once(local: Local, capsys: pytest.CaptureFixture[str]) -> None:
    # Given an upload whose S3 notification was lost
    key = local.pending("u1", "r1", age=timedelta(hours=2))
    local.lose_messages()
    # When reconciled (first as a dry run)
    args = ("--local", "--state-dir", str(local.state_dir), "--json")
    code, dry, _ = ops(capsys, "reconcile", *args, "--dry-run")
    assert code == 0 and isinstance(dry, dict) and dry["requeued"] == ["u1/r1"]
    assert local.drain(local.resources.queue_url) == []
    code, result, _ = ops(capsys, "reconcile", *args)
    # Then its S3 event is back on the ingest queue, once
    assert code == 0 and isinstance(result, dict) and result["requeued"] == ["u1/r1"]
    (body,) = local.drain(local.resources.queue_url)
    assert body["Records"][0]["s3"]["object"]["key"] == key.replace("/", "%2F")
    code, again, _ = ops(capsys, "reconcile", *args)
    assert (
        isinstance(again, dict) and again["requeued"] == [] and local.drain(local.resources.queue_url) == []
    )
    # And an operator can force it after fixing the cause
    code, forced, _ = ops(capsys, "reprocess-stuck", *args, "--stuck-after", "0")
    assert code == 0 and isinstance(forced, dict) and forced["requeued"] == ["u1/r1"]
    assert len(local.drain(local.resources.queue_url)) == 1


def test_redrive_moves_the_dlq_back(local: Local, capsys: pytest.CaptureFixture[str]) -> None:
    sqs = local.client("sqs")
    for i in range(3):
        sqs.send_message(QueueUrl=local.resources.dlq_url, MessageBody=json.dumps({"n": i}))
    code, result, _ = ops(capsys, "redrive-dlq", "--local", "--state-dir", str(local.state_dir), "--json")
    assert code == 0 and isinstance(result, dict)
    assert (result["dlq_before"], result["moved"], result["dlq_after"]) == (3, 3, 0)
    assert sorted(b.get("n", -1) for b in local.drain(local.resources.queue_url) if "n" in b) == [0, 1, 2]


def test_local_not_running_says_how_to_start_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = ops(capsys, "summary", "--local", "--state-dir", str(tmp_path / "state"))
    assert code == 2 and "local mode is not running" in err and "receiptlake local up" in err


def test_a_stale_runtime_file_is_not_trusted(local: Local, capsys: pytest.CaptureFixture[str]) -> None:
    path = marker_path(local.state_dir)
    data = json.loads(path.read_text())
    data["pid"] = 2**22 + 12345  # no such process
    path.write_text(json.dumps(data))
    code, _, err = ops(capsys, "summary", "--local", "--state-dir", str(local.state_dir))
    assert code == 2 and "local mode is not running" in err


# ---- --env: a deployed environment --------------------------------------------------------


@pytest.fixture
def deployed(local: Local, monkeypatch: pytest.MonkeyPatch) -> Local:
    """moto as the 'dev' account: the monitoring stack's outputs name the local resources."""
    r = local.resources
    for name, value in {
        "AWS_ENDPOINT_URL": r.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    outputs = {
        "TableName": r.names.table,
        "UploadsBucketName": r.names.uploads_bucket,
        "IngestQueueUrl": r.queue_url,
        "IngestDlqUrl": r.dlq_url,
    }
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "placeholder"}}},
        "Outputs": {k: {"Value": v} for k, v in outputs.items()},
    }
    local.client("cloudformation").create_stack(
        StackName="receiptlake-dev-monitoring", TemplateBody=json.dumps(template)
    )
    return local


def test_env_finds_the_environment_through_its_monitoring_stack(
    deployed: Local, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed.pending("u2", "r2", age=timedelta(hours=3))
    deployed.lose_messages()
    code, result, err = ops(capsys, "reconcile", "--env", "dev", "--json")
    assert code == 0, err
    assert isinstance(result, dict) and result["requeued"] == ["u2/r2"]
    # dev's own threshold applies (cdk.json), not local mode's
    from stacks.config import ENVIRONMENTS_KEY, load_config, read_cdk_json_context

    dev = load_config(read_cdk_json_context()[ENVIRONMENTS_KEY], "dev", env={})
    assert result["stuck_after_minutes"] == dev.monitoring.stuck_after_minutes


def test_env_not_deployed_says_so(deployed: Local, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = ops(capsys, "summary", "--env", "staging")
    assert code == 2
    assert "environment 'staging' is not deployed" in err and "receiptlake-staging-monitoring" in err


def test_unknown_environment_lists_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = ops(capsys, "summary", "--env", "qa")
    assert code == 2 and "choose one of dev, prod, staging" in err and "--env NAME" in err


def test_missing_credentials_are_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    code, _, err = ops(capsys, "redrive-dlq", "--env", "prod")
    assert code == 2 and "no AWS credentials for environment 'prod'" in err


def test_local_and_env_are_exclusive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["ops", "summary", "--local", "--env", "dev"])
    assert exited.value.code == 2 and "not allowed with" in capsys.readouterr().err
