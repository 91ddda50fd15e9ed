"""Reading a DynamoDB export's manifests (as AWS writes them; receiptlake.local.export)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from glue_scripts.export_manifest import ExportError, read_manifest
from glue_scripts.store import LocalStore
from receiptlake.local.export import write_export

WHEN = datetime(2026, 3, 5, 3, 0, tzinfo=UTC)
ITEM = {"PK": {"S": "USER#u"}, "SK": {"S": "RECEIPT#r"}}


def test_a_full_export_lists_its_files_and_counts(tmp_path: Path) -> None:
    key = write_export(tmp_path, [ITEM] * 5, when=WHEN, items_per_file=2)
    manifest = read_manifest(LocalStore(tmp_path), key)
    assert (manifest.kind, manifest.incremental, manifest.export_time) == ("FULL_EXPORT", False, WHEN)
    assert [f.item_count for f in manifest.files] == [2, 2, 1]
    assert manifest.item_count == 5 and manifest.problems == ()
    assert all((tmp_path / f.key).is_file() for f in manifest.files)
    assert manifest.export_id in key


def test_an_incremental_export_ends_at_its_to_time(tmp_path: Path) -> None:
    start = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)
    key = write_export(tmp_path, [ITEM], when=WHEN, incremental_from=start, deleted=[ITEM])
    manifest = read_manifest(LocalStore(tmp_path), key)
    assert manifest.incremental and manifest.export_time == WHEN and manifest.item_count == 2


def test_unreadable_manifest_lines_are_reported_not_fatal(tmp_path: Path) -> None:
    key = write_export(tmp_path, [ITEM] * 3, when=WHEN, items_per_file=1)
    files = tmp_path / json.loads((tmp_path / key).read_text())["manifestFilesS3Key"]
    lines = files.read_text().splitlines()
    files.write_text("\n".join([lines[0], "{broken", lines[2]]) + "\n")
    manifest = read_manifest(LocalStore(tmp_path), key)
    assert len(manifest.files) == 2
    assert len(manifest.problems) == 1 and "line 2" in manifest.problems[0]


def test_a_missing_or_broken_summary_names_the_export(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="no export manifest"):
        read_manifest(LocalStore(tmp_path), "exports/AWSDynamoDB/x/manifest-summary.json")
    broken = tmp_path / "exports/AWSDynamoDB/y/manifest-summary.json"
    broken.parent.mkdir(parents=True)
    broken.write_text('{"exportType": "FULL_EXPORT"}')
    with pytest.raises(ExportError, match="unreadable"):
        read_manifest(LocalStore(tmp_path), "exports/AWSDynamoDB/y/manifest-summary.json")


def test_local_store_round_trip_and_listing(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.write_text("etl/state.json", "{}")
    store.write_text("tombstones/a.json", "{}")
    assert store.read_text("etl/state.json") == "{}"
    assert store.read_text("etl/missing.json") is None
    assert store.list_keys("tombstones/") == ["tombstones/a.json"]
    assert store.list_keys("nothing/") == []
    assert store.uri("curated/receipts/").endswith("/curated/receipts/")
    assert "%3D" not in store.uri("staging/items/run=1/")


def test_s3_store_round_trip_listing_and_delete(aws_credentials: None) -> None:
    import boto3
    from moto import mock_aws

    from glue_scripts.store import S3Store

    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(Bucket="lake", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        store = S3Store("lake", s3)
        for n in range(3):
            store.write_text(f"staging/items/run={n}/part.parquet", "x")
        assert store.read_text("staging/items/run=0/part.parquet") == "x"
        assert store.read_text("etl/state.json") is None
        store.delete_prefix("staging/items/run=1/")
        assert store.list_keys("staging/") == [
            "staging/items/run=0/part.parquet",
            "staging/items/run=2/part.parquet",
        ]
        assert store.uri("curated/receipts/") == "s3://lake/curated/receipts/"
