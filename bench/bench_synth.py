"""Synth time of the whole app for dev, staging and prod (nag included), as `make synth` runs it."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RUNS = int(os.environ.get("BENCH_RUNS", "3"))


def main() -> int:
    times = []
    for _ in range(RUNS):
        outdir = tempfile.mkdtemp(prefix="bench-cdk-")
        env = {
            **os.environ,
            "RECEIPTLAKE_ENV": "all",
            "CDK_OUTDIR": outdir,
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        }
        start = time.perf_counter()
        subprocess.run([sys.executable, "app.py"], cwd=REPO_ROOT, env=env, check=True)
        times.append(time.perf_counter() - start)
        assemblies = sorted(p.name for p in Path(outdir).glob("assembly-*"))
        shutil.rmtree(outdir)
    print(
        f"synth, 3 environments ({', '.join(assemblies)}): "
        f"median {statistics.median(times):.1f} s, min {min(times):.1f} s over {RUNS} runs (goal <= 10 s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
