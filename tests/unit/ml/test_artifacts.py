"""The models store: a local folder and the S3 bucket behave the same."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from ml import artifacts


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[artifacts.Store]:
    if request.param == "local":
        yield artifacts.store_for(str(tmp_path))
        return
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(Bucket="models", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        yield artifacts.store_for("s3://models/prefix", s3=s3)


def test_put_get_delete(store: artifacts.Store) -> None:
    assert store.get("runs/v1/a.json") is None
    store.put("runs/v1/a.json", b"1")
    store.put("runs/v1/b/c.bin", b"2")
    store.put("checkpoints/current.json", b"{}")
    assert store.get("runs/v1/a.json") == b"1"
    store.delete_prefix("runs/v1/")
    assert store.get("runs/v1/a.json") is None and store.get("runs/v1/b/c.bin") is None
    store.delete("checkpoints/current.json")
    assert store.get("checkpoints/current.json") is None


def test_latest_points_at_a_run(store: artifacts.Store) -> None:
    assert artifacts.latest(store) is None and artifacts.latest_artifact(store, "categorizer.npz") is None
    store.put(artifacts.run_key("v2", "categorizer.npz"), b"weights")
    artifacts.write_json(store, artifacts.LATEST, {"version": "v2"})
    assert artifacts.latest_artifact(store, "categorizer.npz") == b"weights"


def test_a_local_key_cannot_leave_the_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="leaves the store"):
        artifacts.LocalStore(tmp_path / "models").put("../outside", b"x")
