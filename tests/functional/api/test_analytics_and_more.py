"""Analytics, item history, insights, CSV export and erasure against moto."""

from __future__ import annotations

import csv
import io
import json
import random
from collections import defaultdict
from datetime import date
from decimal import Decimal

from lambda_src.api.insights import INSIGHTS_SK, write_insights
from lambda_src.api.schemas import Anomaly, Forecast, InsightSet, Summary
from lambda_src.common import keys
from lambda_src.common.model import Receipt, Status
from tests.functional.api.conftest import ApiWorld
from tests.functional.api.support import User, processed
from tests.functional.api.test_receipts import new_upload, pending, upload_file

VENDORS = ["Corner Grocer", "Shell", "Noodle Bar", "Pharmacy Plus"]
CATEGORIES = ["groceries", "transport", "dining", "health"]


def _random_history(world: ApiWorld, user: User, n: int = 14, seed: int = 7) -> list[Receipt]:
    rng = random.Random(seed)
    made = []
    for _ in range(n):
        items = [
            (
                f"item {rng.randint(1, 9)}",
                f"{rng.randint(1, 3000) / 100:.2f}",
                rng.choice([*CATEGORIES, None]),
            )
            for _ in range(rng.randint(0, 3))
        ]
        total = sum((Decimal(a) for _, a, _ in items), Decimal(0)) + Decimal(rng.randint(0, 200)) / 100
        made.append(
            processed(
                world.repo,
                pending(world, user),
                vendor=rng.choice(VENDORS),
                day=date(2026, rng.randint(1, 4), rng.randint(1, 28)),
                currency=rng.choice(["EUR", "EUR", "GBP"]),
                total=str(total),
                items=items,
                category=rng.choice(CATEGORIES),
                status=rng.choice([Status.PROCESSED, Status.PROCESSED, Status.NEEDS_REVIEW, Status.FAILED]),
            )
        )
    return made


def _recompute(receipts: list[Receipt], group: str) -> dict[str, dict[str, tuple[str, int]]]:
    """The summary's groups, recomputed from the receipts themselves."""
    out: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(lambda: [Decimal(0), 0]))
    for r in receipts:
        if not r.counts_as_spending:
            continue
        assert r.total is not None and r.currency is not None
        month = keys.month_of(r.spend_date)
        if group == "month":
            parts = {month: r.total}
        elif group == "vendor":
            parts = {f"{month}|{keys.vendor_key(r.vendor.name)}": r.total}
        else:
            parts = {f"{month}|{c}": a for c, a in r.category_split().items()}
        for key, amount in parts.items():
            cell = out[r.currency][key]
            cell[0] += amount
            cell[1] += 1
    return {cur: {k: (format(v[0], "f"), v[1]) for k, v in g.items()} for cur, g in out.items()}


def test_summary_equals_a_recomputation_from_receipts(world: ApiWorld, alice: User) -> None:
    receipts = _random_history(world, alice)
    # corrections and a deletion must keep the aggregates exact
    victim = next(r for r in receipts if r.status is Status.PROCESSED)
    world.http.patch(
        f"/api/receipts/{victim.receipt_id}",
        json={"total": "99.99", "currency": "GBP"},
        headers=alice.headers,
    )
    gone = next(r for r in receipts if r.status is Status.NEEDS_REVIEW and r is not victim)
    world.http.delete(f"/api/receipts/{gone.receipt_id}", headers=alice.headers)
    current = list(world.repo.iter_receipts(alice.sub))

    for group in ("month", "category", "vendor"):
        response = world.http.get(
            "/api/analytics/summary",
            params={"from": "2026-01", "to": "2026-12", "group": group},
            headers=alice.headers,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["from"], body["to"], body["group"]) == ("2026-01", "2026-12", group)
        got = {
            c["currency"]: {g["key"]: (g["total"], g["count"]) for g in c["groups"]}
            for c in body["currencies"]
        }
        # normalise decimals ("12.5" vs "12.50") by value
        norm = lambda d: {  # noqa: E731
            cur: {k: (Decimal(t), n) for k, (t, n) in g.items()} for cur, g in d.items()
        }
        assert norm(got) == norm(_recompute(current, group)), group
        for c in body["currencies"]:
            spending = [r for r in current if r.counts_as_spending and r.currency == c["currency"]]
            assert Decimal(c["total"]) == sum((r.total for r in spending if r.total is not None), Decimal(0))
            assert c["count"] == len(spending)
            for g in c["groups"]:
                assert g["key"].startswith(g["month"])
                if group == "month":
                    assert g["key"] == g["month"] == g["label"]


def _top_keys(groups: dict[str, tuple[str, int]], group: str, top: int) -> set[str]:
    """The ``top`` keys of one currency's recomputed groups: largest total over the
    period, then most receipts, then the key (months when grouping by month)."""
    sums: dict[str, list] = defaultdict(lambda: [Decimal(0), 0])
    for full_key, (total, count) in groups.items():
        key = full_key if group == "month" else full_key.split("|", 1)[1]
        sums[key][0] += Decimal(total)
        sums[key][1] += count
    ranked = sorted(sums, key=lambda k: (-sums[k][0], -sums[k][1], k))
    return set(ranked[:top])


def test_summary_top_equals_a_recomputation_from_receipts(world: ApiWorld, alice: User) -> None:
    _random_history(world, alice, n=24, seed=11)
    current = list(world.repo.iter_receipts(alice.sub))
    for group in ("month", "category", "vendor"):
        params = {"from": "2026-01", "to": "2026-12", "group": group}
        full = world.http.get("/api/analytics/summary", params=params, headers=alice.headers).json()
        expected_all = _recompute(current, group)
        for top in (1, 2, 3, 1000):
            response = world.http.get(
                "/api/analytics/summary", params={**params, "top": top}, headers=alice.headers
            )
            assert response.status_code == 200, response.text
            body = Summary.model_validate_json(response.text).model_dump(mode="json", by_alias=True)
            assert body == response.json()
            # currency totals and counts are the whole period's, whatever ``top`` keeps
            assert [(c["currency"], c["total"], c["count"]) for c in body["currencies"]] == [
                (c["currency"], c["total"], c["count"]) for c in full["currencies"]
            ]
            for c in body["currencies"]:
                groups = expected_all[c["currency"]]
                kept = _top_keys(groups, group, top)
                expected = {
                    k: (Decimal(t), n)
                    for k, (t, n) in groups.items()
                    if (k if group == "month" else k.split("|", 1)[1]) in kept
                }
                assert {g["key"]: (Decimal(g["total"]), g["count"]) for g in c["groups"]} == expected
                # the same rows in the same order as without ``top``, fewer of them
                full_groups = next(f["groups"] for f in full["currencies"] if f["currency"] == c["currency"])
                assert c["groups"] == [g for g in full_groups if g["key"] in expected]
            if top == 1000:
                assert body == full


def test_summary_defaults_and_validation(world: ApiWorld, alice: User) -> None:
    body = world.http.get("/api/analytics/summary", headers=alice.headers).json()
    assert body["group"] == "month" and body["currencies"] == []
    assert body["to"] == keys.month_of(date.today())
    for params in (
        {"from": "2026-13"},
        {"to": "26-01"},
        {"group": "day"},
        {"from": "2026-05", "to": "2026-01"},
        {"group": "vendor", "top": "0"},
        {"group": "vendor", "top": "1001"},
        {"group": "vendor", "top": "ten"},
    ):
        response = world.http.get("/api/analytics/summary", params=params, headers=alice.headers)
        assert response.status_code == 400, params


def test_summary_reads_aggregates_only(world: ApiWorld, alice: User) -> None:
    _random_history(world, alice, n=4)
    calls: list[dict] = []
    real_query = world.deps.dynamodb.query

    def spy(**kwargs):
        calls.append(kwargs)
        return real_query(**kwargs)

    world.deps.dynamodb.query = spy
    try:
        world.http.get(
            "/api/analytics/summary", params={"group": "category", "from": "2026-01"}, headers=alice.headers
        )
    finally:
        world.deps.dynamodb.query = real_query
    assert calls and all("IndexName" not in c for c in calls)
    assert all(c["ExpressionAttributeValues"][":lo"]["S"].startswith("AGG#") for c in calls)


def test_item_price_history(world: ApiWorld, alice: User, bob: User) -> None:
    processed(
        world.repo,
        pending(world, alice),
        day=date(2026, 2, 1),
        total="2.20",
        items=[("Whole MILK 1L", "2.20", None)],
    )
    processed(
        world.repo, pending(world, alice), day=date(2026, 1, 1), total="1.10", items=[("Milk", "1.10", None)]
    )
    processed(
        world.repo, pending(world, alice), day=date(2026, 3, 1), total="5.00", items=[("Bread", "5.00", None)]
    )
    processed(
        world.repo, pending(world, bob), day=date(2026, 1, 2), total="9.00", items=[("milk", "9.00", None)]
    )
    body = world.http.get("/api/analytics/items", params={"q": "milk"}, headers=alice.headers).json()
    assert body["query"] == "milk"
    assert [(p["date"], p["amount"], p["unit_price"]) for p in body["points"]] == [
        ("2026-01-01", "1.10", "1.1000"),
        ("2026-02-01", "2.20", "2.2000"),
    ]
    assert set(body["points"][0]) == {
        "date",
        "vendor",
        "description",
        "quantity",
        "unit_price",
        "amount",
        "currency",
        "receipt_id",
    }
    assert world.http.get("/api/analytics/items", params={"q": "m"}, headers=alice.headers).status_code == 400
    assert world.http.get("/api/analytics/items", headers=alice.headers).status_code == 400


def test_insights_empty_with_reason_then_latest(world: ApiWorld, alice: User) -> None:
    before = world.http.get("/api/insights", headers=alice.headers).json()
    assert before == {
        "insights": {"forecasts": [], "anomalies": []},
        "reason": before["reason"],
        "model_version": None,
    }
    assert before["reason"]
    write_insights(
        world.aws("dynamodb"),
        world.settings.table_name,
        alice.sub,
        model_version="2026-11-01-abc",
        generated_at="2026-11-01T03:00:00Z",
        insights=InsightSet(
            forecasts=[
                Forecast(
                    currency="EUR",
                    month="2026-12",
                    predicted=Decimal("410.00"),
                    lower=Decimal("350"),
                    upper=Decimal("480.5"),
                )
            ],
            anomalies=[
                Anomaly(
                    receipt_id="r1",
                    currency="EUR",
                    amount=Decimal("230.00"),
                    explanation="3x your usual dining spend",
                    score=0.93,
                )
            ],
        ),
    )
    after = world.http.get("/api/insights", headers=alice.headers).json()
    assert after["reason"] is None and after["model_version"] == "2026-11-01-abc"
    assert after["insights"]["forecasts"] == [
        {
            "currency": "EUR",
            "month": "2026-12",
            "category": None,
            "predicted": "410.00",
            "lower": "350",
            "upper": "480.5",
        }
    ]
    assert (
        after["insights"]["anomalies"][0]["score"] == 0.93
        and after["insights"]["anomalies"][0]["amount"] == "230.00"
    )
    # malformed item from a writer bug: no 500, a reason instead
    world.aws("dynamodb").put_item(
        TableName=world.settings.table_name,
        Item={"PK": {"S": f"USER#{alice.sub}"}, "SK": {"S": INSIGHTS_SK}, "forecasts": {"S": "oops"}},
    )
    broken = world.http.get("/api/insights", headers=alice.headers)
    assert broken.status_code == 200 and broken.json()["reason"]


def test_export_csv_streams_one_row_per_item(world: ApiWorld, alice: User) -> None:
    processed(
        world.repo,
        pending(world, alice),
        vendor="=HYPERLINK(evil)",
        day=date(2026, 1, 3),
        total="3.00",
        items=[("Milk", "1.00", "groceries"), ("Eggs", "2.00", "groceries")],
    )
    processed(world.repo, pending(world, alice), vendor="Shell", day=date(2026, 2, 3), total="50.00")
    processed(world.repo, pending(world, alice), vendor="Later", day=date(2026, 6, 3), total="1.00")
    response = world.http.get(
        "/api/export.csv", params={"from": "2026-01-01", "to": "2026-03-31"}, headers=alice.headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["vendor"], r["item_description"], r["total"]) for r in rows] == [
        ("'=HYPERLINK(evil)", "Milk", "3.00"),
        ("'=HYPERLINK(evil)", "Eggs", "3.00"),
        ("Shell", "", "50.00"),
    ]
    bad = world.http.get(
        "/api/export.csv", params={"from": "2026-03-01", "to": "2026-01-01"}, headers=alice.headers
    )
    assert bad.status_code == 400


def test_export_pages_through_many_receipts(world: ApiWorld, alice: User, monkeypatch) -> None:
    from lambda_src.api.routes import export

    monkeypatch.setattr(export, "PAGE_SIZE", 2)
    for day in range(1, 6):
        processed(world.repo, pending(world, alice), day=date(2026, 1, day), total=f"{day}.00")
    rows = list(csv.DictReader(io.StringIO(world.http.get("/api/export.csv", headers=alice.headers).text)))
    assert [r["purchase_date"] for r in rows] == [f"2026-01-0{d}" for d in range(1, 6)]


def test_erase_me_removes_everything_and_writes_a_tombstone(world: ApiWorld, alice: User, bob: User) -> None:
    s3 = world.aws("s3")
    for _ in range(2):
        slot = new_upload(world, alice, sha256="cd" * 32)
        upload_file(slot)
        upload_file(slot)  # a second version of the same key
        r = processed(world.repo, Receipt.model_validate(slot["receipt"]))
        s3.put_object(
            Bucket=world.settings.lake_bucket, Key=f"raw/textract/{alice.sub}/{r.receipt_id}.json", Body=b"{}"
        )
        world.http.patch(f"/api/receipts/{r.receipt_id}", json={"tip": "1.00"}, headers=alice.headers)
    pending(world, alice)  # never uploaded
    bobs = processed(world.repo, pending(world, bob))

    response = world.http.delete("/api/me", headers=alice.headers)

    assert response.status_code == 200, response.text
    assert response.json() == {"erased": {"receipts": 3, "images": 2, "raw_documents": 2}}
    partition = world.aws("dynamodb").query(
        TableName=world.settings.table_name,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"USER#{alice.sub}"}},
    )["Items"]
    assert partition == []
    for bucket, prefix in (
        (world.settings.uploads_bucket, f"uploads/{alice.sub}/"),
        (world.settings.lake_bucket, f"raw/textract/{alice.sub}/"),
    ):
        listing = s3.list_object_versions(Bucket=bucket, Prefix=prefix)
        assert listing.get("Versions", []) == [] and listing.get("DeleteMarkers", []) == []
    tombstone = json.loads(
        s3.get_object(Bucket=world.settings.lake_bucket, Key=f"tombstones/{alice.sub}.json")["Body"].read()
    )
    assert tombstone["user_id"] == alice.sub and tombstone["erased"]["receipts"] == 3
    # Bob is untouched
    assert world.repo.get(bob.sub, bobs.receipt_id) is not None
    # erasing again is harmless
    assert world.http.delete("/api/me", headers=alice.headers).json() == {
        "erased": {"receipts": 0, "images": 0, "raw_documents": 0}
    }
