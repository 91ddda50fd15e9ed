"""Fixtures shared by every test layer."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
EVENTS_DIR = REPO_ROOT / "tests" / "events"
FIXTURES_DIR = REPO_ROOT / "tests" / "fixtures"

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def load_event(name: str) -> dict[str, Any]:
    """A recorded event from tests/events/ (name with or without .json)."""
    path = EVENTS_DIR / (name if name.endswith(".json") else f"{name}.json")
    event: dict[str, Any] = json.loads(path.read_text())
    return event


@dataclass
class FakeLambdaContext:
    function_name: str = "receiptlake-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:receiptlake-test"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    log_group_name: str = "/aws/lambda/receiptlake-test"
    log_stream_name: str = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials so nothing can reach a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def receipts_table(aws_credentials: None) -> Iterator[tuple[Any, str]]:
    """(dynamodb client, table name) for a moto table built from the storage stack's schema."""
    import boto3
    from moto import mock_aws

    from receiptlake.local.tables import create_receipts_table

    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        create_receipts_table(client, "receipts-test")
        yield client, "receipts-test"


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local SparkSession for the whole run (~3 s to start), as Glue 5 runs the transforms."""
    from receiptlake.local.spark import local_spark

    session = local_spark(cores=2, memory="2g")
    yield session
    session.stop()
