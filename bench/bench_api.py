"""GET /api/analytics/summary for a user with 10,000 receipts, in process, as Lambda runs it.

Two ways of answering "spending per month / category / vendor for the last 24 months":

* the API route, which reads the monthly aggregate items only (what it ships with);
* the naive way, querying every receipt of the user and summing in Python.

Prints p50/p99 of each and their ratio (goals: route p99 <= 20 ms, ratio >= 50x), and with
``--write`` replaces the intro and table of the "API" section of bench/README.md (the
notes below the table are kept; update them by hand).

    .venv/bin/python bench/bench_api.py [--receipts 10000] [--runs 300] [--backend fake-botocore] [--write]
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import platform
import random
import re
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
for _name, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
}.items():
    os.environ[_name] = _value  # fake credentials: nothing can reach a real account

import boto3  # noqa: E402
from botocore.parsers import ResponseParserFactory  # noqa: E402
from moto import mock_aws  # noqa: E402

from lambda_src.api.app import create_app  # noqa: E402
from lambda_src.api.deps import build_deps  # noqa: E402
from lambda_src.api.handler import lambda_adapter  # noqa: E402
from lambda_src.api.routes.analytics import Group, summary_json  # noqa: E402
from lambda_src.api.settings import Settings  # noqa: E402
from lambda_src.common import keys  # noqa: E402
from lambda_src.common.dynamodb import ParserFactory  # noqa: E402
from lambda_src.common.model import LineItem, Receipt, Status, Vendor  # noqa: E402
from lambda_src.common.repository import (  # noqa: E402
    ReceiptRepository,
    _serialize,
    contributions,
    receipt_to_item,
)
from receiptlake.local.tables import create_receipts_table  # noqa: E402

USER = "bench-user-0001"
TABLE = "receipts-bench"
CATEGORIES = ["groceries", "dining", "transport", "health", "household", "clothing", "leisure", "utilities"]
VENDORS = [f"Vendor {i:02d}" for i in range(40)]
MONTHS = 24
README = REPO_ROOT / "bench" / "README.md"
BACKENDS = {
    "fake": "in-memory DynamoDB with wire-format items and 1 MB pages, in process",
    "fake-botocore": "in-memory DynamoDB, 1 MB pages sent as DynamoDB's JSON, parsed by the API client",
    "fake-botocore-generic": "in-memory DynamoDB, 1 MB pages sent as DynamoDB's JSON, botocore's own parser",
    "moto": "moto in process, through botocore",
}

# One partition of an index: its sort keys, and rows (sort key, item size, item) in the same order.
_Partition = tuple[list[str], list[tuple[str, int, dict[str, Any]]]]


class FakeDynamoDB:
    """An in-memory DynamoDB with the query shapes the repository uses: items kept in the
    wire format (so the repository's deserialization cost is real), sorted keys, bisect
    ranges, 1 MB pages. moto's query costs O(partition) with a large constant (0.8 s for
    one aggregate query next to 2,000 receipts), which would measure moto, not the API."""

    PAGE_BYTES = 1024 * 1024
    _COND = re.compile(
        r"^(?P<pk>\w+) = :pk"
        r"(?: AND (?:(?P<sk>\w+) BETWEEN :lo AND :hi|begins_with\((?P<bsk>\w+), :prefix\)))?$"
    )

    def __init__(self, parser: Any | None = None) -> None:
        # parser: answer as a client would hand a real response to the caller: the page
        # as DynamoDB's JSON bytes (projected), parsed by that botocore response parser
        # for Query's output shape. The parsing runs in the Lambda and is otherwise
        # missing from the figures; the bytes (DynamoDB's side) are built once per request.
        self._parser = parser
        self._bodies: dict[str, bytes] = {}
        self._projections: dict[tuple[int, frozenset[str]], dict[str, Any]] = {}
        if parser is not None:
            model = boto3.client("dynamodb", region_name="eu-west-1").meta.service_model
            self._query_shape = model.operation_model("Query").output_shape
        self.parts: dict[tuple[str, str], dict[str, _Partition]] = defaultdict(dict)
        self.indexes = {
            "": ("PK", "SK"),
            keys.GSI1: (keys.GSI1_PK, keys.GSI1_SK),
            keys.GSI2: (keys.GSI2_PK, keys.GSI2_SK),
        }

    def put(self, item: dict[str, Any]) -> None:
        size = len(json.dumps(item))
        for index, (pk, sk) in self.indexes.items():
            if pk in item and sk in item:
                sks, rows = self.parts[(index, pk)].setdefault(item[pk]["S"], ([], []))
                at = bisect.bisect_right(sks, item[sk]["S"])
                sks.insert(at, item[sk]["S"])
                rows.insert(at, (item[sk]["S"], size, item))

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        for requests in RequestItems.values():
            for request in requests:
                self.put(request["PutRequest"]["Item"])
        return {}

    def query(self, **kw: Any) -> dict[str, Any]:
        if self._parser is None:
            return self._answer(kw)
        # What DynamoDB sends for this request (kept: building it is the server's work;
        # the table does not change while the route is timed), parsed as the client does.
        request = json.dumps(kw, sort_keys=True)
        body = self._bodies.get(request)
        if body is None:
            body = self._bodies[request] = self._body(self._answer(kw))
        http = {"body": body, "headers": {"x-amzn-requestid": "bench"}, "status_code": 200}
        parsed: dict[str, Any] = self._parser.parse(http, self._query_shape)
        return parsed

    def _answer(self, kw: dict[str, Any]) -> dict[str, Any]:
        index = kw.get("IndexName", "")
        pk_name, sk_name = self.indexes[index]
        match = self._COND.match(kw["KeyConditionExpression"])
        assert match, kw["KeyConditionExpression"]
        values = {k: v["S"] for k, v in kw["ExpressionAttributeValues"].items()}
        sks, rows = self.parts[(index, pk_name)].get(values[":pk"], ([], []))
        lo, hi = 0, len(rows)
        if match["sk"]:
            lo, hi = bisect.bisect_left(sks, values[":lo"]), bisect.bisect_right(sks, values[":hi"])
        elif match["bsk"]:
            lo = bisect.bisect_left(sks, values[":prefix"])
            hi = bisect.bisect_left(sks, values[":prefix"] + "\uffff")
        forward = kw.get("ScanIndexForward", True)
        start = kw.get("ExclusiveStartKey")
        if start:
            cut = start[sk_name]["S"]
            if forward:
                lo = max(lo, bisect.bisect_right(sks, cut))
            else:
                hi = min(hi, bisect.bisect_left(sks, cut))
        chosen = rows[lo:hi] if forward else rows[lo:hi][::-1]
        limit = kw.get("Limit", len(chosen))
        out: list[dict[str, Any]] = []
        used = 0
        for _sk, size, item in chosen:
            if len(out) == limit or used + size > self.PAGE_BYTES:
                break
            out.append(item)
            used += size
        response: dict[str, Any] = {"Items": out, "Count": len(out)}
        if len(out) < len(chosen):
            last = out[-1]
            response["LastEvaluatedKey"] = {k: last[k] for k in {"PK", "SK", pk_name, sk_name}}
        wanted = self._wanted(kw)
        if wanted is not None:
            response["Items"] = [self._projected(item, wanted) for item in out]
        return response

    @staticmethod
    def _wanted(kw: dict[str, Any]) -> frozenset[str] | None:
        if not kw.get("ProjectionExpression"):
            return None
        names = kw.get("ExpressionAttributeNames", {})
        return frozenset(names.get(n.strip(), n.strip()) for n in kw["ProjectionExpression"].split(","))

    def _body(self, response: dict[str, Any]) -> bytes:
        """The response as DynamoDB's JSON bytes."""
        items = ",".join(json.dumps(item) for item in response["Items"])
        rest = json.dumps({k: v for k, v in response.items() if k != "Items"})
        return f'{{"Items":[{items}],{rest[1:]}'.encode()

    def _projected(self, item: dict[str, Any], wanted: frozenset[str]) -> dict[str, Any]:
        """The item with the projected attributes only (cached: the server's work)."""
        key = (id(item), wanted)
        if key not in self._projections:
            self._projections[key] = {k: v for k, v in item.items() if k in wanted}
        return self._projections[key]

    def get_paginator(self, name: str) -> Any:
        assert name == "query"
        fake = self

        class _Paginator:
            def paginate(self, **kw: Any) -> Any:
                while True:
                    page = fake.query(**kw)
                    yield page
                    if "LastEvaluatedKey" not in page:
                        return
                    kw = {**kw, "ExclusiveStartKey": page["LastEvaluatedKey"]}

        return _Paginator()


_CONTEXT = type(
    "Context",
    (),
    {"function_name": "bench", "aws_request_id": "bench", "get_remaining_time_in_millis": 30_000},
)()


def _event(path: str, query: str) -> dict[str, Any]:
    claims = {"sub": USER, "token_use": "id", "aud": "bench-client", "email": "bench@example.com"}
    return {
        "version": "2.0",
        "routeKey": "ANY /api/{proxy+}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"host": "api.example.com", "user-agent": "bench"},
        "requestContext": {
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9"},
            "requestId": "bench",
            "routeKey": "ANY /api/{proxy+}",
            "stage": "$default",
            "authorizer": {"jwt": {"claims": claims, "scopes": None}},
        },
        "isBase64Encoded": False,
    }


def generate(n: int, seed: int = 42) -> list[Receipt]:
    rng = random.Random(seed)
    start = date(2025, 1, 1)
    receipts = []
    for i in range(n):
        day = start + timedelta(days=rng.randrange(MONTHS * 365 // 12))
        items = [
            LineItem(
                description=f"item {rng.randrange(200)}",
                quantity=Decimal(1),
                amount=Decimal(rng.randint(50, 5000)) / 100,
                category=rng.choice(CATEGORIES),
            )
            for _ in range(rng.randint(0, 4))
        ]
        total = (
            sum((it.amount or Decimal(0) for it in items), Decimal(0)) + Decimal(rng.randint(0, 500)) / 100
        )
        receipts.append(
            Receipt(
                receipt_id=f"r{i:06d}",
                user_id=USER,
                status=Status.PROCESSED if rng.random() < 0.95 else Status.NEEDS_REVIEW,
                uploaded_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
                processed_at=datetime(day.year, day.month, day.day, 12, 1, tzinfo=UTC),
                vendor=Vendor(name=rng.choice(VENDORS)),
                purchase_date=day,
                currency="EUR" if rng.random() < 0.8 else "GBP",
                total=total,
                tax=(total * Decimal("0.2")).quantize(Decimal("0.01")),
                line_items=items,
                category=rng.choice(CATEGORIES),
                version=1,
            )
        )
    return receipts


def load(client: Any, receipts: list[Receipt]) -> None:
    """Write receipts and the aggregates the repository's transactions would have built
    (same items, same attributes), in batches: 10,000 transactions would take minutes."""
    sums: dict[tuple[str, str, str, str], dict[str, Any]] = defaultdict(
        lambda: {"count": 0, "total": Decimal(0), "tax": Decimal(0), "tip": Decimal(0), "label": ""}
    )
    for receipt in receipts:
        for agg_key, delta in contributions(receipt).items():
            cell = sums[agg_key]
            cell["count"] += delta.count
            for name, amount in delta.amounts.items():
                cell[name] += amount
            cell["label"] = delta.label or cell["label"]
    items = [receipt_to_item(r) for r in receipts]
    for (kind, month, currency, key), cell in sums.items():
        item = {
            keys.PK: keys.user_pk(USER),
            keys.SK: keys.aggregate_sk(kind, month, currency, key),
            "item_type": "aggregate",
            "count": cell["count"],
            "total": cell["total"],
        }
        if kind == keys.AGG_MONTH:
            item.update(tax=cell["tax"], tip=cell["tip"])
        if cell["label"]:
            item["label"] = cell["label"]
        items.append(item)
    for start in range(0, len(items), 25):
        batch = [{"PutRequest": {"Item": _serialize(i)}} for i in items[start : start + 25]]
        client.batch_write_item(RequestItems={TABLE: batch})
    print(f"loaded {len(receipts)} receipts and {len(sums)} aggregate items", file=sys.stderr)


def naive_summary(
    repo: ReceiptRepository, group: str, from_month: str, to_month: str, top: int | None = None
) -> dict[str, Any]:
    """The same question answered by reading every receipt of the user."""
    out: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(lambda: [Decimal(0), 0]))
    for r in repo.iter_receipts(USER):
        if not r.counts_as_spending:
            continue
        month = keys.month_of(r.spend_date)
        if not from_month <= month <= to_month:
            continue
        assert r.total is not None and r.currency is not None
        if group == "month":
            parts = {month: r.total}
        elif group == "vendor":
            parts = {f"{month}|{keys.vendor_key(r.vendor.name)}": r.total}
        else:
            parts = {f"{month}|{c}": a for c, a in r.category_split().items()}
        for key, amount in parts.items():
            out[r.currency][key][0] += amount
            out[r.currency][key][1] += 1
    if top:
        for currency, groups in out.items():
            sums: dict[str, list[Any]] = defaultdict(lambda: [Decimal(0), 0])
            for key, (amount, count) in groups.items():
                cell = sums[key if group == "month" else key.split("|", 1)[1]]
                cell[0] += amount
                cell[1] += count
            kept = set(sorted(sums, key=lambda k: (-sums[k][0], -sums[k][1], k))[:top])
            out[currency] = defaultdict(
                list,
                {k: v for k, v in groups.items() if (k if group == "month" else k.split("|", 1)[1]) in kept},
            )
    return {c: {k: (v[0], v[1]) for k, v in g.items()} for c, g in out.items()}


def calibration_ms() -> float:
    """CPU milliseconds of a fixed pure-Python loop (median of 5). This machine's speed
    drifts by up to 2.5x over a day (shared host: the figures of one run are all slow or
    all fast together), so every run prints it beside the route's figures."""

    def work() -> int:
        total = 0
        for i in range(1_000_000):
            total += i * i % 7
        return total

    samples = []
    for _ in range(5):
        start = time.process_time()
        work()
        samples.append((time.process_time() - start) * 1000)
    return statistics.median(samples)


def timed(fn: Callable[[], Any], runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds per call. CPU time (all threads of this process)
    is what the code costs; wall time also counts waiting for a busy machine's CPUs."""
    fn()  # warm-up
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu


def p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(client: Any, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    receipts = generate(args.receipts)
    load(client, receipts)
    settings = Settings(
        table_name=TABLE,
        uploads_bucket="unused",
        lake_bucket="unused",
        ingest_queue_url="https://unused",
        aws_region="eu-west-1",
    )
    deps = build_deps(settings)
    repo = ReceiptRepository(TABLE, client)
    deps = replace(deps, dynamodb=client, repository=repo)
    # The Lambda path, built as lambda_src/api/handler.py builds it: Mangum with an HTTP API
    # (payload 2.0) event carrying the claims API Gateway's JWT authorizer passes on
    # (AUTH_MODE=apigw, the default). It freezes the heap as after the cold start: here
    # that includes the in-memory table (~300k objects a Lambda does not hold), which
    # full collections would otherwise walk at a cost charged to the route.
    lambda_handler = lambda_adapter(create_app(deps=deps))

    class _Response:
        def __init__(self, result: dict[str, Any]) -> None:
            self.status_code = result["statusCode"]
            self.text = result["body"]

        def json(self) -> Any:
            return json.loads(self.text)

    class _Http:
        def get(self, url: str) -> _Response:
            path, _, query = url.partition("?")
            return _Response(lambda_handler(_event(path, query), _CONTEXT))

    http = _Http()
    from_month, to_month = "2025-01", "2026-12"
    results: dict[str, dict[str, float]] = {}
    cases: tuple[tuple[Group, int | None], ...] = (
        ("month", None),
        ("category", None),
        ("vendor", None),
        ("vendor", 10),
    )
    for group, top in cases:
        url = f"/api/analytics/summary?from={from_month}&to={to_month}&group={group}"
        url += f"&top={top}" if top else ""
        response = http.get(url)
        assert response.status_code == 200, response.text
        # Sanity: the route and the naive recomputation agree exactly.
        body = response.json()
        got = {
            c["currency"]: {g["key"]: (Decimal(g["total"]), g["count"]) for g in c["groups"]}
            for c in body["currencies"]
        }
        assert got == naive_summary(repo, group, from_month, to_month, top), (group, top)
        route, route_cpu = timed(partial(http.get, url), args.runs)
        _, direct_cpu = timed(partial(summary_json, repo, USER, from_month, to_month, group, top), args.runs)
        naive, naive_cpu = timed(
            partial(naive_summary, repo, group, from_month, to_month, top), args.naive_runs
        )
        results[f"{group}, top={top}" if top else group] = {
            "groups": sum(len(c["groups"]) for c in body["currencies"]),
            "route_p50": p(route, 0.5),
            "route_p99": p(route, 0.99),
            "route_cpu_p50": p(route_cpu, 0.5),
            "route_cpu_p99": p(route_cpu, 0.99),
            "direct_cpu_p99": p(direct_cpu, 0.99),
            "naive_p50": p(naive, 0.5),
            "naive_cpu_p50": p(naive_cpu, 0.5),
            "ratio": p(naive, 0.5) / p(route, 0.5),
            "ratio_cpu": p(naive_cpu, 0.5) / p(route_cpu, 0.5),
            "ratio_cpu_p99": p(naive_cpu, 0.5) / p(route_cpu, 0.99),
        }
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receipts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--naive-runs", type=int, default=5)
    parser.add_argument(
        "--backend",
        choices=("fake", "fake-botocore", "moto"),
        default="fake-botocore",
        help="fake: the in-memory table hands over wire-format dicts; fake-botocore (default): "
        "its pages are sent as JSON and go through the API client's response parser, as in "
        "Lambda; moto is O(partition) per query: small sizes only",
    )
    parser.add_argument(
        "--generic-parser",
        action="store_true",
        help="with fake-botocore: botocore's own parser instead of the API client's",
    )
    parser.add_argument("--write", action="store_true", help="update the API section of bench/README.md")
    args = parser.parse_args()

    calibration_before = calibration_ms()
    if args.backend == "moto":
        with mock_aws():
            client = boto3.client("dynamodb", region_name="eu-west-1")
            create_receipts_table(client, TABLE)
            results = measure(client, args)
    else:
        response_parser = None
        if args.backend == "fake-botocore":
            # The parser of the API's DynamoDB client (lambda_src/api/deps.py), or botocore's.
            factory = ResponseParserFactory() if args.generic_parser else ParserFactory()
            response_parser = factory.create_parser("json")
        results = measure(FakeDynamoDB(response_parser), args)
    speed = (calibration_before + calibration_ms()) / 2
    lines = [
        f"{args.receipts:,} receipts, {MONTHS} months, 2 currencies; backend {args.backend} "
        f"({BACKENDS[args.backend + ('-generic' if args.generic_parser else '')]}), "
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs; "
        f"{args.runs} route calls, {args.naive_runs} naive runs per group; "
        f"machine speed: calibration loop {speed:.0f} ms CPU (`calibration_ms()`).",
        "",
        "| group | groups | route wall p50 / p99 | route CPU p50 / p99 (goal p99 <= 20 ms) "
        "| summary_json() CPU p99 | all receipts wall / CPU p50 | ratio wall p50 | ratio CPU p50 "
        "(goal >= 50x) | ratio CPU naive p50 / route p99 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for group, r in results.items():
        lines.append(
            f"| {group} | {r['groups']:.0f} | {r['route_p50']:.1f} / {r['route_p99']:.1f} ms "
            f"| {r['route_cpu_p50']:.1f} / {r['route_cpu_p99']:.1f} ms | {r['direct_cpu_p99']:.1f} ms "
            f"| {r['naive_p50']:.0f} / {r['naive_cpu_p50']:.0f} ms | {r['ratio']:.0f}x "
            f"| {r['ratio_cpu']:.0f}x | {r['ratio_cpu_p99']:.0f}x |"
        )
    table = "\n".join(lines)
    print(table)
    print(json.dumps(results, indent=1), file=sys.stderr)
    if args.write:
        write_section(table)
    return 0


def write_section(table: str) -> None:
    """Replace the generated top of the "API" section (intro and table); notes written
    below the table are kept."""
    intro = (
        "## API\n\n"
        "`bench/bench_api.py`: GET /api/analytics/summary as Lambda runs it (`handler.lambda_adapter()`: "
        "Mangum, blocking work inline, heap frozen after the cold start; HTTP API payload 2.0 "
        "event with the authorizer's claims; aggregates only) versus "
        "answering the same question by querying all of the user's receipts. Route = full "
        "request: event translation, routing, validation, two aggregate queries "
        "for category/vendor (one for month), serialization.\n\n"
        f"{table}\n"
    )
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    generated = re.compile(r"^## API\n.*?^\|.*?\n(?!\|)", re.S | re.M)
    section = re.compile(r"^## API\n.*?(?=^## |\Z)", re.S | re.M)
    match = generated.search(text)
    if match and "\n## " not in match.group(0):
        text = generated.sub(lambda _: intro, text, count=1)
    elif section.search(text):
        text = section.sub(lambda _: intro + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + intro
    README.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
