"""The local ingest worker: polls the same SQS queue and calls the same Lambda handler.

Messages are handed to ``lambda_src.ingest.handler.handler`` as an SQS batch event, exactly
as the event source mapping would; those reported in ``batchItemFailures`` stay on the
queue and come back after the visibility timeout (then the DLQ), the rest are deleted.
"""

from __future__ import annotations

import logging
import threading
import uuid
import warnings
from dataclasses import dataclass
from typing import Any

from receiptlake.local.provision import LocalResources, client

log = logging.getLogger("receiptlake.local.worker")
BATCH_SIZE = 5


@dataclass
class _Context:
    """What Powertools reads from a Lambda context."""

    function_name: str = "receiptlake-local-ingest"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:receiptlake-local-ingest"
    aws_request_id: str = ""
    log_group_name: str = "local"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """An SQS → Lambda event for received messages, shaped as the event source mapping sends it."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": queue_arn.split(":")[3],
            }
            for m in messages
        ]
    }


class IngestWorker:
    def __init__(self, resources: LocalResources, *, poll_seconds: int = 1) -> None:
        self.resources = resources
        self.poll_seconds = poll_seconds
        self.sqs = client("sqs", resources.endpoint, resources.region)
        self.queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=resources.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.batches = 0

    def start(self) -> IngestWorker:
        from aws_lambda_powertools.metrics.provider import cold_start

        # A process here is no Lambda cold start, and Powertools prints the ColdStart metric
        # even with POWERTOOLS_METRICS_DISABLED, in the middle of `local up`'s output.
        cold_start.is_cold_start = False
        # Metrics are off here; Powertools still warns of an empty flush (an s3:TestEvent batch).
        warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
        self._thread = threading.Thread(target=self._run, name="ingest-worker", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:  # a bad batch must not stop the worker; SQS redelivers it
                log.exception("ingest batch failed")
                self._stop.wait(1)

    def poll_once(self) -> int:
        """Receive one batch and hand it to the handler; returns how many messages it had."""
        from lambda_src.ingest.handler import handler

        response = self.sqs.receive_message(
            QueueUrl=self.resources.queue_url,
            MaxNumberOfMessages=BATCH_SIZE,
            WaitTimeSeconds=self.poll_seconds,
            AttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return 0
        result = handler(sqs_event(messages, self.queue_arn), _Context(aws_request_id=str(uuid.uuid4())))
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.resources.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        self.batches += 1
        return len(messages)
