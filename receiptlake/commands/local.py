"""`receiptlake local up | seed | reset | etl | train`: the platform on this machine."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

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

    for name, layer in (("etl", "ETL (Glue) layer"), ("train", "training layer")):
        later = commands.add_parser(name, help=f"run the {layer} locally (when that layer exists)")
        later.set_defaults(func=lambda args, layer=layer: _not_yet(layer))


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


def _not_yet(layer: str) -> int:
    print(f"error: the {layer} has not landed yet; nothing to run locally", file=sys.stderr)
    return 2
