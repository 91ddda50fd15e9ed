"""Local mode started for real: `receiptlake local up` in a subprocess on a free port."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_SECONDS = 180
CREDENTIALS = re.compile(r"sign in as (\S+)\s+password (\S+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalMode:
    state_dir: Path
    seed: bool = False
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None
    users: dict[str, str] = field(default_factory=dict)
    output: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LocalMode:
        command = [
            sys.executable,
            "-m",
            "receiptlake.cli",
            "local",
            "up",
            "--port",
            str(self.port),
            "--state-dir",
            str(self.state_dir),
        ]
        if not self.seed:
            command.append("--no-seed")
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_THREAD_LIMIT": "1"}
        self.process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group, as in a terminal
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            if match := CREDENTIALS.search(line):
                self.users[match.group(1)] = match.group(2)
            if "Ctrl-C stops" in line:
                break
            if time.monotonic() > deadline:
                break
        self._wait_until_serving(deadline)
        return self

    def _wait_until_serving(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.process is not None and self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError("local mode did not start:\n" + "".join(self.output[-40:]))

    def stop(self) -> str:
        """Ctrl-C, as a person would (the terminal signals the whole process group, children
        included); returns what it printed after."""
        if self.process is None:
            return ""
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            rest, _ = self.process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            rest, _ = self.process.communicate()
        self.process = None
        return rest


@pytest.fixture
def local_mode_factory(tmp_path: Path) -> Iterator[type[LocalMode]]:
    started: list[LocalMode] = []

    class Factory(LocalMode):
        def start(self) -> LocalMode:
            started.append(self)
            return super().start()

    yield Factory
    for mode in started:
        mode.stop()


@pytest.fixture(scope="module")
def seeded_local_mode(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalMode]:
    """One local mode with the sample receipts, shared by the tests of a module."""
    mode = LocalMode(state_dir=tmp_path_factory.mktemp("seeded") / "state", seed=True)
    try:
        began = time.monotonic()
        mode.start()
        print(f"\nlocal mode with sample receipts serving after {time.monotonic() - began:.1f} s")
        yield mode
    finally:
        mode.stop()
