"""The run's AWS side: the lake's Parquet read straight from S3 (the instance role reads
``curated/`` and ``tombstones/``; no Athena needed) and the erased users' tombstones."""

from __future__ import annotations

import os
from typing import Any

from glue_scripts import lake_schema as schema
from ml.pipeline import Lake


def read_s3_table(bucket: str, table: str, *, region: str | None = None) -> Any:
    import pyarrow as pa
    import pyarrow.dataset as ds
    from pyarrow import fs

    spec = schema.TABLES_BY_NAME[table]
    partitioning = ds.partitioning(
        pa.schema([pa.field(name, pa.int32()) for name, _ in schema.PARTITION_KEYS]), flavor="hive"
    )
    # boto3 honours AWS_ENDPOINT_URL(_S3); pyarrow's own S3 client is told explicitly, so
    # both reach the same S3 (a VPC endpoint's or, in the tests, moto's).
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    dataset = ds.dataset(
        f"{bucket}/{spec.prefix}",
        filesystem=fs.S3FileSystem(region=region, endpoint_override=endpoint),
        format="parquet",
        partitioning=partitioning,
    )
    return dataset.to_table().to_pandas()


def read_s3_lake(bucket: str, *, region: str | None = None) -> Lake:
    return Lake(
        read_s3_table(bucket, "receipts", region=region), read_s3_table(bucket, "line_items", region=region)
    )


def erased_users(s3: Any, bucket: str) -> set[str]:
    """Users erased since the lake was written: their insights must not come back."""
    users: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=schema.TOMBSTONES_PREFIX):
        for obj in page.get("Contents", []):
            name = obj["Key"][len(schema.TOMBSTONES_PREFIX) :]
            if name.endswith(".json") and "/" not in name:
                users.add(name[: -len(".json")])
    return users
