"""An ingest world in moto: uploads and lake buckets, the receipts table built from the
storage stack, the real handler wired through its environment variables, and Textract
answered by a botocore Stubber with recorded real responses (moto has no AnalyzeExpense)."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import boto3
import pytest
from botocore.stub import Stubber

from lambda_src.common.model import Receipt
from lambda_src.common.repository import ReceiptRepository
from lambda_src.ingest import wiring
from tests.conftest import load_event
from tests.fixtures.bad_inputs.corpus import TEST_MAX_BYTES, TEST_MAX_PAGES

UPLOADS = "receiptlake-test-uploads"
LAKE = "receiptlake-test-lake"
TEXTRACT_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "textract"
RECEIPT_JPG = (TEXTRACT_FIXTURES / "receipt.jpg").read_bytes()


def recorded(name: str) -> dict[str, Any]:
    """A recorded AnalyzeExpense response, as botocore's Stubber will return it."""
    response: dict[str, Any] = json.loads((TEXTRACT_FIXTURES / f"{name}.json").read_text())
    response.pop("ResponseMetadata", None)
    return response


def s3_body(key: str, *, size: int | None, bucket: str = UPLOADS, event_time: str | None = None) -> str:
    """An S3 notification as S3 sends it to SQS: the key URL-encoded."""
    event = copy.deepcopy(load_event("s3_object_created"))
    record = event["Records"][0]
    record["s3"]["bucket"]["name"] = bucket
    record["s3"]["object"]["key"] = quote_plus(key, safe="")
    if size is None:
        del record["s3"]["object"]["size"]
    else:
        record["s3"]["object"]["size"] = size
    if event_time:
        record["eventTime"] = event_time
    return json.dumps(event)


def sqs_event(*bodies: str, receive_count: int = 1) -> dict[str, Any]:
    template = load_event("sqs_batch")["Records"][0]
    records = []
    for body in bodies:
        record = copy.deepcopy(template)
        record["messageId"] = str(uuid.uuid4())
        record["body"] = body
        record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
        records.append(record)
    return {"Records": records}


@dataclass
class World:
    s3: Any
    ddb: Any
    repository: ReceiptRepository
    textract: Any
    stubber: Stubber

    def pending(self, user_id: str, receipt_id: str, ext: str = "jpg") -> str:
        key = f"uploads/{user_id}/{receipt_id}.{ext}"
        self.repository.create_pending(Receipt(receipt_id=receipt_id, user_id=user_id, object_key=key))
        return key

    def upload(self, key: str, data: bytes) -> None:
        self.s3.put_object(Bucket=UPLOADS, Key=key, Body=data)

    def receipt(self, user_id: str, receipt_id: str) -> Receipt:
        return self.repository.require(user_id, receipt_id)

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        listing = self.s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
        return sorted(o["Key"] for o in listing.get("Contents", []))


@pytest.fixture
def world(receipts_table: tuple[Any, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    ddb, table = receipts_table
    s3 = boto3.client("s3", region_name="eu-west-1")
    for bucket in (UPLOADS, LAKE):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    env = {
        "TABLE_NAME": table,
        "LAKE_BUCKET": LAKE,
        "MAX_UPLOAD_BYTES": str(TEST_MAX_BYTES),
        "MAX_PAGES": str(TEST_MAX_PAGES),
        "TEXTRACT_TPS_PER_WORKER": "1000",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "receiptlake",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for cached in (wiring.settings, wiring.client, wiring.aws_deps):
        cached.cache_clear()
    textract = boto3.client("textract", region_name="eu-west-1")
    stubber = Stubber(textract)
    real_client = wiring.client

    def client(service: str) -> Any:
        return textract if service == "textract" else real_client(service)

    monkeypatch.setattr(wiring, "client", client)
    with stubber:
        yield World(s3, ddb, ReceiptRepository(table, ddb), textract, stubber)
    for cached in (wiring.settings, real_client, wiring.aws_deps):
        cached.cache_clear()
