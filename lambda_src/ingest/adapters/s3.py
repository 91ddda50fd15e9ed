"""S3 behind Protocols: reading uploads, quarantining strays, writing the raw zone."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from botocore.exceptions import ClientError

from lambda_src.common.model import Receipt


class ObjectMissing(Exception):
    """The object named in the event is gone (deleted, or already quarantined)."""


class ObjectStore(Protocol):
    def read(self, bucket: str, key: str, *, max_bytes: int) -> bytes:
        """At most ``max_bytes + 1`` bytes of the object (so "too big" is still visible)."""
        ...

    def quarantine(self, bucket: str, key: str, *, prefix: str) -> str:
        """Move the object under ``prefix``; returns its new key."""
        ...


class RawZone(Protocol):
    def write(self, receipt: Receipt, response: Mapping[str, Any]) -> str:
        """Store Textract's response as it came; returns the object key."""
        ...


class S3ObjectStore:
    def __init__(self, client: Any) -> None:
        self.client = client

    def read(self, bucket: str, key: str, *, max_bytes: int) -> bytes:
        try:
            response = self.client.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{max_bytes}")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                raise ObjectMissing(key) from exc
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                return b""  # a zero-byte object has no byte 0
            raise
        body: bytes = response["Body"].read()
        return body

    def quarantine(self, bucket: str, key: str, *, prefix: str) -> str:
        target = prefix + key
        try:
            self.client.copy_object(Bucket=bucket, Key=target, CopySource={"Bucket": bucket, "Key": key})
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return target  # moved already by an earlier delivery of the same event
            raise
        self.client.delete_object(Bucket=bucket, Key=key)
        return target


def raw_key(prefix: str, receipt: Receipt) -> str:
    """One object per receipt: a re-delivered event overwrites, never duplicates. The user
    id in the path lets erasure remove a user's raw data by prefix."""
    return f"{prefix}user_id={receipt.user_id}/{receipt.receipt_id}.json"


class S3RawZone:
    def __init__(self, client: Any, bucket: str, prefix: str) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def write(self, receipt: Receipt, response: Mapping[str, Any]) -> str:
        key = raw_key(self.prefix, receipt)
        body = {k: v for k, v in response.items() if k != "ResponseMetadata"}
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=json.dumps(body, separators=(",", ":")).encode(),
            ContentType="application/json",
        )
        return key
