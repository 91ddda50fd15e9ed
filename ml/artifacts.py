"""The models bucket (or, locally, a folder with the same layout): versioned runs, the
``latest.json`` pointer and checkpoints.

    runs/{version}/{name}        artifacts of one run (categorizer.npz, metrics.json, ...)
    latest.json                  {"version", "promoted_at", "metrics"}: what ingest loads
    checkpoints/{run_id}/{name}  step outputs and training state, for resuming
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

LATEST = "latest.json"


class Store(Protocol):
    def get(self, key: str) -> bytes | None: ...
    def put(self, key: str, data: bytes) -> None: ...
    def delete(self, key: str) -> None: ...
    def delete_prefix(self, prefix: str) -> None: ...


class LocalStore:
    """A folder standing in for the bucket (local mode, tests, notebooks)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"key {key!r} leaves the store")
        return path

    def get(self, key: str) -> bytes | None:
        path = self._path(key)
        return path.read_bytes() if path.is_file() else None

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: a reader (or a crash) never sees half a file.
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(data)
        partial.replace(path)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> None:
        base = self._path(prefix)
        if base.is_dir():
            for path in sorted(base.rglob("*"), reverse=True):
                path.unlink() if path.is_file() else path.rmdir()
            base.rmdir()


class S3Store:
    """The models bucket. Bucket encryption (SSE-KMS by default) applies to every put."""

    def __init__(self, s3: Any, bucket: str, prefix: str = "") -> None:
        self.s3, self.bucket, self.prefix = s3, bucket, prefix

    def get(self, key: str) -> bytes | None:
        try:
            body: bytes = self.s3.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None
        return body

    def put(self, key: str, data: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data)

    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=self.prefix + key)

    def delete_prefix(self, prefix: str) -> None:
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})


def store_for(location: str, s3: Any = None) -> Store:
    """``s3://bucket[/prefix]`` or a local folder."""
    if location.startswith("s3://"):
        bucket, _, prefix = location[5:].partition("/")
        if s3 is None:
            import boto3

            s3 = boto3.client("s3")
        return S3Store(s3, bucket, f"{prefix.rstrip('/')}/" if prefix else "")
    return LocalStore(Path(location))


def run_key(version: str, name: str) -> str:
    return f"runs/{version}/{name}"


def read_json(store: Store, key: str) -> dict[str, Any] | None:
    data = store.get(key)
    return json.loads(data) if data is not None else None


def write_json(store: Store, key: str, value: dict[str, Any]) -> None:
    store.put(key, json.dumps(value, indent=2, sort_keys=True, default=str).encode())


def latest(store: Store) -> dict[str, Any] | None:
    return read_json(store, LATEST)


def latest_artifact(store: Store, name: str) -> bytes | None:
    """The promoted run's artifact (e.g. ``categorizer.npz``), or None before any run."""
    pointer = latest(store)
    return store.get(run_key(pointer["version"], name)) if pointer else None
