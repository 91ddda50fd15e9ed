"""Ingest benchmarks (figures go to the "Ingest" section of bench/README.md).

1. Overhead per receipt: the whole ingest path (process_sqs_message with the real S3 and
   DynamoDB adapters against in-process moto, Textract answered instantly from a recorded
   response) divided by the AWS calls it cannot avoid: read the object, one transaction,
   one raw-JSON write, in alternating rounds of 20 receipts on a fresh table. Goal <= 1.3x.
2. Handler import time (a cold-start proxy) divided by ``import boto3`` alone, each in fresh
   interpreters, median of several runs. Goal <= 1.5x.

Run: .venv/bin/python bench/bench_ingest.py [--receipts 200] [--imports 7]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "textract"
ROUND = 20  # receipts per timed round; rounds alternate between the two paths


class RecordedTextract:
    """Textract without the network: the recorded response of receipt.jpg, instantly."""

    def __init__(self, response: dict[str, Any]) -> None:
        self.response = response

    def analyze_expense(self, document_bytes: bytes, content_type: str) -> dict[str, Any]:
        return self.response


def bench_overhead(receipts: int) -> dict[str, Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }.items():
        os.environ.setdefault(name, value)
    import boto3
    from moto import mock_aws

    from lambda_src.common.model import Receipt
    from lambda_src.common.repository import ReceiptRepository
    from lambda_src.ingest.adapters.s3 import S3ObjectStore, S3RawZone
    from lambda_src.ingest.categorize import KeywordCategorizer
    from lambda_src.ingest.logic import Deps, Result, process_sqs_message
    from lambda_src.ingest.models import Settings
    from receiptlake.local.tables import create_receipts_table

    photo = (FIXTURES / "receipt.jpg").read_bytes()
    response = json.loads((FIXTURES / "mega_market_receipt.json").read_text())
    response.pop("ResponseMetadata", None)
    event_template = json.loads((REPO_ROOT / "tests" / "events" / "s3_object_created.json").read_text())

    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        ddb = boto3.client("dynamodb", region_name="eu-west-1")
        for bucket in ("uploads", "lake"):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        create_receipts_table(ddb, "receipts")
        repository = ReceiptRepository("receipts", ddb)
        settings = Settings(table_name="receipts", lake_bucket="lake")
        deps = Deps(
            textract=RecordedTextract(response),
            storage=S3ObjectStore(s3),
            repository=repository,
            categorizer=KeywordCategorizer(),
            raw_zone=S3RawZone(s3, "lake", settings.raw_prefix),
            settings=settings,
        )

        def prepare(prefix: str, count: int = ROUND) -> list[tuple[str, str]]:
            # Every round starts from an empty table: moto copies all tables for each
            # transaction (its rollback state), so a table that grew between rounds would
            # charge the later round for moto, not for the code under test.
            ddb.delete_table(TableName="receipts")
            create_receipts_table(ddb, "receipts")
            keys = []
            for i in range(count):
                rid = f"{prefix}{i}"
                key = f"uploads/u1/{rid}.jpg"
                repository.create_pending(Receipt(receipt_id=rid, user_id="u1", object_key=key))
                s3.put_object(Bucket="uploads", Key=key, Body=photo)
                keys.append((rid, key))
            return keys

        def body(key: str) -> str:
            event = json.loads(json.dumps(event_template))
            event["Records"][0]["s3"]["bucket"]["name"] = "uploads"
            event["Records"][0]["s3"]["object"]["key"] = key
            event["Records"][0]["s3"]["object"]["size"] = len(photo)
            return json.dumps(event)

        # The bare calls: the same object read, the same transaction (the receipt plus its
        # aggregate updates, as the repository writes it) and the same raw write.
        from lambda_src.ingest.normalize import normalize_expense

        def bare_round(keys: list[tuple[str, str]], *, with_owner_read: bool = False) -> float:
            # What to write is prepared outside the clock: only the three calls are timed
            # (four with the read of the receipt the key must belong to).
            prepared = []
            for rid, key in keys:
                pending = Receipt(receipt_id=rid, user_id="u1", object_key=key)
                result = normalize_expense(response, base=pending, ocr_engine="textract")
                raw = json.dumps(response).encode()
                prepared.append((rid, key, _transaction(repository, pending, result), raw))
            started = time.perf_counter()
            for rid, key, items, raw in prepared:
                if with_owner_read:
                    ddb.get_item(TableName="receipts", Key=owner_key(rid), ConsistentRead=True)
                data = s3.get_object(Bucket="uploads", Key=key)["Body"].read()
                ddb.transact_write_items(TransactItems=items)
                s3.put_object(Bucket="lake", Key=f"raw/{rid}.json", Body=raw)
                assert data
            return time.perf_counter() - started

        def owner_key(rid: str) -> dict[str, Any]:
            from lambda_src.common import keys as table_keys

            return {
                table_keys.PK: {"S": table_keys.user_pk("u1")},
                table_keys.SK: {"S": table_keys.receipt_sk(rid)},
            }

        def full_round(keys: list[tuple[str, str]]) -> float:
            started = time.perf_counter()
            for _, key in keys:
                (outcome,) = process_sqs_message(body(key), deps)
                assert outcome.result is Result.PROCESSED, outcome
            return time.perf_counter() - started

        # Warm up both paths (imports, moto's first-call costs), then alternate rounds.
        bare_round(prepare("warm-bare-", 5))
        full_round(prepare("warm-full-", 5))
        bare_times, read_times, full_times = [], [], []
        for round_no in range(max(1, receipts // ROUND)):
            bare_times.append(bare_round(prepare(f"b{round_no}-")))
            read_times.append(bare_round(prepare(f"r{round_no}-"), with_owner_read=True))
            full_times.append(full_round(prepare(f"f{round_no}-")))
    # Ratios of the rounds run back to back, then their median: the machine's speed drifts
    # by up to 2x over minutes, which a ratio of overall medians would mix in.
    ratios = [f / b for f, b in zip(full_times, bare_times, strict=True)]
    ratios_with_read = [f / r for f, r in zip(full_times, read_times, strict=True)]
    return {
        "bare_ms": statistics.median(bare_times) / ROUND * 1000,
        "bare_with_read_ms": statistics.median(read_times) / ROUND * 1000,
        "full_ms": statistics.median(full_times) / ROUND * 1000,
        "ratio": statistics.median(ratios),
        "ratio_with_read": statistics.median(ratios_with_read),
        "ratio_iqr": _iqr(ratios),
        "ratio_with_read_iqr": _iqr(ratios_with_read),
    }


def _iqr(values: list[float]) -> tuple[float, float]:
    quartiles = statistics.quantiles(values, n=4)
    return quartiles[0], quartiles[2]


def _transaction(repository: Any, old: Any, new: Any) -> list[dict[str, Any]]:
    """The TransactItems complete() sends for this receipt (the bare baseline's one transaction)."""
    from lambda_src.common import keys
    from lambda_src.common.repository import _serialize, aggregate_deltas, receipt_to_item

    new = new.model_copy(update={"version": 1})
    items: list[dict[str, Any]] = [
        {"Put": {"TableName": repository.table_name, "Item": _serialize(receipt_to_item(new))}}
    ]
    for (kind, month, currency, key), delta in aggregate_deltas(None, new).items():
        items.append({"Update": repository._aggregate_update(old.user_id, kind, month, currency, key, delta)})
    assert keys.PK
    return items


def lambda_site() -> Path:
    """The ingest asset as Lambda unpacks it into /var/task (stacks/lambda_assets.py lays it
    out), with two differences: wheels for this interpreter, since the asset's arm64/3.12
    ones cannot be imported here, and the boto3 of requirements.txt, which the Lambda
    runtime brings. Only what the asset ships is importable: dev packages (httpx, rich,
    moto) would otherwise be imported by the Tracer's patching and counted."""
    from stacks.lambda_assets import LAMBDA_SRC, assemble, install_requirements

    pins = (REPO_ROOT / "requirements.txt").read_text().split()
    boto3_pin = next(p for p in pins if p.startswith("boto3=="))
    deps = install_requirements(LAMBDA_SRC / "ingest" / "requirements.txt", extra=(boto3_pin,), here=True)
    site = REPO_ROOT / ".build" / "bench-lambda-site" / "ingest"
    shutil.rmtree(site, ignore_errors=True)
    assemble("ingest", site, deps)
    # Bytecode for every module, as a runtime with its .pyc would have: compiling is not
    # what this measures (see bench/README.md for the asset's bytecode).
    compileall.compile_dir(site, quiet=1, workers=0)
    return site


def lambda_environment(site: Path) -> dict[str, str]:
    """What the Lambda runtime and stacks/ingest_stack.py set that changes what an import
    does: LAMBDA_TASK_ROOT makes the X-Ray SDK use Lambda's sampling decision instead of
    building centralized-sampling clients, and Powertools patch what it finds."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    return {
        **keep,
        "PYTHONPATH": str(site),
        "LAMBDA_TASK_ROOT": str(site),
        "AWS_LAMBDA_FUNCTION_NAME": "receiptlake-dev-ingest",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "_HANDLER": "lambda_src.ingest.handler.handler",
        "TABLE_NAME": "receipts",
        "LAKE_BUCKET": "lake",
        "POWERTOOLS_SERVICE_NAME": "ingest",
        "POWERTOOLS_METRICS_NAMESPACE": "receiptlake",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


def _import_seconds(code: str, env: dict[str, str]) -> float:
    # -S: no site-packages of this venv, only the asset (PYTHONPATH) and the standard library.
    started = time.perf_counter()
    subprocess.run([sys.executable, "-S", "-c", code], check=True, env=env)
    return time.perf_counter() - started


# What the handler must import, alone on top of boto3: the floor the issue's own choices
# set (Powertools Logger, Metrics, Tracer and batch; a pydantic model). Tracer() is built as
# the handler builds it, which is when the X-Ray SDK patches modules; pydantic's top level
# imports lazily, so one small model is defined, which is what loads its machinery.
_POWERTOOLS = "import aws_lambda_powertools.logging, aws_lambda_powertools.metrics"
_TRACER = "from aws_lambda_powertools import Tracer; Tracer(service='ingest')"
_BATCH = "import aws_lambda_powertools.utilities.batch"
_MODEL = "from pydantic import BaseModel, Field\nclass M(BaseModel):\n    x: int = Field(0)"
LIBRARIES = {
    "Powertools Logger + Metrics": [_POWERTOOLS],
    "+ Tracer": [_POWERTOOLS, _TRACER],
    "+ batch": [_POWERTOOLS, _TRACER, _BATCH],
    "+ a pydantic model": [_POWERTOOLS, _TRACER, _BATCH, _MODEL],
}


def bench_imports(runs: int) -> dict[str, float]:
    site = lambda_site()
    env = lambda_environment(site)
    codes = {
        "python": "pass",
        "boto3": "import boto3",
        "handler": "import lambda_src.ingest.handler",
        **{name: "\n".join(["import boto3", *lines]) for name, lines in LIBRARIES.items()},
    }
    timings: dict[str, list[float]] = {name: [] for name in codes}
    for _ in range(runs):  # interleaved, so a busy machine slows each kind alike
        for name, code in codes.items():
            timings[name].append(_import_seconds(code, env))
    medians = {k: statistics.median(v) * 1000 for k, v in timings.items()}
    # Interpreter start-up is common to all and not an import; it is taken out.
    out = {f"{name}_ms": medians[name] - medians["python"] for name in codes if name != "python"}
    out["ratio"] = out["handler_ms"] / out["boto3_ms"]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--receipts", type=int, default=200)
    parser.add_argument("--imports", type=int, default=7)
    args = parser.parse_args()
    imports = bench_imports(args.imports)
    boto3_ms = imports["boto3_ms"]
    print(
        f"handler import (Lambda-shaped asset): {imports['handler_ms']:.0f} ms vs import boto3 "
        f"{boto3_ms:.0f} ms -> {imports['ratio']:.2f}x (goal <= 1.5x)"
    )
    for name in LIBRARIES:
        ms = imports[f"{name}_ms"]
        print(f"  floor, boto3 + {name}: {ms:.0f} ms -> {ms / boto3_ms:.2f}x")
    if args.receipts:  # --receipts 0: imports only
        overhead = bench_overhead(args.receipts)
        low, high = overhead["ratio_iqr"]
        print(
            f"ingest per receipt: {overhead['full_ms']:.2f} ms vs bare calls {overhead['bare_ms']:.2f} ms "
            f"(medians); paired rounds -> {overhead['ratio']:.2f}x, IQR {low:.2f}-{high:.2f} (goal <= 1.3x)"
        )
        low, high = overhead["ratio_with_read_iqr"]
        print(
            "  counting the read of the receipt the key must belong to as unavoidable too: "
            f"vs {overhead['bare_with_read_ms']:.2f} ms -> {overhead['ratio_with_read']:.2f}x, "
            f"IQR {low:.2f}-{high:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
