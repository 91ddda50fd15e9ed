"""Where a running `receiptlake local up` can be reached: written beside the state
directory on start, removed on stop, read by `receiptlake ops --local` (another process,
which cannot otherwise know the port moto picked)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from receiptlake.local.provision import LocalNames, LocalResources


class LocalNotRunning(RuntimeError):
    """No local mode to talk to; the message says how to start one."""


def runtime_file(state_dir: Path) -> Path:
    # Beside, not inside: saving the state replaces the state directory whole.
    return state_dir.with_name(state_dir.name + ".running.json")


def write_runtime(state_dir: Path, resources: LocalResources, *, url: str) -> Path:
    path = runtime_file(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"pid": os.getpid(), "url": url, "resources": resources.to_json()}, indent=1))
    return path


def clear_runtime(state_dir: Path) -> None:
    path = runtime_file(state_dir)
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, but alive
    return True


def read_runtime(state_dir: Path) -> tuple[LocalResources, dict[str, Any]]:
    """The running local mode's resources (and the file's other fields)."""
    path = runtime_file(state_dir)
    start = "start it with `receiptlake local up` (or `make demo`) in another terminal"
    if not path.exists():
        raise LocalNotRunning(f"local mode is not running ({path} not found): {start}")
    data: dict[str, Any] = json.loads(path.read_text())
    if not _alive(int(data.get("pid", 0))):
        raise LocalNotRunning(f"local mode is not running (its process {data.get('pid')} has ended): {start}")
    raw = dict(data["resources"])
    raw["names"] = LocalNames(**raw["names"])
    return LocalResources(**raw), data
