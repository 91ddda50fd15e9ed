"""The ingest world of tests/functional/ingest (moto table, uploads bucket, the real ingest
handler with recorded Textract answers) plus the ingest queue and its DLQ."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from lambda_src.monitoring.adapters import AwsInventory, SqsQueue
from tests.functional.ingest.conftest import UPLOADS, World, world  # noqa: F401 - the fixture

REGION = "eu-west-1"


@dataclass
class Queues:
    sqs: Any
    url: str
    dlq_url: str

    def bodies(self, url: str | None = None) -> list[dict[str, Any]]:
        """Every message on the queue (received, then made visible again)."""
        out: list[dict[str, Any]] = []
        while True:
            got = self.sqs.receive_message(
                QueueUrl=url or self.url, MaxNumberOfMessages=10, VisibilityTimeout=0
            )
            messages = got.get("Messages", [])
            if not messages or len(out) > 100:
                return out
            for m in messages:
                out.append(json.loads(m["Body"]))
                self.sqs.delete_message(QueueUrl=url or self.url, ReceiptHandle=m["ReceiptHandle"])


@pytest.fixture
def queues(world: World) -> Queues:  # noqa: F811 - the imported fixture
    sqs = boto3.client("sqs", region_name=REGION)
    dlq_url = sqs.create_queue(QueueName="ingest-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = sqs.create_queue(
        QueueName="ingest",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})},
    )["QueueUrl"]
    return Queues(sqs, url, dlq_url)


@pytest.fixture
def inventory(world: World) -> AwsInventory:  # noqa: F811
    return AwsInventory(world.repository.table_name, UPLOADS, world.ddb, world.s3)


@pytest.fixture
def queue(queues: Queues) -> Iterator[SqsQueue]:
    yield SqsQueue(queues.sqs, queues.url, REGION)
