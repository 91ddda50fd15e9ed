"""The receipts table, the uploads bucket and the ingest queues as reconciliation and the
``receiptlake ops`` commands use them (boto3 clients passed in: AWS or moto alike)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from lambda_src.common import keys
from lambda_src.monitoring.logic import PENDING, UPLOADS_PREFIX, ObjectRow, ReceiptRow

REQUEUED_ATTRIBUTE = "reconcile_requeued_at"
SQS_BATCH = 10  # SQS's largest receive and send batch


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    # The model writes UTC with its offset; an item without one was written as UTC too, and
    # comparing it with an aware clock would raise.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class AwsInventory:
    """The table (one Scan of receipt items, projected to what is compared) and the
    ``uploads/`` prefix of the bucket."""

    table: str
    bucket: str
    dynamodb: Any
    s3: Any

    def receipts(self) -> Iterator[ReceiptRow]:
        pages = self.dynamodb.get_paginator("scan").paginate(
            TableName=self.table,
            FilterExpression="item_type = :receipt",
            ProjectionExpression="user_id, receipt_id, #status, object_key, uploaded_at, #requeued",
            ExpressionAttributeNames={"#status": "status", "#requeued": REQUEUED_ATTRIBUTE},
            ExpressionAttributeValues={":receipt": {"S": "receipt"}},
        )
        for page in pages:
            for item in page.get("Items", []):
                uploaded_at = _time(item.get("uploaded_at", {}).get("S"))
                if uploaded_at is None:
                    continue  # not a receipt this code wrote; nothing to compare
                yield ReceiptRow(
                    user_id=item["user_id"]["S"],
                    receipt_id=item["receipt_id"]["S"],
                    status=item["status"]["S"],
                    object_key=item.get("object_key", {}).get("S"),
                    uploaded_at=uploaded_at,
                    requeued_at=_time(item.get(REQUEUED_ATTRIBUTE, {}).get("S")),
                )

    def objects(self) -> Iterator[ObjectRow]:
        for page in self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=UPLOADS_PREFIX
        ):
            for obj in page.get("Contents", []):
                yield ObjectRow(key=obj["Key"], size=int(obj["Size"]), last_modified=obj["LastModified"])

    def mark_requeued(self, row: ReceiptRow, when: datetime, *, again: bool = False) -> bool:
        once = "" if again else " AND attribute_not_exists(#requeued)"
        try:
            self.dynamodb.update_item(
                TableName=self.table,
                Key={
                    keys.PK: {"S": keys.user_pk(row.user_id)},
                    keys.SK: {"S": keys.receipt_sk(row.receipt_id)},
                },
                UpdateExpression="SET #requeued = :when",
                ConditionExpression=f"#status = :pending{once}",
                ExpressionAttributeNames={"#status": "status", "#requeued": REQUEUED_ATTRIBUTE},
                ExpressionAttributeValues={":when": {"S": when.isoformat()}, ":pending": {"S": PENDING}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True


@dataclass
class SqsQueue:
    sqs: Any
    url: str
    region: str

    def send(self, body: Mapping[str, Any]) -> None:
        self.sqs.send_message(QueueUrl=self.url, MessageBody=json.dumps(body))


def queue_depth(sqs: Any, url: str) -> dict[str, int]:
    """Visible and in-flight messages of one queue."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return {
        "visible": int(attributes.get("ApproximateNumberOfMessages", 0)),
        "in_flight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
    }


def redrive(sqs: Any, *, source_url: str, target_url: str, limit: int | None = None) -> int:
    """Move messages from the DLQ back to the ingest queue, each sent before it is deleted
    (a crash in between duplicates a message, which the exactly-once store absorbs, rather
    than losing it). Returns how many moved."""
    moved = 0
    while limit is None or moved < limit:
        wanted = SQS_BATCH if limit is None else min(SQS_BATCH, limit - moved)
        messages = sqs.receive_message(
            QueueUrl=source_url, MaxNumberOfMessages=wanted, WaitTimeSeconds=0, VisibilityTimeout=60
        ).get("Messages", [])
        if not messages:
            break
        entries = [{"Id": str(i), "MessageBody": m["Body"]} for i, m in enumerate(messages)]
        sent = sqs.send_message_batch(QueueUrl=target_url, Entries=entries)
        ok = {s["Id"] for s in sent.get("Successful", [])}
        done = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(messages)
            if str(i) in ok
        ]
        if done:
            sqs.delete_message_batch(QueueUrl=source_url, Entries=done)
        moved += len(done)
        if len(done) < len(messages):
            break  # the rest stay in the DLQ and become visible again; say so rather than spin
    return moved
