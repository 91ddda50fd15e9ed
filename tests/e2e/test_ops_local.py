"""`receiptlake local up` tells where the health figures are, and `receiptlake ops ... --local`
reads them from the running local mode (another process, as a person would run it)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO_ROOT, LocalMode

pytestmark = pytest.mark.e2e


def ops(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "receiptlake.cli", "ops", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_local_up_points_to_the_ops_summary_which_reads_the_running_platform(
    local_mode_factory: type[LocalMode], tmp_path: Path
) -> None:
    # Given local mode started as a person starts it
    state_dir = tmp_path / "state"
    mode = local_mode_factory(state_dir=state_dir).start()
    # Then its banner names the command that shows the health figures
    banner = "".join(mode.output)
    hint = re.search(r"receiptlake (ops summary --local[^\n]*)", banner)
    assert hint, banner
    assert f"--state-dir {state_dir}" in hint.group(1)
    # And that command, run elsewhere, answers from the running platform
    done = ops("summary", "--local", "--state-dir", str(state_dir), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["dlq"] == {"visible": 0, "in_flight": 0}
    assert summary["objects_without_record"] == 0
    # And once stopped, it says local mode is not running instead of hanging
    mode.stop()
    done = ops("reconcile", "--local", "--state-dir", str(state_dir))
    assert done.returncode == 2 and "local mode is not running" in done.stderr
