"""``python -m ml train``: one training run (the EC2 instances' user data and
``receiptlake local train`` both end here).

Exit codes: 0 the run finished (promoted or not, see the output); 1 it failed; 143 it was
interrupted (SIGTERM, e.g. a spot interruption) after saving its checkpoint, and the next
run resumes it.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from datetime import UTC, date, datetime
from types import FrameType
from typing import Any

INTERRUPTED = 143


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m ml", description=__doc__.split("\n\n")[0])
    commands = root.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="read the lake, train, evaluate, publish, write insights")
    train.add_argument("--env", required=True, help="environment name (dev, staging, prod)")
    train.add_argument("--lake-bucket", required=True, help="the lake bucket (reads curated/, tombstones/)")
    train.add_argument(
        "--models-bucket", required=True, help="the models bucket (runs/, latest.json, checkpoints/)"
    )
    train.add_argument("--table", required=True, help="the receipts table (insights items)")
    train.add_argument("--region", default=None)
    train.add_argument("--as-of", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)")
    train.add_argument("--epochs", type=int, default=None, help="categorizer epochs (default: the config's)")
    bundle = commands.add_parser(
        "bundle", help="train on the public labelled data only and write the model the ingest Lambda ships"
    )
    bundle.add_argument("--out", default=None, help="default: lambda_src/ingest/categorizer.npz")
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "bundle":
        return _bundle(args.out)
    import boto3

    from ml import metrics as run_metrics
    from ml.artifacts import S3Store
    from ml.aws import erased_users, read_s3_lake
    from ml.categorizer.torch_model import Interrupted, TorchConfig
    from ml.pipeline import Settings, dynamodb_writer, run

    stop = threading.Event()

    def on_term(_signum: int, _frame: FrameType | None) -> None:
        print("SIGTERM: checkpointing and stopping", file=sys.stderr, flush=True)
        stop.set()

    signal.signal(signal.SIGTERM, on_term)
    session = boto3.session.Session(region_name=args.region)
    s3, dynamodb = session.client("s3"), session.client("dynamodb")
    cloudwatch = session.client("cloudwatch")
    config = TorchConfig() if args.epochs is None else TorchConfig(epochs=args.epochs)
    started = time.monotonic()
    try:
        report = run(
            Settings(args.env, args.as_of or datetime.now(UTC).date(), config),
            S3Store(s3, args.models_bucket),
            lambda: read_s3_lake(args.lake_bucket, region=session.region_name),
            write_item=dynamodb_writer(dynamodb, args.table),
            erased_users=lambda: erased_users(s3, args.lake_bucket),
            should_stop=stop.is_set,
            progress=LogProgress(),
        )
    except Interrupted as exc:
        print(f"interrupted: {exc}", file=sys.stderr)
        return INTERRUPTED
    except Exception:
        run_metrics.emit(cloudwatch, args.env, failed=True, seconds=time.monotonic() - started)
        raise
    run_metrics.emit(cloudwatch, args.env, report=report)
    print(summary(report))
    return 0


def _bundle(out: str | None) -> int:
    """The model shipped inside the Lambda (used until a run promotes one): the same
    training, seeded, on ml/data only, so anyone can rebuild the same file."""
    import json
    from pathlib import Path

    from lambda_src.ingest.model_categorizer import BUNDLED_MODEL
    from ml.categorizer.torch_model import TorchConfig
    from ml.categorizer.train import train_categorizers
    from ml.labels import dataset

    result = train_categorizers(dataset(), "bundled-" + TorchConfig().describe(), TorchConfig())
    target = Path(out) if out else BUNDLED_MODEL
    target.write_bytes(result.shipped.to_bytes())
    shown = {k: v for k, v in result.metrics.items() if k != "classes"}
    print(json.dumps(shown, indent=2))
    print(f"wrote {target} ({target.stat().st_size} bytes, {result.metrics['shipped']})")
    return 0


class LogProgress:
    """Progress as log lines (an instance's console has no terminal for a bar)."""

    def step(self, name: str) -> None:
        print(f"step: {name}", flush=True)

    def epoch(self, epoch: int, total: int, macro_f1: float) -> None:
        print(f"epoch {epoch}/{total}: validation macro-F1 {macro_f1:.4f}", flush=True)

    def note(self, text: str) -> None:
        print(text, flush=True)


def summary(report: Any) -> str:
    """The stable lines a run prints (``receiptlake local train`` prints the same)."""
    cat = report.metrics["categorizer"]
    shipped = cat["shipped"]
    fc = report.metrics["forecast"]
    ratio = fc.get("ratio")
    lines = [
        f"run: {report.run_id}{' (resumed)' if report.resumed else ''}",
        f"version: {report.version}",
        *(
            f"categorizer {name}: held-out macro-F1 {f['macro_f1']:.4f}, accuracy {f['accuracy']:.4f}"
            + (" (shipped)" if name == shipped else "")
            for name, f in cat["test"].items()
        ),
        f"categorizer keyword rules: held-out macro-F1 {cat['test_keyword_rules']['macro_f1']:.4f}",
        f"categorizer in ingest ({shipped} + keyword rules below its floor): held-out macro-F1 "
        f"{cat['test_in_ingest']['macro_f1']:.4f}",
        f"forecast: backtest MAE ratio to seasonal-naive {'n/a' if ratio is None else f'{ratio:.3f}'} "
        f"({fc['n_points']} points, {fc['n_users']} users)",
        f"promoted: {'yes' if report.promoted else 'no'} ({report.decision})",
        f"insights: {report.users_with_insights} users",
        *(f"artifact: {a}" for a in report.artifacts),
        f"seconds: {report.seconds:.1f}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
