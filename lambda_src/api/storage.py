"""Where a user's files live, and the S3 calls the API makes on them.

Every key is built from the caller's ``sub``; nothing here takes a key from a request.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

from botocore.exceptions import ClientError

from lambda_src.api.deps import Deps
from lambda_src.api.schemas import ALLOWED_CONTENT_TYPES, PresignedPost


def upload_prefix(sub: str) -> str:
    return f"uploads/{sub}/"


def upload_key(sub: str, receipt_id: str, content_type: str) -> str:
    return f"{upload_prefix(sub)}{receipt_id}.{ALLOWED_CONTENT_TYPES[content_type]}"


def raw_prefix(sub: str) -> str:
    return f"raw/textract/{sub}/"


def raw_key(sub: str, receipt_id: str) -> str:
    return f"{raw_prefix(sub)}{receipt_id}.json"


def tombstone_key(sub: str) -> str:
    return f"tombstones/{sub}.json"


def presign_upload(deps: Deps, key: str, content_type: str) -> PresignedPost:
    """A browser upload slot for exactly one key, one content type and at most the size
    limit; S3 refuses anything else because the conditions are part of the signed policy."""
    settings = deps.settings
    post = deps.s3_presign.generate_presigned_post(
        Bucket=settings.uploads_bucket,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[
            {"bucket": settings.uploads_bucket},
            ["eq", "$key", key],
            ["eq", "$Content-Type", content_type],
            ["content-length-range", 1, settings.max_upload_bytes],
        ],
        ExpiresIn=settings.upload_url_ttl_seconds,
    )
    return PresignedPost(url=post["url"], fields={k: str(v) for k, v in post["fields"].items()})


def object_size(deps: Deps, key: str) -> int | None:
    """The object's size, or None when it does not exist (never uploaded, or erased)."""
    try:
        head = deps.s3.head_object(Bucket=deps.settings.uploads_bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return int(head.get("ContentLength", 0))


def image_url(deps: Deps, sub: str, key: str | None) -> str | None:
    if not key or not key.startswith(upload_prefix(sub)):
        return None  # only ever sign the caller's own prefix
    if object_size(deps, key) is None:
        return None
    url: str = deps.s3_presign.generate_presigned_url(
        "get_object",
        Params={"Bucket": deps.settings.uploads_bucket, "Key": key},
        ExpiresIn=deps.settings.image_url_ttl_seconds,
    )
    return url


def delete_prefix(s3: Any, bucket: str, prefix: str, *, exact: bool = False) -> int:
    """Delete every version of every object under ``prefix`` (versioned buckets keep
    old versions after a plain delete; erasure must not). Returns the number of keys."""
    keys: set[str] = set()
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        batch = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            if not exact or v["Key"] == prefix
        ]
        keys.update(
            v["Key"]
            for v in page.get("Versions", [])
            if v.get("IsLatest") and (not exact or v["Key"] == prefix)
        )
        for start in range(0, len(batch), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": batch[start : start + 1000], "Quiet": True})
    return len(keys)


def delete_object(s3: Any, bucket: str, key: str) -> int:
    return delete_prefix(s3, bucket, key, exact=True)


def write_tombstone(deps: Deps, sub: str, erased: dict[str, int]) -> str:
    key = tombstone_key(sub)
    body = {"user_id": sub, "requested_at": datetime.now(UTC).isoformat(), "erased": erased}
    deps.s3.put_object(
        Bucket=deps.settings.lake_bucket,
        Key=key,
        Body=json.dumps(body).encode(),
        ContentType="application/json",
    )
    return key


def s3_notification(deps: Deps, key: str, size: int) -> dict[str, Any]:
    """The body S3 would put on the ingest queue for this object, so a retry takes the
    exact path of a fresh upload (keys URL-encoded as S3 does it)."""
    bucket = deps.settings.uploads_bucket
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": deps.settings.aws_region,
                "eventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                "eventName": "ObjectCreated:Post",
                "userIdentity": {"principalId": "receiptlake-api-retry"},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "receiptlake-api-retry",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": quote_plus(key), "size": size},
                },
            }
        ]
    }
