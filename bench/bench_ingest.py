"""Ingest benchmarks (figures go to the "Ingest" section of bench/README.md).

1. Overhead per receipt: the whole ingest path (process_sqs_message with the real S3 and
   DynamoDB adapters against in-process moto, Textract answered instantly from a recorded
   response) divided by the AWS calls it cannot avoid: read the object, one transaction,
   one raw-JSON write. Goal <= 1.3x.
2. Handler import time (a cold-start proxy) divided by ``import boto3`` alone, each in fresh
   interpreters, median of several runs. Goal <= 1.5x.

Run: .venv/bin/python bench/bench_ingest.py [--receipts 200] [--imports 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "textract"


class RecordedTextract:
    """Textract without the network: the recorded response of receipt.jpg, instantly."""

    def __init__(self, response: dict[str, Any]) -> None:
        self.response = response

    def analyze_expense(self, document_bytes: bytes, content_type: str) -> dict[str, Any]:
        return self.response


def bench_overhead(receipts: int) -> dict[str, float]:
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

        def prepare(prefix: str) -> list[tuple[str, str]]:
            keys = []
            for i in range(receipts):
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

        def bare_round(keys: list[tuple[str, str]]) -> float:
            # What to write is prepared outside the clock: only the three calls are timed.
            prepared = []
            for rid, key in keys:
                pending = Receipt(receipt_id=rid, user_id="u1", object_key=key)
                result = normalize_expense(response, base=pending, ocr_engine="textract")
                raw = json.dumps(response).encode()
                prepared.append((rid, key, _transaction(repository, pending, result), raw))
            started = time.perf_counter()
            for rid, key, items, raw in prepared:
                data = s3.get_object(Bucket="uploads", Key=key)["Body"].read()
                ddb.transact_write_items(TransactItems=items)
                s3.put_object(Bucket="lake", Key=f"raw/{rid}.json", Body=raw)
                assert data
            return time.perf_counter() - started

        def full_round(keys: list[tuple[str, str]]) -> float:
            started = time.perf_counter()
            for _, key in keys:
                (outcome,) = process_sqs_message(body(key), deps)
                assert outcome.result is Result.PROCESSED, outcome
            return time.perf_counter() - started

        # Warm up both paths (imports, moto's first-call costs), then alternate rounds.
        bare_round(prepare("warm-bare-")[:5])
        full_round(prepare("warm-full-")[:5])
        bare_times, full_times = [], []
        for round_no in range(3):
            bare_times.append(bare_round(prepare(f"b{round_no}-")))
            full_times.append(full_round(prepare(f"f{round_no}-")))
    bare = statistics.median(bare_times) / receipts * 1000
    full = statistics.median(full_times) / receipts * 1000
    return {"bare_ms": bare, "full_ms": full, "ratio": full / bare}


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


def _import_seconds(code: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "AWS_DEFAULT_REGION": "eu-west-1"}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    return time.perf_counter() - started


def bench_imports(runs: int) -> dict[str, float]:
    timings: dict[str, list[float]] = {"python": [], "boto3": [], "handler": []}
    for _ in range(runs):  # interleaved, so a busy machine slows each kind alike
        timings["python"].append(_import_seconds("pass"))
        timings["boto3"].append(_import_seconds("import boto3"))
        timings["handler"].append(_import_seconds("import lambda_src.ingest.handler"))
    medians = {k: statistics.median(v) * 1000 for k, v in timings.items()}
    # Interpreter start-up is common to both and not an import; it is taken out.
    boto3_ms = medians["boto3"] - medians["python"]
    handler_ms = medians["handler"] - medians["python"]
    return {"boto3_ms": boto3_ms, "handler_ms": handler_ms, "ratio": handler_ms / boto3_ms}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--receipts", type=int, default=200)
    parser.add_argument("--imports", type=int, default=7)
    args = parser.parse_args()
    imports = bench_imports(args.imports)
    print(
        f"handler import: {imports['handler_ms']:.0f} ms vs import boto3 {imports['boto3_ms']:.0f} ms "
        f"-> {imports['ratio']:.2f}x (goal <= 1.5x)"
    )
    overhead = bench_overhead(args.receipts)
    print(
        f"ingest per receipt: {overhead['full_ms']:.2f} ms vs bare calls {overhead['bare_ms']:.2f} ms "
        f"-> {overhead['ratio']:.2f}x (goal <= 1.3x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
