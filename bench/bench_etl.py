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
import random
import resource
import shutil
import sys
import tempfile
import time
import traceback
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

# ---- synthetic receipts ---------------------------------------------------------------
# (name, legal name, address, phone, category, item catalogue: (description, unit price
# in the currency's minor unit... or major unit for zero-decimal currencies, category))
SHOPS: dict[str, list[tuple[str, str | None, str, str | None, str, list[tuple[str, int, str]]]]] = {
    "EUR": [
        (
            "Cafe Lumen",
            None,
            "Kastanienallee 7, 10435 Berlin",
            None,
            "dining",
            [("Flat White", 380, "dining"), ("Croissant", 290, "dining"), ("Bagel Lachs", 750, "dining")],
        ),
        (
            "Shell",
            "Shell Deutschland GmbH",
            "Hauptstrasse 101, 80331 Muenchen",
            "+49 89 123456",
            "fuel",
            [
                ("Super E10", 6890, "fuel"),
                ("Scheibenreiniger", 499, "transport"),
                ("Wasser 1,5l", 189, "groceries"),
            ],
        ),
        (
            "REWE",
            "REWE Markt GmbH",
            "Schoenhauser Allee 80, 10439 Berlin",
            None,
            "groceries",
            [
                ("Milch 1l", 119, "groceries"),
                ("Brot", 249, "groceries"),
                ("Kaese", 399, "groceries"),
                ("Spuelmittel", 165, "household"),
                ("Aepfel 1kg", 279, "groceries"),
                ("Wein", 699, "alcohol"),
            ],
        ),
        (
            "dm-drogerie markt",
            "dm-drogerie markt GmbH + Co. KG",
            "Karlsruhe",
            None,
            "health",
            [("Zahnpasta", 95, "health"), ("Shampoo", 245, "personal_care"), ("Vitamin D", 395, "health")],
        ),
    ],
    "GBP": [
        (
            "FRESHMART",
            "FreshMart Stores Ltd",
            "12 High Street, Bristol BS1 4DJ",
            "0117 496 0000",
            "groceries",
            [
                ("Semi Skimmed Milk", 145, "groceries"),
                ("Sourdough", 275, "groceries"),
                ("Bananas", 99, "groceries"),
                ("Washing Up Liquid", 150, "household"),
                ("Cheddar 400g", 385, "groceries"),
            ],
        ),
        (
            "Pret A Manger",
            "Pret A Manger (Europe) Ltd",
            "London",
            None,
            "dining",
            [("Latte", 365, "dining"), ("Ham & Cheese Baguette", 525, "dining")],
        ),
        (
            "Boots",
            "Boots UK Ltd",
            "Nottingham",
            None,
            "health",
            [("Paracetamol", 89, "health"), ("Sun Cream", 850, "personal_care")],
        ),
    ],
    "USD": [
        (
            "Green Pharmacy",
            "Green Pharmacy LLC",
            "410 Market St, San Francisco, CA 94111",
            None,
            "health",
            [
                ("Ibuprofen 200mg", 899, "health"),
                ("Bandages", 549, "health"),
                ("Toothbrush", 399, "personal_care"),
            ],
        ),
        (
            "Taqueria Sol",
            None,
            "2288 Mission St, San Francisco, CA 94110",
            None,
            "dining",
            [("Burrito", 1250, "dining"), ("Horchata", 450, "dining"), ("Chips & Salsa", 375, "dining")],
        ),
        (
            "Whole Foods Market",
            "Whole Foods Market California, Inc.",
            "San Francisco",
            None,
            "groceries",
            [
                ("Organic Eggs", 699, "groceries"),
                ("Avocado", 199, "groceries"),
                ("Kombucha", 399, "groceries"),
                ("Paper Towels", 899, "household"),
            ],
        ),
    ],
    "JPY": [
        (
            "FamilyMart",
            "株式会社ファミリーマート",
            "東京都港区芝浦3-1-21",
            None,
            "groceries",
            [("おにぎり", 160, "groceries"), ("お茶 500ml", 150, "groceries"), ("ファミチキ", 220, "dining")],
        ),
        (
            "Yodobashi Camera",
            "株式会社ヨドバシカメラ",
            "東京都新宿区西新宿1-11-1",
            None,
            "electronics",
            [
                ("USB-C ケーブル", 1980, "electronics"),
                ("ミラーレスカメラ", 248000, "electronics"),
                ("SDカード 128GB", 4480, "electronics"),
            ],
        ),
    ],
    "IDR": [
        (
            "Indomaret",
            "PT Indomarco Prismatama",
            "Jl. Sudirman No. 1, Jakarta",
            None,
            "groceries",
            [
                ("Indomie Goreng", 3500, "groceries"),
                ("Aqua 600ml", 4000, "groceries"),
                ("Beras 5kg", 78500, "groceries"),
            ],
        ),
        (
            "Hotel Mulia",
            "PT Mulia Inti Pelangi",
            "Jl. Asia Afrika, Senayan, Jakarta",
            None,
            "travel",
            [
                ("Deluxe Room", 4250000, "travel"),
                ("Breakfast Buffet", 485000, "dining"),
                ("Laundry", 175000, "services"),
            ],
        ),
    ],
    "SGD": [
        (
            "Kopitiam",
            None,
            "Orchard Rd, Singapore",
            None,
            "dining",
            [("Kaya Toast Set", 590, "dining"), ("Teh Tarik", 220, "dining")],
        ),
    ],
    "CHF": [
        (
            "Migros",
            "Migros-Genossenschafts-Bund",
            "Limmatstrasse 152, Zuerich",
            None,
            "groceries",
            [("Milch", 165, "groceries"), ("Zopf", 450, "groceries"), ("Schokolade", 230, "groceries")],
        ),
    ],
}
ZERO_DECIMALS = {"JPY", "IDR"}  # amounts printed without minor units (large numbers)
HOME = ["EUR", "EUR", "GBP", "USD", "USD", "JPY", "IDR", "EUR", "SGD", "CHF"]
NOT_ISO = "RMB"  # printed on Chinese receipts instead of CNY: kept, flagged unknown_currency
STATUSES = (("PROCESSED", 0.91), ("NEEDS_REVIEW", 0.05), ("FAILED", 0.025), ("PENDING", 0.015))
PAYMENTS = ("VISA", "MASTERCARD", "CASH", "AMEX", "DEBIT", None)
FIRST_DAY = date(2024, 1, 1)
DAYS = 730


def money_str(minor: int, currency: str) -> str:
    """An amount as the model's JSON writes a Decimal (format(d, "f"))."""
    if currency in ZERO_DECIMALS:
        return str(minor)
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    return f"{sign}{whole}.{cents:02d}"


def iso_z(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")  # pydantic's JSON for an aware UTC datetime


def S(v: str) -> dict[str, str]:
    return {"S": v}


def N(v: Any) -> dict[str, str]:
    return {"N": str(v)}


NULL = {"NULL": True}


def opt(v: str | None) -> dict[str, Any]:
    return NULL if v is None else {"S": v}


def generate_facts(n: int, k: int, users: int, seed: int) -> Iterator[dict[str, Any]]:
    """The receipts as plain facts (what the reader would have produced); rendering to
    typed items is apart so the fast renderer can be checked against the model's."""
    rng = random.Random(seed)
    user_ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(users)]
    home = [HOME[i % len(HOME)] for i in range(users)]
    weights = [1.0 / (1 + i % 7) for i in range(users)]  # a few heavy users, many light ones
    cum, acc = [], 0.0
    for w in weights:
        acc += w
        cum.append(acc)
    status_cum, acc = [], 0.0
    for name, p in STATUSES:
        acc += p
        status_cum.append((acc, name))
    for _ in range(n):
        u = rng.choices(range(users), cum_weights=cum)[0]
        r = rng.random()
        currency = home[u] if r < 0.85 else rng.choice(list(SHOPS))
        shop = rng.choice(SHOPS[currency])
        name, legal, address, phone, category, catalogue = shop
        x = rng.random()
        status = next(s for c, s in status_cum if x <= c)
        day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        uploaded = datetime(
            day.year,
            day.month,
            day.day,
            rng.randrange(7, 22),
            rng.randrange(60),
            rng.randrange(60),
            tzinfo=UTC,
        ) + timedelta(days=rng.choice((0, 0, 0, 1, 2)))
        facts: dict[str, Any] = {
            "receipt_id": uuid.UUID(int=rng.getrandbits(128), version=4).hex,
            "user_id": user_ids[u],
            "status": status,
            "uploaded_at": uploaded,
            "processed_at": uploaded + timedelta(seconds=rng.randint(2, 40)) if status != "PENDING" else None,
            "size_bytes": rng.randint(80_000, 3_000_000),
            "sha": f"{rng.getrandbits(256):064x}",
            "ocr_engine": "textract" if rng.random() < 0.9 else "local",
            "version": 1,
            "corrected_fields": [],
            "review_reasons": ["low_confidence_total"] if status == "NEEDS_REVIEW" else [],
            "failure_reason": "unreadable image" if status == "FAILED" else None,
            "vendor": None,
            "items": [],
            "currency": None,
            "purchase_date": None,
            "money": {},
            "payment_method": None,
            "category": None,
            "confidence": {},
        }
        if status in ("FAILED", "PENDING"):
            yield facts
            continue
        if rng.random() < 0.002:
            currency = NOT_ISO
        refund = rng.random() < 0.01
        count = max(1, rng.randint(max(1, k - 4), k + 4)) if k else 0
        items = []
        for _ in range(count):
            desc, unit, cat = rng.choice(catalogue)
            qty = rng.choice((1, 1, 1, 1, 2, 3))
            amount = unit * qty * (-1 if refund else 1)
            conf = round(rng.uniform(0.55, 0.99), 2)
            items.append((desc, qty, unit, amount, cat, conf))
        subtotal = sum(it[3] for it in items)
        tax = (abs(subtotal) * rng.choice((0, 7, 10, 19, 20)) // 100) * (-1 if refund else 1)
        tip = 0 if refund or category != "dining" or rng.random() < 0.5 else abs(subtotal) // 10
        facts.update(
            vendor=(name, legal, address, phone),
            items=items,
            currency=currency,
            purchase_date=None if rng.random() < 0.03 else day,  # ~3% printed no readable date
            money={
                "subtotal": subtotal,
                "tax": tax,
                "tip": tip if tip else None,
                "discount": None,
                "total": subtotal + tax + tip,
            },
            payment_method=rng.choice(PAYMENTS),
            category=category,
            confidence={
                "total": round(rng.uniform(0.6, 0.99), 2),
                "vendor": round(rng.uniform(0.6, 0.99), 2),
            },
        )
        if rng.random() < 0.03:  # a person corrected it: version 2 and correction items
            facts["version"] = 2
            facts["corrected_fields"] = sorted(
                rng.sample(["category", "line_items", "total"], rng.randint(1, 2))
            )
            facts["corrected_at"] = uploaded + timedelta(days=rng.randint(0, 20), hours=1)
        yield facts


def fast_item(f: dict[str, Any]) -> dict[str, Any]:
    """The typed item receipt_to_item + TypeSerializer write for these facts, built directly."""
    cur = f["currency"]
    vendor = f["vendor"] or (None, None, None, None)
    spend = f["purchase_date"] or f["uploaded_at"].date()
    items = [
        {
            "M": {
                "description": S(d),
                "quantity": S(str(q)),
                "unit_price": S(money_str(u, cur)),
                "amount": S(money_str(a, cur)),
                "category": S(c),
                "category_confidence": N(repr(conf)),
            }
        }
        for d, q, u, a, c, conf in f["items"]
    ]
    money = {k: (NULL if v is None else S(money_str(v, cur))) for k, v in f["money"].items()}
    return {
        "receipt_id": S(f["receipt_id"]),
        "user_id": S(f["user_id"]),
        "status": S(f["status"]),
        "failure_reason": opt(f["failure_reason"]),
        "review_reasons": {"L": [S(x) for x in f["review_reasons"]]},
        "object_key": S(f"uploads/{f['user_id']}/{f['receipt_id']}.jpg"),
        "content_type": S("image/jpeg"),
        "size_bytes": N(f["size_bytes"]),
        "image_sha256": S(f["sha"]),
        "uploaded_at": S(iso_z(f["uploaded_at"])),
        "processed_at": NULL if f["processed_at"] is None else S(iso_z(f["processed_at"])),
        "vendor": {
            "M": {
                "name": opt(vendor[0]),
                "legal_name": opt(vendor[1]),
                "address": opt(vendor[2]),
                "phone": opt(vendor[3]),
            }
        },
        "purchase_date": NULL if f["purchase_date"] is None else S(f["purchase_date"].isoformat()),
        "currency": opt(cur),
        "subtotal": money.get("subtotal", NULL),
        "tax": money.get("tax", NULL),
        "tip": money.get("tip", NULL),
        "discount": money.get("discount", NULL),
        "total": money.get("total", NULL),
        "payment_method": opt(f["payment_method"]),
        "line_items": {"L": items},
        "category": opt(f["category"]),
        "confidence": {"M": {k: N(repr(v)) for k, v in f["confidence"].items()}},
        "ocr_engine": S(f["ocr_engine"]),
        "corrected_fields": {"L": [S(x) for x in f["corrected_fields"]]},
        "duplicate_of": NULL,
        "version": N(f["version"]),
        "PK": S(f"USER#{f['user_id']}"),
        "SK": S(f"RECEIPT#{f['receipt_id']}"),
        "GSI1PK": S(f"USER#{f['user_id']}"),
        "GSI1SK": S(f"{spend.isoformat()}#{f['receipt_id']}"),
        "GSI2PK": S(f"USER#{f['user_id']}#STATUS#{f['status']}"),
        "GSI2SK": S(f"{f['uploaded_at'].isoformat()}#{f['receipt_id']}"),
        "item_type": S("receipt"),
    }


def model_item(f: dict[str, Any]) -> dict[str, Any]:
    """The same item the slow, real way: a Receipt model through the repository's code."""
    from lambda_src.common.model import LineItem, Receipt, Vendor
    from lambda_src.common.repository import _serialize, receipt_to_item

    cur = f["currency"]
    vendor = f["vendor"] or (None, None, None, None)

    def dec(v: int | None) -> Decimal | None:
        return None if v is None else Decimal(money_str(v, cur))

    receipt = Receipt(
        receipt_id=f["receipt_id"],
        user_id=f["user_id"],
        status=f["status"],
        failure_reason=f["failure_reason"],
        review_reasons=f["review_reasons"],
        object_key=f"uploads/{f['user_id']}/{f['receipt_id']}.jpg",
        content_type="image/jpeg",
        size_bytes=f["size_bytes"],
        image_sha256=f["sha"],
        uploaded_at=f["uploaded_at"],
        processed_at=f["processed_at"],
        vendor=Vendor(name=vendor[0], legal_name=vendor[1], address=vendor[2], phone=vendor[3]),
        purchase_date=f["purchase_date"],
        currency=cur,
        **{k: dec(v) for k, v in f["money"].items()},
        payment_method=f["payment_method"],
        line_items=[
            LineItem(
                description=d,
                quantity=Decimal(q),
                unit_price=dec(u),
                amount=dec(a),
                category=c,
                category_confidence=conf,
            )
            for d, q, u, a, c, conf in f["items"]
        ],
        category=f["category"],
        confidence=f["confidence"],
        ocr_engine=f["ocr_engine"],
        corrected_fields=f["corrected_fields"],
        version=f["version"],
    )
    return _serialize(receipt_to_item(receipt))


def correction_items(f: dict[str, Any], item: dict[str, Any]) -> list[dict[str, Any]]:
    when = f["corrected_at"].isoformat()
    out = []
    for name in f["corrected_fields"]:
        old = json.dumps(item[name].get("S")) if name != "line_items" else "[]"
        out.append(
            {
                "PK": S(f"USER#{f['user_id']}"),
                "SK": S(f"CORRECTION#{f['receipt_id']}#{when}#{name}"),
                "item_type": S("correction"),
                "receipt_id": S(f["receipt_id"]),
                "field": S(name),
                "old": S(old),
                "new": S(
                    json.dumps(item[name].get("S")) if name != "line_items" else '[{"description": "x"}]'
                ),
                "corrected_at": S(when),
            }
        )
    return out


def aggregate_items(facts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The month / category / vendor aggregates the repository keeps beside the receipts
    (the export carries them; the ETL must skip them)."""
    cells: dict[tuple[str, str, str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for f in facts:
        if f["status"] not in ("PROCESSED", "NEEDS_REVIEW") or f["currency"] is None:
            continue
        spend = f["purchase_date"] or f["uploaded_at"].date()
        month = f"{spend.year:04d}-{spend.month:02d}"
        total = f["money"]["total"]
        for kind, key in (("M", ""), ("C", f["category"]), ("V", f["vendor"][0].lower().replace(" ", "-"))):
            cell = cells[(f["user_id"], kind, month, f["currency"], key)]
            cell[0] += 1
            cell[1] += total
    out = []
    for (user, kind, month, cur, key), (count, total) in cells.items():
        out.append(
            {
                "PK": S(f"USER#{user}"),
                "SK": S(f"AGG#{kind}#{month}#{cur}" + (f"#{key}" if key else "")),
                "item_type": S("aggregate"),
                "count": N(count),
                "total": N(money_str(total, cur)),
            }
        )
    return out


def build_exports(lake_dir: Path, args: argparse.Namespace, out: Any) -> None:
    """(Child process.) Write the full and the incremental export; send back what was written."""
    from receiptlake.local.export import write_export

    started = time.perf_counter()
    facts = list(generate_facts(args.receipts, args.items_per_receipt, args.users, args.seed))
    receipts = [fast_item(f) for f in facts]
    checked = min(len(facts), 300)
    for f, item in zip(facts[:checked], receipts[:checked], strict=True):
        expected = model_item(f)
        if item != expected:
            diff = {
                k: (item.get(k), expected.get(k))
                for k in set(item) | set(expected)
                if item.get(k) != expected.get(k)
            }
            raise AssertionError(f"fast item differs from receipt_to_item's: {diff}")
    corrections = [
        c
        for f, item in zip(facts, receipts, strict=True)
        if f["version"] > 1
        for c in correction_items(f, item)
    ]
    aggregates = aggregate_items(facts)
    rng = random.Random(args.seed + 1)
    user_ids = sorted({f["user_id"] for f in facts})
    erased = rng.sample(user_ids, min(2, len(user_ids)))
    built = time.perf_counter()

    full_time = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    items = receipts + corrections + aggregates
    full_key = write_export(lake_dir, items, when=full_time, items_per_file=args.items_per_file)
    full_written = time.perf_counter()

    # Incremental: 1% of receipts changed (re-read or corrected: version + 1, a new
    # category), 0.1% deleted, within a day of the full export.
    picks = rng.sample(range(len(receipts)), int(len(receipts) * 0.011))
    changed_ix, deleted_ix = picks[: int(len(receipts) * 0.01)], picks[int(len(receipts) * 0.01) :]
    changed = []
    for i in changed_ix:
        item = dict(receipts[i])
        item["version"] = N(int(item["version"]["N"]) + 1)
        item["category"] = S("groceries")
        changed.append(item)
    deleted = [{"PK": receipts[i]["PK"], "SK": receipts[i]["SK"]} for i in deleted_ix]
    incr_key = write_export(
        lake_dir,
        changed,
        when=full_time + timedelta(hours=24),
        incremental_from=full_time,
        deleted=deleted,
        items_per_file=args.items_per_file,
    )
    done = time.perf_counter()
    out.send(
        {
            "full_key": full_key,
            "incremental_key": incr_key,
            "erased_users": erased,
            "receipts": len(receipts),
            "line_items": sum(len(f["items"]) for f in facts),
            "line_items_of_erased": sum(len(f["items"]) for f in facts if f["user_id"] in erased),
            "receipts_of_erased": sum(1 for f in facts if f["user_id"] in erased),
            "corrections": len(corrections),
            "aggregates": len(aggregates),
            "no_date": sum(1 for f in facts if f["purchase_date"] is None and f["vendor"] is not None),
            "refunds": sum(1 for f in facts if f["money"].get("total", 0) < 0),
            "currencies": sorted({f["currency"] for f in facts if f["currency"]}),
            "users": len(user_ids),
            "changed": len(changed),
            "deleted": len(deleted),
            "checked_against_model": checked,
            "seconds_build": built - started,
            "seconds_write_full": full_written - built,
            "seconds_write_incremental": done - full_written,
            "export_bytes": sum(p.stat().st_size for p in (lake_dir / "exports").rglob("*.gz")),
            "export_files_full": len(list((lake_dir / full_key).parent.joinpath("data").glob("*.gz"))),
            "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    )
    out.close()


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
