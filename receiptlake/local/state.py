"""Local state that survives a restart: saved under .local/state on shutdown, restored on start.

moto keeps everything in memory, so on shutdown the table's items, every object of the
local buckets and the local users are written out; on start they are loaded back. An
upload still PENDING is put back into its bucket, which re-sends its S3 event, so no
receipt is left unread by a restart.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

from receiptlake.local.provision import LocalResources, client
from receiptlake.local.users import LocalUser, create_user

STATE_VERSION = 1


class LocalState:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.manifest = directory / "state.json"
        self.items = directory / "dynamodb.jsonl"
        self.objects = directory / "s3"

    def exists(self) -> bool:
        return self.manifest.exists()

    def users(self) -> list[LocalUser]:
        if not self.exists():
            return []
        data = json.loads(self.manifest.read_text())
        return [LocalUser(**u) for u in data.get("users", [])]

    def clear(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)

    def save(self, resources: LocalResources, users: list[LocalUser]) -> dict[str, int]:
        tmp = self.directory.with_name(self.directory.name + ".saving")
        shutil.rmtree(tmp, ignore_errors=True)
        (tmp / "s3").mkdir(parents=True)
        counts = {"items": 0, "objects": 0, "users": len(users)}

        dynamodb = client("dynamodb", resources.endpoint, resources.region)
        with (tmp / "dynamodb.jsonl").open("w") as out:
            for page in dynamodb.get_paginator("scan").paginate(TableName=resources.names.table):
                for item in page["Items"]:
                    out.write(json.dumps(item) + "\n")
                    counts["items"] += 1

        s3 = client("s3", resources.endpoint, resources.region)
        content_types: dict[str, str] = {}
        for bucket in (
            resources.names.uploads_bucket,
            resources.names.lake_bucket,
            resources.names.models_bucket,
        ):
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                for obj in page.get("Contents", []):
                    response = s3.get_object(Bucket=bucket, Key=obj["Key"])
                    target = tmp / "s3" / bucket / obj["Key"]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(response["Body"].read())
                    content_types[f"{bucket}/{obj['Key']}"] = response.get("ContentType", "")
                    counts["objects"] += 1

        manifest = {
            "version": STATE_VERSION,
            "users": [asdict(u) for u in users],
            "content_types": content_types,
        }
        (tmp / "state.json").write_text(json.dumps(manifest, indent=1))
        (tmp / "state.json").chmod(0o600)  # it holds the local users' passwords
        # Swap in whole, so a crash mid-save never leaves half a state behind.
        shutil.rmtree(self.directory, ignore_errors=True)
        tmp.rename(self.directory)
        return counts

    def restore(self, resources: LocalResources) -> tuple[list[LocalUser], dict[str, int]]:
        data: dict[str, Any] = json.loads(self.manifest.read_text())
        if data.get("version") != STATE_VERSION:
            raise RuntimeError(
                f"{self.manifest} was written by another version: run `receiptlake local reset`"
            )
        users = [
            create_user(resources, u["email"], u["password"], sub=u["sub"]) for u in data.get("users", [])
        ]
        dynamodb = client("dynamodb", resources.endpoint, resources.region)
        batch: list[dict[str, Any]] = []
        counts = {"items": 0, "objects": 0, "users": len(users)}
        if self.items.exists():
            for line in self.items.read_text().splitlines():
                batch.append({"PutRequest": {"Item": json.loads(line)}})
                counts["items"] += 1
                if len(batch) == 25:
                    _write(dynamodb, resources.names.table, batch)
                    batch = []
        if batch:
            _write(dynamodb, resources.names.table, batch)

        s3 = client("s3", resources.endpoint, resources.region)
        content_types: dict[str, str] = data.get("content_types", {})
        for path in sorted(self.objects.rglob("*")):
            if not path.is_file():
                continue
            bucket, _, key = str(path.relative_to(self.objects)).partition("/")
            extra = {"ContentType": ct} if (ct := content_types.get(f"{bucket}/{key}")) else {}
            s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), **extra)
            counts["objects"] += 1
        return users, counts


def _write(dynamodb: Any, table: str, batch: list[dict[str, Any]]) -> None:
    request = {table: batch}
    while request:
        request = dynamodb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
