"""Where a running local mode can be reached, for commands started beside it.

`receiptlake local up` keeps everything in moto's memory and saves it only when it stops,
so a command run meanwhile (`local etl`) must read the live table, not the saved state.
The platform writes ``{state dir}.running.json`` (endpoint, names, pid) on start and removes
it on stop; a file whose process is gone is stale and ignored.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunningLocalMode:
    endpoint: str
    region: str
    table: str
    lake_bucket: str
    pid: int


def marker_path(state_dir: Path) -> Path:
    return state_dir.with_name(state_dir.name + ".running.json")


def announce(state_dir: Path, running: RunningLocalMode) -> None:
    path = marker_path(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(running.__dict__))


def withdraw(state_dir: Path) -> None:
    marker_path(state_dir).unlink(missing_ok=True)


def find_running(state_dir: Path) -> RunningLocalMode | None:
    path = marker_path(state_dir)
    try:
        running = RunningLocalMode(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    try:
        os.kill(running.pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, someone else's
    return running
