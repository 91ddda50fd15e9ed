"""Where the lake lives: a local folder (local mode, tests) or the lake bucket (Glue).

The driver reads and writes small objects (manifests, state, reports, tombstones) through
this interface; Spark reads and writes the data itself at ``uri(key)``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Protocol


class LakeStore(Protocol):
    def uri(self, key: str) -> str: ...

    def read_text(self, key: str) -> str | None: ...

    def write_text(self, key: str, text: str) -> None: ...

    def list_keys(self, prefix: str) -> list[str]: ...

    def delete_prefix(self, prefix: str) -> None: ...


class LocalStore:
    """The lake below a folder, as ``.local/lake/`` in local mode."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def uri(self, key: str) -> str:
        # A plain path, not as_uri(): Hadoop would take its %-escapes ("run%3D") literally.
        return str(self.root / key) + ("/" if key.endswith("/") else "")

    def read_text(self, key: str) -> str | None:
        path = self.root / key
        return path.read_text() if path.is_file() else None

    def write_text(self, key: str, text: str) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text)
        tmp.replace(path)

    def list_keys(self, prefix: str) -> list[str]:
        base = self.root / prefix
        folder = base if prefix.endswith("/") else base.parent
        if not folder.is_dir():
            return []
        keys = (p.relative_to(self.root).as_posix() for p in folder.rglob("*") if p.is_file())
        return sorted(k for k in keys if k.startswith(prefix))

    def delete_prefix(self, prefix: str) -> None:
        shutil.rmtree(self.root / prefix, ignore_errors=True)


class S3Store:
    """The lake bucket, through boto3 (Glue's own)."""

    def __init__(self, bucket: str, client: Any) -> None:
        self.bucket = bucket
        self.client = client

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def read_text(self, key: str) -> str | None:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            return None
        text: str = response["Body"].read().decode("utf-8")
        return text

    def write_text(self, key: str, text: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=text.encode("utf-8"))

    def list_keys(self, prefix: str) -> list[str]:
        keys: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
        return keys

    def delete_prefix(self, prefix: str) -> None:
        keys = self.list_keys(prefix)
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
