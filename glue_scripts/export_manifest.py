"""A DynamoDB export to S3 as its manifests describe it (DYNAMODB_JSON format).

An export folder ``{prefix}AWSDynamoDB/{export id}/`` holds ``manifest-summary.json`` (kind,
time, item count), ``manifest-files.json`` (one JSON line per data file: its key and item
count) and the gzipped data files. The item counts are what lets the job notice a partial
export: a data file that is missing or shorter than its manifest says.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from glue_scripts.store import LakeStore

FULL = "FULL_EXPORT"
INCREMENTAL = "INCREMENTAL_EXPORT"


class ExportError(ValueError):
    """The export cannot be used at all (no readable manifest); the message says which."""


@dataclass(frozen=True)
class DataFile:
    key: str
    item_count: int


@dataclass(frozen=True)
class ExportManifest:
    export_id: str
    kind: str  # FULL_EXPORT | INCREMENTAL_EXPORT
    export_time: datetime  # a full export's point in time; an incremental's end
    item_count: int
    files: tuple[DataFile, ...]
    problems: tuple[str, ...] = field(default=())

    @property
    def incremental(self) -> bool:
        return self.kind == INCREMENTAL

    @property
    def time_micros(self) -> int:
        return int(self.export_time.timestamp() * 1_000_000)


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def read_manifest(store: LakeStore, summary_key: str) -> ExportManifest:
    """The export whose ``manifest-summary.json`` is at ``summary_key``.

    Unreadable data-file lines are reported in ``problems`` and skipped, so one bad line
    never hides the other files."""
    text = store.read_text(summary_key)
    if text is None:
        raise ExportError(f"no export manifest at {store.uri(summary_key)}")
    try:
        summary = json.loads(text)
        kind = summary.get("exportType", FULL)
        spec = summary.get("incrementalExportSpecification") or {}
        when = _parse_time(spec.get("exportToTime") or summary.get("exportTime") or summary["endTime"])
        files_key = summary["manifestFilesS3Key"]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ExportError(f"export manifest {store.uri(summary_key)} is unreadable: {exc}") from exc
    files_text = store.read_text(files_key)
    if files_text is None:
        raise ExportError(f"export manifest lists {files_key}, which does not exist")
    files: list[DataFile] = []
    problems: list[str] = []
    for number, line in enumerate(files_text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            files.append(DataFile(str(entry["dataFileS3Key"]), int(entry["itemCount"])))
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(f"{files_key} line {number} unreadable: {exc}")
    export_id = summary_key.rstrip("/").split("/")[-2]
    return ExportManifest(
        export_id=export_id,
        kind=kind,
        export_time=when,
        item_count=int(summary.get("itemCount") or sum(f.item_count for f in files)),
        files=tuple(files),
        problems=tuple(problems),
    )
