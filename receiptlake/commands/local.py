"""`receiptlake local up | seed | reset | etl | train`: the platform on this machine."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

from receiptlake.local.etl import DEFAULT_LAKE_DIR
from receiptlake.local.platform import DEFAULT_DIST, DEFAULT_STATE_DIR


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("local", help="run the whole platform locally (no AWS account)")
    commands = parser.add_subparsers(dest="local_command", required=True, metavar="ACTION")

    up = commands.add_parser("up", help="start local mode; Ctrl-C stops it and saves the state")
    up.add_argument(
        "--port", type=int, default=int(os.environ.get("PORT", "8000")), help="default 8000 or $PORT"
    )
    up.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    up.add_argument("--webapp-dist", type=Path, default=DEFAULT_DIST)
    up.add_argument("--no-seed", action="store_true", help="start without sample receipts")
    up.set_defaults(func=_up)

    seed = commands.add_parser("seed", help="add the sample receipts to the saved local state")
    seed.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    seed.set_defaults(func=_seed)

    reset = commands.add_parser("reset", help="forget all local data (users, receipts, images)")
    reset.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    reset.set_defaults(func=_reset)

    etl = commands.add_parser(
        "etl", help="build the Parquet lake in .local/lake/ from the local table (the Glue job's code)"
    )
    etl.add_argument(
        "--state-dir", type=Path, default=DEFAULT_STATE_DIR, help="local mode's state (default .local/state)"
    )
    etl.add_argument(
        "--lake-dir", type=Path, default=DEFAULT_LAKE_DIR, help="where the lake goes (default .local/lake)"
    )
    etl.add_argument("--json", action="store_true", help="print the run's full report as JSON")
    etl.set_defaults(func=_etl)

    train = commands.add_parser(
        "train", help="train and evaluate the models on the local lake; write the local users' insights"
    )
    train.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    train.add_argument("--lake-dir", type=Path, default=DEFAULT_LAKE_DIR)
    train.add_argument("--as-of", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)")
    train.add_argument("--epochs", type=int, default=None, help="categorizer epochs (default: the config's)")
    train.set_defaults(func=_train)


def _up(args: argparse.Namespace) -> int:
    from receiptlake.local.platform import LocalPlatform

    platform = LocalPlatform(
        port=args.port, state_dir=args.state_dir, dist=args.webapp_dist, seed_samples=not args.no_seed
    )
    print(f"starting local mode (state in {args.state_dir}) ...", flush=True)
    platform.start()
    print(f"\nreceiptlake is running at {platform.url}", flush=True)
    for user in platform.users:
        print(f"  sign in as {user.email}  password {user.password}", flush=True)
    print(f"  local AWS (moto) at {platform.aws.endpoint if platform.aws else '?'}", flush=True)
    state = "" if args.state_dir == DEFAULT_STATE_DIR else f" --state-dir {args.state_dir}"
    print(
        f"  health (queues, receipts by status, stuck uploads): receiptlake ops summary --local{state}",
        flush=True,
    )
    print(
        f"  the lake (Parquet for notebooks): receiptlake local etl{state}, then "
        "receiptlake.lake.read('receipts')",
        flush=True,
    )
    print("Ctrl-C stops every part and saves the state.\n", flush=True)
    platform.serve()
    print("stopped; state saved.", flush=True)
    return 0


def _seed(args: argparse.Namespace) -> int:
    from receiptlake.local.platform import LocalPlatform
    from receiptlake.local.seed import seed

    platform = LocalPlatform(state_dir=args.state_dir, seed_samples=False).start()
    try:
        created = seed(platform.resources, platform.users[0].sub)  # type: ignore[arg-type]
    finally:
        platform.stop()
    email = platform.users[0].email
    print(
        f"{created} sample receipts added for {email}"
        if created
        else f"the sample receipts of {email} are already there"
    )
    return 0


def _reset(args: argparse.Namespace) -> int:
    from receiptlake.local.state import LocalState

    state = LocalState(args.state_dir)
    existed = state.exists()
    state.clear()
    print(f"local state {'cleared' if existed else 'was already empty'}: {args.state_dir}")
    return 0


def _etl(args: argparse.Namespace) -> int:
    """Exit 0: the lake was written; 1: a quality check failed (the lake was left as it
    was); 2: there is no local data to export."""
    from glue_scripts.quality import QualityError
    from receiptlake.local.etl import NoLocalData, run_local_etl

    try:
        report, source = run_local_etl(args.state_dir, args.lake_dir)
    except NoLocalData as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except QualityError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(f"report: {args.lake_dir / 'etl' / 'runs'}", file=sys.stderr)
        return 1
    if args.json:
        print(report.as_json())
        return 0
    print(format_etl_report(report, source.description, args.lake_dir))
    return 0


def format_etl_report(report: Any, source: str, lake_dir: Path) -> str:
    """The stable summary `receiptlake local etl` prints (scripts may parse the table rows)."""

    def counts(found: dict[str, int]) -> str:
        return ", ".join(f"{k}={v}" for k, v in sorted(found.items())) or "none"

    export = report.export
    lines = [
        f"source: {source}",
        f"export: {export['id']} {export['kind']} {export['items']} items"
        + (" (PARTIAL: see problems)" if export.get("partial") else ""),
        f"{'table':<12} {'rows':>8} {'files':>6}  path",
    ]
    for name, table in report.tables.items():
        path = Path(table["path"].removeprefix("file://"))
        shown = path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
        lines.append(f"{name:<12} {table['rows']:>8} {table['files']:>6}  {shown}/")
    passed = sum(1 for c in report.checks if c["passed"])
    lines += [
        f"quarantined: {counts(report.quarantined)}",
        f"flagged: {counts(report.flagged)}",
        f"older versions dropped: {report.superseded}; erased users: {report.erased['users']} "
        f"({report.erased['receipts']} receipts)",
        f"checks: {passed}/{len(report.checks)} passed",
        f"seconds: {report.duration_seconds:.1f}",
        f"report: {lake_dir / 'etl' / 'runs' / (report.run_id + '.json')}",
    ]
    lines += [f"problem: {p}" for p in report.problems]
    return "\n".join(lines)


def _train(args: argparse.Namespace) -> int:
    """Exit 0: the run finished (promoted or not); 2: no local lake or state; 130: stopped
    by Ctrl-C after saving a checkpoint (run it again to resume)."""
    import signal
    import threading

    from ml.__main__ import summary
    from ml.categorizer.torch_model import Interrupted
    from receiptlake.local.etl import NoLocalData
    from receiptlake.local.train import BarProgress, run_local_train

    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda _s, _f: stop.set())
    progress = BarProgress()
    try:
        report, target = run_local_train(
            args.state_dir,
            args.lake_dir,
            as_of=args.as_of or date.today(),
            epochs=args.epochs,
            progress=progress,
            should_stop=stop.is_set,
        )
    except NoLocalData as exc:
        progress.close()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Interrupted as exc:
        progress.close()
        print(f"stopped: {exc}; run `receiptlake local train` again to resume", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, previous)
    progress.close()
    print(summary(report))
    print(f"target: {target.description}")
    return 0
