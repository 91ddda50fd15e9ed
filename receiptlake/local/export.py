"""A DynamoDB export to S3 written the way AWS writes one (DYNAMODB_JSON), from items.

Local mode has no ExportTableToPointInTime (moto does not implement it), so `receiptlake
local etl` writes the same folder layout, manifests and gzipped JSON lines itself; the
ETL job then reads it exactly as it reads a real export.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from glue_scripts import lake_schema as lake

ITEMS_PER_FILE = 50_000


def _line(item: Mapping[str, Any], incremental: bool, when_micros: int, deleted: bool) -> str:
    if not incremental:
        return json.dumps({"Item": item}, separators=(",", ":"))
    record: dict[str, Any] = {
        "Metadata": {"WriteTimestampMicros": {"N": str(when_micros)}},
        "Keys": {"PK": item["PK"], "SK": item["SK"]},
    }
    if not deleted:
        record["NewImage"] = item
    return json.dumps(record, separators=(",", ":"))


def write_export(
    lake_dir: Path,
    items: Iterable[Mapping[str, Any]],
    *,
    table_arn: str = "arn:aws:dynamodb:eu-west-1:000000000000:table/receiptlake-local-receipts",
    when: datetime | None = None,
    incremental_from: datetime | None = None,
    deleted: Iterable[Mapping[str, Any]] = (),
    items_per_file: int = ITEMS_PER_FILE,
) -> str:
    """Write a full export (or, with ``incremental_from``, an incremental one with
    ``deleted`` keys) of ``items`` below ``lake_dir/exports/``; returns the summary key."""
    when = when or datetime.now(UTC)
    micros = int(when.timestamp() * 1_000_000)
    export_id = f"{micros:020d}-{uuid.uuid4().hex[:8]}"
    base = f"{lake.EXPORTS_PREFIX}AWSDynamoDB/{export_id}/"
    (lake_dir / base / "data").mkdir(parents=True, exist_ok=True)
    incremental = incremental_from is not None
    records = [(item, False) for item in items] + [(key, True) for key in deleted]
    manifest_lines: list[str] = []
    for start in range(0, max(len(records), 1), items_per_file):
        chunk = records[start : start + items_per_file]
        if not chunk:
            break
        key = f"{base}data/{uuid.uuid4().hex}.json.gz"
        body = "".join(_line(i, incremental, micros, d) + "\n" for i, d in chunk).encode()
        data = gzip.compress(body, mtime=0)
        (lake_dir / key).write_bytes(data)
        manifest_lines.append(
            json.dumps(
                {
                    "itemCount": len(chunk),
                    "md5Checksum": hashlib.md5(data).hexdigest(),  # noqa: S324 - AWS's manifest field
                    "etag": hashlib.md5(data).hexdigest(),  # noqa: S324
                    "dataFileS3Key": key,
                }
            )
        )
    files_key = f"{base}manifest-files.json"
    (lake_dir / files_key).write_text("".join(line + "\n" for line in manifest_lines))
    summary: dict[str, Any] = {
        "version": "2023-08-01" if incremental else "2020-06-30",
        "exportArn": f"{table_arn}/export/{export_id}",
        "startTime": when.isoformat(),
        "endTime": when.isoformat(),
        "tableArn": table_arn,
        "exportTime": when.isoformat(),
        "s3Prefix": lake.EXPORTS_PREFIX,
        "manifestFilesS3Key": files_key,
        "itemCount": len(records),
        "outputFormat": "DYNAMODB_JSON",
        "exportType": "INCREMENTAL_EXPORT" if incremental else "FULL_EXPORT",
    }
    if incremental_from is not None:
        summary["incrementalExportSpecification"] = {
            "exportFromTime": incremental_from.isoformat(),
            "exportToTime": when.isoformat(),
            "exportViewType": "NEW_AND_OLD_IMAGES",
        }
    summary_key = f"{base}manifest-summary.json"
    (lake_dir / summary_key).write_text(json.dumps(summary, indent=1))
    return summary_key
