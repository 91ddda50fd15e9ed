"""ETL benchmark: the Glue job's pipeline (glue_scripts.pipeline.run_etl) on local Spark.

    PYTHONPATH=. .venv/bin/python bench/bench_etl.py [--receipts N] [--items-per-receipt K] [--keep DIR]

Generates N synthetic receipts (default 100,000, about K=6 line items each) as the typed
DynamoDB items the repository writes (receipt_to_item + TypeSerializer; the first receipts
are built both ways and compared), plus corrections and aggregate items, deterministically
from --seed, and writes them as a full DynamoDB export (DYNAMODB_JSON, write_export) and an
incremental one (1% of receipts changed, 0.1% deleted). Generation runs in a child process,
so the Python peak RSS printed for the ETL is the driver's own; its time is printed apart.

Then, in this process: one cold run_etl on the full export (fresh SparkSession, no warm-up,
as the scheduled job runs), and a second run_etl on the incremental export (same session).
Prints wall seconds, receipts/s and line items/s, rows and files per table, the quality
checks, peak memory (this process's max RSS and the Spark JVM's VmHWM), the JVM's CPU
seconds, the CPU count and the load average before and after. Asserts nothing about time;
exits 1 when a quality check failed. --profile times each Spark action (count, collect,
first, parquet/json writes) and prints the costliest with the pipeline line that ran it.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
import traceback
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from etl_data import build_exports  # bench/ is on sys.path when run as a script


# ---- measuring ------------------------------------------------------------------------
def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for path in Path("/proc").iterdir():
        entry = path.name
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children[ppid].append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def spark_jvm_pid() -> int | None:
    for pid in descendants(os.getpid()):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmd and cmd[0].endswith(b"java") and b"org.apache.spark.deploy.SparkSubmit" in cmd:
            return pid
    return None


def proc_status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


class ActionTimer:
    """--profile: wall seconds of every Spark action, by the pipeline line that ran it."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, str, str]] = []
        self._depth = 0

    def install(self) -> None:
        from pyspark.sql import DataFrame, DataFrameWriter

        for cls, names in (
            (DataFrame, ("count", "collect", "first")),
            (DataFrameWriter, ("parquet", "json")),
        ):
            for name in names:
                setattr(cls, name, self._wrap(getattr(cls, name), f"{cls.__name__}.{name}"))

    def _wrap(self, fn: Callable[..., Any], label: str) -> Callable[..., Any]:
        timer = self

        def timed(*a: Any, **kw: Any) -> Any:
            if timer._depth:
                return fn(*a, **kw)
            # The glue_scripts frames that led here, outermost first: pipeline.py:211>147.
            frames = [fr for fr in traceback.extract_stack()[:-1] if "glue_scripts" in fr.filename]
            where = (
                ">".join(
                    (
                        f"{Path(fr.filename).name}:"
                        if i == 0 or Path(fr.filename).name != Path(frames[i - 1].filename).name
                        else ""
                    )
                    + str(fr.lineno)
                    for i, fr in enumerate(frames)
                )
                or "?"
            )
            timer._depth += 1
            start = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                timer._depth -= 1
                timer.samples.append((time.perf_counter() - start, label, where))

        return timed

    def report(self, title: str) -> None:
        if not self.samples:
            return
        by_line: dict[tuple[str, str], list[float]] = defaultdict(list)
        for seconds, label, where in self.samples:
            by_line[(where, label)].append(seconds)
        total = sum(s for s, _, _ in self.samples)
        print(
            f"\n  Spark actions, {title}: {len(self.samples)} actions, {total:.1f} s in all (costliest first)"
        )
        for (where, label), secs in sorted(by_line.items(), key=lambda kv: -sum(kv[1]))[:15]:
            print(f"    {sum(secs):6.2f} s  {len(secs):2d}x {label:24s} {where}")
        self.samples.clear()


def run_once(
    title: str,
    spark: Any,
    lake_dir: Path,
    summary_key: str,
    erased: list[str],
    receipts: int,
    line_items: int,
    timer: ActionTimer | None,
    unit: str = "receipts",
) -> dict[str, Any]:
    from glue_scripts.metrics import RecordingPublisher
    from glue_scripts.pipeline import run_etl
    from glue_scripts.quality import QualityError
    from glue_scripts.store import LocalStore

    jvm = spark_jvm_pid()
    cpu_before = proc_cpu_seconds(jvm) if jvm else 0.0
    py_cpu_before = time.process_time()
    load_before = os.getloadavg()
    start = time.perf_counter()
    error = None
    try:
        report = run_etl(
            spark, LocalStore(lake_dir), summary_key, erased_users=erased, publisher=RecordingPublisher()
        )
    except QualityError as exc:
        error = str(exc)
        runs = sorted((lake_dir / "etl" / "runs").glob("*.json"))
        report = None
        checks = json.loads(runs[-1].read_text())["checks"] if runs else []
    seconds = time.perf_counter() - start
    load_after = os.getloadavg()
    if report is not None:
        checks = report.checks
    result: dict[str, Any] = {
        "title": title,
        "seconds": seconds,
        "receipts_per_s": receipts / seconds,
        "line_items_per_s": line_items / seconds,
        "tables": report.tables if report else {},
        "checks_passed": sum(1 for c in checks if c["passed"]),
        "checks": len(checks),
        "failed": [c for c in checks if not c["passed"]],
        "error": error,
        "quarantined": report.quarantined if report else {},
        "flagged": report.flagged if report else {},
        "erased": report.erased if report else {},
        "superseded": report.superseded if report else None,
        "source": report.source if report else {},
        "py_max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "py_cpu_s": time.process_time() - py_cpu_before,
        "jvm_hwm_mb": proc_status_kb(jvm, "VmHWM") / 1024 if jvm else None,
        "jvm_cpu_s": proc_cpu_seconds(jvm) - cpu_before if jvm else None,
        "load_before": load_before,
        "load_after": load_after,
    }
    rate = f"{result['receipts_per_s']:,.0f} {unit}/s"
    if line_items:
        rate += f", {result['line_items_per_s']:,.0f} line items/s of input"
    print(f"\n== {title}: {seconds:.1f} s wall  ({rate})")
    for name, t in result["tables"].items():
        print(f"  {name:12s} {t['rows']:>9,} rows  {t['files']:>4} files")
    print(
        f"  quality checks passed: {result['checks_passed']}/{result['checks']}"
        + (f"  FAILED: {[c['name'] for c in result['failed']]}" if result["failed"] else "")
    )
    print(f"  source {result['source']}, superseded {result['superseded']}, erased {result['erased']}")
    print(f"  quarantined {result['quarantined']}, flagged {result['flagged']}")
    print(
        f"  peak memory: python driver max RSS {result['py_max_rss_mb']:.0f} MB, "
        f"Spark JVM VmHWM {result['jvm_hwm_mb'] or 0:.0f} MB (peak since the JVM started)"
    )
    print(
        f"  CPU: JVM {result['jvm_cpu_s'] or 0:.1f} s + python {result['py_cpu_s']:.1f} s over "
        f"{seconds:.1f} s wall = {((result['jvm_cpu_s'] or 0) + result['py_cpu_s']) / seconds:.2f} cores busy"
    )
    print(f"  load average before {fmt_load(load_before)}, after {fmt_load(load_after)}")
    if timer:
        timer.report(title)
    return result


def fmt_load(load: tuple[float, float, float]) -> str:
    return "/".join(f"{x:.2f}" for x in load)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receipts", type=int, default=100_000)
    parser.add_argument("--items-per-receipt", type=int, default=6, help="mean line items per read receipt")
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument(
        "--items-per-file",
        type=int,
        default=50_000,
        help="export lines per gz data file (write_export's default)",
    )
    parser.add_argument("--cores", type=int, default=None, help="local[N] (default: all CPUs)")
    parser.add_argument(
        "--keep", type=Path, help="write the lake here and keep it (default: a temp dir, removed)"
    )
    parser.add_argument("--skip-incremental", action="store_true", help="only the full-export run")
    parser.add_argument(
        "--profile", action="store_true", help="time each Spark action (adds a little overhead)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument(
        "--conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a Spark SQL setting on top of local_spark()'s, for experiments (repeatable)",
    )
    args = parser.parse_args()

    if args.keep:
        if args.keep.exists() and any(args.keep.iterdir()):
            parser.error(f"{args.keep} is not empty")
        args.keep.mkdir(parents=True, exist_ok=True)
        lake_dir = args.keep
    else:
        lake_dir = Path(tempfile.mkdtemp(prefix="bench-etl-"))
    try:
        print(
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} CPUs, "
            f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM, "
            f"Python {platform.python_version()}, lake in {lake_dir}"
        )
        print(f"load average at start {fmt_load(os.getloadavg())}")

        # Generation in a child process (fork, before any JVM exists): not part of the figures.
        receive, send = multiprocessing.Pipe(duplex=False)
        child = multiprocessing.get_context("fork").Process(target=build_exports, args=(lake_dir, args, send))
        child.start()
        send.close()
        gen = receive.recv()
        child.join()
        if child.exitcode:
            return child.exitcode
        print(
            f"generated {gen['receipts']:,} receipts with {gen['line_items']:,} line items, "
            f"{gen['corrections']:,} correction and {gen['aggregates']:,} aggregate items; "
            f"{gen['users']} users ({len(gen['erased_users'])} erased: "
            f"{gen['receipts_of_erased']:,} receipts), "
            f"currencies {', '.join(gen['currencies'])}, {gen['no_date']:,} without a date, "
            f"{gen['refunds']:,} refunds; "
            f"first {gen['checked_against_model']} items equal receipt_to_item's"
        )
        print(
            f"  build {gen['seconds_build']:.1f} s, write full export {gen['seconds_write_full']:.1f} s "
            f"({gen['export_files_full']} gz files), incremental ({gen['changed']:,} changed, "
            f"{gen['deleted']:,} deleted) {gen['seconds_write_incremental']:.1f} s; "
            f"{gen['export_bytes'] / 2**20:.0f} MiB gzipped; generator max RSS {gen['max_rss_mb']:.0f} MB"
        )
        gc.collect()

        timer = ActionTimer() if args.profile else None
        if timer:
            timer.install()
        from receiptlake.local.spark import local_spark

        start = time.perf_counter()
        spark = local_spark(args.cores)
        session_s = time.perf_counter() - start
        for setting in args.conf:
            key, _, value = setting.partition("=")
            spark.conf.set(key, value)
            print(f"experiment: {key}={value}")
        print(
            f"SparkSession (local[{args.cores or os.cpu_count()}], PySpark {spark.version}) started in "
            f"{session_s:.1f} s (not in the ETL figure)"
        )
        full = run_once(
            "full export, cold",
            spark,
            lake_dir,
            gen["full_key"],
            gen["erased_users"],
            gen["receipts"],
            gen["line_items"],
            timer,
        )
        incremental: dict[str, Any] = {"failed": [], "error": None}
        if not args.skip_incremental:
            incremental = run_once(
                "incremental export",
                spark,
                lake_dir,
                gen["incremental_key"],
                gen["erased_users"],
                gen["changed"] + gen["deleted"],
                0,
                timer,
                unit="changed or deleted receipts",
            )
        spark.stop()
        if args.json:
            args.json.write_text(
                json.dumps(
                    {"generation": gen, "session_s": session_s, "full": full, "incremental": incremental},
                    indent=1,
                    default=str,
                )
            )
        failed = full["failed"] or incremental["failed"] or full["error"] or incremental["error"]
        if failed:
            print(
                f"\nquality check failed: {full['error'] or incremental['error'] or failed}", file=sys.stderr
            )
            return 1
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(lake_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
