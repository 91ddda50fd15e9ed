"""Synthetic receipts for bench/bench_etl.py: typed DynamoDB items as the repository
writes them (the first are checked against receipt_to_item + TypeSerializer), corrections
and aggregate items, written as a full and an incremental DynamoDB export."""

from __future__ import annotations

import argparse
import json
import random
import resource
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
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
