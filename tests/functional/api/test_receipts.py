"""Receipts routes against moto: upload slot, list/search, one receipt, PATCH, DELETE, retry."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from urllib.parse import unquote_plus

import httpx

from lambda_src.common.model import Receipt, Status
from tests.functional.api.conftest import ApiWorld
from tests.functional.api.support import User, processed

JPEG = b"\xff\xd8\xff\xe0" + b"0" * 1000


def new_upload(world: ApiWorld, user: User, **body: object) -> dict:
    payload = {"filename": "lunch.jpg", "content_type": "image/jpeg", "size_bytes": len(JPEG)} | body
    response = world.http.post("/api/receipts", json=payload, headers=user.headers)
    assert response.status_code == 201, response.text
    return response.json()


def upload_file(slot: dict, data: bytes = JPEG) -> httpx.Response:
    return httpx.post(slot["upload"]["url"], data=slot["upload"]["fields"], files={"file": ("x", data)})


def pending(world: ApiWorld, user: User, **body: object) -> Receipt:
    return Receipt.model_validate(new_upload(world, user, **body)["receipt"])


# ---- POST /api/receipts ----------------------------------------------------------------
def test_upload_slot_records_pending_and_uploads_to_the_callers_key(world: ApiWorld, alice: User) -> None:
    # Given a signed-in user, When she asks for a slot and uploads through it
    slot = new_upload(world, alice)
    receipt = slot["receipt"]
    upload = upload_file(slot)

    # Then the receipt is PENDING, stored, keyed under her sub, and S3 holds the file
    assert upload.status_code in (200, 204), upload.text
    assert receipt["status"] == "PENDING" and receipt["user_id"] == alice.sub
    key = f"uploads/{alice.sub}/{receipt['receipt_id']}.jpg"
    assert receipt["object_key"] == key == slot["upload"]["fields"]["key"]
    assert slot["upload"]["fields"]["Content-Type"] == "image/jpeg"
    assert slot["duplicate_of"] is None
    assert world.repo.require(alice.sub, receipt["receipt_id"]).status is Status.PENDING
    body = world.aws("s3").get_object(Bucket=world.settings.uploads_bucket, Key=key)["Body"].read()
    assert body == JPEG


def test_upload_slot_policy_pins_key_type_and_size(world: ApiWorld, alice: User) -> None:
    import base64

    slot = new_upload(world, alice, content_type="application/pdf", filename="a.pdf")
    policy = json.loads(base64.b64decode(slot["upload"]["fields"]["policy"]))
    conditions = policy["conditions"]
    key = f"uploads/{alice.sub}/{slot['receipt']['receipt_id']}.pdf"
    assert ["eq", "$key", key] in conditions
    assert ["eq", "$Content-Type", "application/pdf"] in conditions
    assert ["content-length-range", 1, 20 * 1024 * 1024] in conditions
    assert slot["upload"]["url"].startswith(world.endpoint)  # the browser-visible endpoint


def test_too_large_upload_is_413_up_front(world: ApiWorld, alice: User) -> None:
    body = {"filename": "big.png", "content_type": "image/png", "size_bytes": 20 * 1024 * 1024 + 1}
    response = world.http.post("/api/receipts", json=body, headers=alice.headers)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 413 and "limit" in problem["detail"]
    assert set(problem) == {"type", "title", "status", "detail"}


def test_disallowed_content_type_is_400(world: ApiWorld, alice: User) -> None:
    body = {"filename": "x.gif", "content_type": "image/gif", "size_bytes": 10}
    response = world.http.post("/api/receipts", json=body, headers=alice.headers)
    assert response.status_code == 400
    assert "content_type" in response.json()["detail"]


def test_same_image_hash_is_flagged_as_duplicate(world: ApiWorld, alice: User, bob: User) -> None:
    sha = "ab" * 32
    first = new_upload(world, alice, sha256=sha)
    second = new_upload(world, alice, sha256=sha.upper())
    assert second["duplicate_of"] == first["receipt"]["receipt_id"]
    assert second["receipt"]["duplicate_of"] == first["receipt"]["receipt_id"]
    # another user's identical file is not her duplicate
    assert new_upload(world, bob, sha256=sha)["duplicate_of"] is None
    # once the first is deleted, the hash no longer flags
    world.http.delete(f"/api/receipts/{first['receipt']['receipt_id']}", headers=alice.headers)
    world.http.delete(f"/api/receipts/{second['receipt']['receipt_id']}", headers=alice.headers)
    assert new_upload(world, alice, sha256=sha)["duplicate_of"] is None


def test_same_vendor_date_and_total_is_flagged_on_read(world: ApiWorld, alice: User) -> None:
    a = processed(world.repo, pending(world, alice), vendor="Corner Grocer", total="9.99")
    b = processed(world.repo, pending(world, alice), vendor="CORNER GROCER ", total="9.99")
    c = processed(world.repo, pending(world, alice), vendor="Corner Grocer", total="10.00")
    got = world.http.get(f"/api/receipts/{b.receipt_id}", headers=alice.headers).json()
    assert got["receipt"]["duplicate_of"] == a.receipt_id
    assert (
        world.http.get(f"/api/receipts/{c.receipt_id}", headers=alice.headers).json()["receipt"][
            "duplicate_of"
        ]
        is None
    )


# ---- GET /api/receipts ------------------------------------------------------------------
def _seed(world: ApiWorld, user: User) -> dict[str, Receipt]:
    return {
        "milk": processed(
            world.repo,
            pending(world, user),
            vendor="Corner Grocer",
            day=date(2026, 1, 5),
            items=[("Whole milk 1L", "1.10", "groceries"), ("Bread", "2.00", "groceries")],
            total="3.10",
        ),
        "fuel": processed(
            world.repo,
            pending(world, user),
            vendor="Shell",
            day=date(2026, 2, 7),
            total="60.00",
            category="transport",
        ),
        "lunch": processed(
            world.repo,
            pending(world, user),
            vendor="Noodle Bar",
            day=date(2026, 3, 9),
            total="14.00",
            category="dining",
            status=Status.NEEDS_REVIEW,
        ),
    }


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [r["receipt_id"] for r in response.json()["items"]]


def test_list_filters_and_searches(world: ApiWorld, alice: User) -> None:
    r = _seed(world, alice)
    get = lambda **params: world.http.get("/api/receipts", params=params, headers=alice.headers)  # noqa: E731
    assert ids(get()) == [r["lunch"].receipt_id, r["fuel"].receipt_id, r["milk"].receipt_id]
    assert ids(get(**{"from": "2026-02-01", "to": "2026-02-28"})) == [r["fuel"].receipt_id]
    assert ids(get(category="transport")) == [r["fuel"].receipt_id]
    assert ids(get(category="GROCERIES")) == [r["milk"].receipt_id]
    assert ids(get(vendor="noodle")) == [r["lunch"].receipt_id]
    assert ids(get(vendor="corner-grocer")) == [r["milk"].receipt_id]
    assert ids(get(q="milk")) == [r["milk"].receipt_id]
    assert ids(get(q="shell")) == [r["fuel"].receipt_id]
    assert ids(get(status="NEEDS_REVIEW")) == [r["lunch"].receipt_id]
    assert ids(get(status="NEEDS_REVIEW", q="noodle")) == [r["lunch"].receipt_id]
    assert ids(get(status="PROCESSED", **{"from": "2026-02-01"})) == [r["fuel"].receipt_id]


def test_list_pages_with_cursor(world: ApiWorld, alice: User) -> None:
    made = [pending(world, alice).receipt_id for _ in range(5)]
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        body = world.http.get("/api/receipts", params=params, headers=alice.headers).json()
        seen += [i["receipt_id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(made)


def test_bad_cursor_and_bad_params_are_400(world: ApiWorld, alice: User) -> None:
    for params in (
        {"cursor": "garbage"},
        {"cursor": "d.garbage"},
        {"status": "NEEDS_REVIEW", "cursor": "d.eyJQSyI6IlgifQ"},
        {"limit": 0},
        {"limit": 1000},
        {"from": "2026-13-01"},
        {"from": "2026-03-02", "to": "2026-03-01"},
        {"status": "DONE"},
    ):
        response = world.http.get("/api/receipts", params=params, headers=alice.headers)
        assert response.status_code == 400, (params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")


def test_list_with_anothers_cursor_is_400(world: ApiWorld, alice: User, bob: User) -> None:
    for _ in range(3):
        pending(world, alice)
    cursor = world.http.get("/api/receipts", params={"limit": 1}, headers=alice.headers).json()["next_cursor"]
    assert cursor
    response = world.http.get("/api/receipts", params={"cursor": cursor}, headers=bob.headers)
    assert response.status_code == 400


# ---- GET /api/receipts/{id} --------------------------------------------------------------
def test_get_returns_receipt_and_short_lived_image_url(world: ApiWorld, alice: User) -> None:
    slot = new_upload(world, alice)
    rid = slot["receipt"]["receipt_id"]
    before = world.http.get(f"/api/receipts/{rid}", headers=alice.headers).json()
    assert before["image_url"] is None  # nothing uploaded yet
    upload_file(slot)
    body = world.http.get(f"/api/receipts/{rid}", headers=alice.headers).json()
    assert body["receipt"]["receipt_id"] == rid
    assert "X-Amz-Expires=300" in body["image_url"]
    assert httpx.get(body["image_url"]).content == JPEG


def test_missing_receipt_is_404_problem(world: ApiWorld, alice: User) -> None:
    for rid in ("nope", "a" * 65, "bad id!"):
        response = world.http.get(f"/api/receipts/{rid}", headers=alice.headers)
        assert response.status_code == 404
        assert response.json()["title"] == "Not found"


# ---- PATCH -------------------------------------------------------------------------------
def test_patch_corrects_fields_keeps_history_and_moves_aggregates(world: ApiWorld, alice: User) -> None:
    r = processed(world.repo, pending(world, alice), total="10.00", day=date(2026, 3, 1))
    body = {"total": "12.00", "vendor": {"name": "Corner Grocer Ltd"}, "version": r.version}
    response = world.http.patch(f"/api/receipts/{r.receipt_id}", json=body, headers=alice.headers)
    assert response.status_code == 200, response.text
    got = response.json()["receipt"]
    assert got["total"] == "12.00" and got["vendor"]["name"] == "Corner Grocer Ltd"
    assert got["version"] == r.version + 1
    assert set(got["corrected_fields"]) == {"total", "vendor"}
    history = world.aws("dynamodb").query(
        TableName=world.settings.table_name,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :c)",
        ExpressionAttributeValues={
            ":pk": {"S": f"USER#{alice.sub}"},
            ":c": {"S": f"CORRECTION#{r.receipt_id}"},
        },
    )["Items"]
    fields = {h["field"]["S"]: (h["old"]["S"], h["new"]["S"]) for h in history}
    assert fields["total"] == ('"10.00"', '"12.00"')
    assert all("corrected_at" in h for h in history)
    month = world.repo.aggregate_cells(alice.sub, "M", "2026-03", "2026-03")
    assert [(Decimal(m[4]), m[5]) for m in month] == [(Decimal("12.00"), 1)]


def test_patch_with_stale_version_is_409(world: ApiWorld, alice: User) -> None:
    r = processed(world.repo, pending(world, alice))
    url = f"/api/receipts/{r.receipt_id}"
    assert (
        world.http.patch(url, json={"tip": "1.00", "version": r.version}, headers=alice.headers).status_code
        == 200
    )
    stale = world.http.patch(url, json={"tip": "2.00", "version": r.version}, headers=alice.headers)
    assert stale.status_code == 409
    assert "version" in stale.json()["detail"]


def test_patch_of_pending_is_409_and_bad_input_is_400(world: ApiWorld, alice: User) -> None:
    p = pending(world, alice)
    url = f"/api/receipts/{p.receipt_id}"
    assert world.http.patch(url, json={"total": "1.00"}, headers=alice.headers).status_code == 409
    r = processed(world.repo, pending(world, alice))
    url = f"/api/receipts/{r.receipt_id}"
    for body in (
        {},
        {"total": "12abc"},
        {"total": 1e30},
        {"currency": "euro"},
        {"status": "PROCESSED"},
        {"user_id": "someone-else"},
        {"purchase_date": "yesterday"},
        {"line_items": [{"description": ""}]},
        {"line_items": [{"description": "x", "amount": "NaN"}]},
    ):
        response = world.http.patch(url, json=body, headers=alice.headers)
        assert response.status_code == 400, (body, response.text)
    assert (
        world.http.patch(
            url, content=b"{not json", headers=alice.headers | {"content-type": "application/json"}
        ).status_code
        == 400
    )


def test_patch_that_fixes_a_review_receipt_marks_it_processed(world: ApiWorld, alice: User) -> None:
    r = processed(
        world.repo,
        pending(world, alice),
        status=Status.NEEDS_REVIEW,
        total="5.00",
        items=[("Coffee", "3.00", "dining"), ("Cake", "2.50", "dining")],
    )
    url = f"/api/receipts/{r.receipt_id}"
    # still wrong: 3.00 + 2.50 != 5.00
    assert (
        world.http.patch(url, json={"category": "dining"}, headers=alice.headers).json()["receipt"]["status"]
        == "NEEDS_REVIEW"
    )
    fixed = world.http.patch(url, json={"total": "5.50"}, headers=alice.headers).json()["receipt"]
    assert fixed["status"] == "PROCESSED" and fixed["review_reasons"] == []
    queue = world.http.get("/api/receipts", params={"status": "NEEDS_REVIEW"}, headers=alice.headers)
    assert ids(queue) == []


def test_patch_line_items(world: ApiWorld, alice: User) -> None:
    r = processed(world.repo, pending(world, alice), total="3.00", items=[("Milk", "3.00", "groceries")])
    items = [
        {
            "description": "Milk",
            "quantity": "2",
            "unit_price": "1.00",
            "amount": "2.00",
            "category": "groceries",
        },
        {"description": "Soap", "amount": "1.00", "category": "household"},
    ]
    got = world.http.patch(f"/api/receipts/{r.receipt_id}", json={"line_items": items}, headers=alice.headers)
    assert got.status_code == 200, got.text
    assert [i["amount"] for i in got.json()["receipt"]["line_items"]] == ["2.00", "1.00"]
    cats = {c[2]: Decimal(c[4]) for c in world.repo.aggregate_cells(alice.sub, "C", "2026-03", "2026-03")}
    assert cats == {"groceries": Decimal("2.00"), "household": Decimal("1.00")}


# ---- DELETE ------------------------------------------------------------------------------
def test_delete_removes_receipt_image_raw_and_aggregates(world: ApiWorld, alice: User) -> None:
    slot = new_upload(world, alice)
    upload_file(slot)
    r = processed(world.repo, Receipt.model_validate(slot["receipt"]), total="7.00")
    s3 = world.aws("s3")
    raw = f"raw/textract/{alice.sub}/{r.receipt_id}.json"
    s3.put_object(Bucket=world.settings.lake_bucket, Key=raw, Body=b"{}")
    response = world.http.delete(f"/api/receipts/{r.receipt_id}", headers=alice.headers)
    assert response.status_code == 204 and response.content == b""
    assert world.repo.get(alice.sub, r.receipt_id) is None
    assert world.repo.aggregate_cells(alice.sub, "M", "2026-01", "2026-12") == []
    for bucket, key in ((world.settings.uploads_bucket, r.object_key), (world.settings.lake_bucket, raw)):
        assert s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", []) == []
    assert world.http.delete(f"/api/receipts/{r.receipt_id}", headers=alice.headers).status_code == 404


# ---- retry -------------------------------------------------------------------------------
def test_retry_resets_and_enqueues_an_s3_shaped_message(world: ApiWorld, alice: User) -> None:
    slot = new_upload(world, alice)
    upload_file(slot)
    r = processed(world.repo, Receipt.model_validate(slot["receipt"]), status=Status.FAILED)
    response = world.http.post(f"/api/receipts/{r.receipt_id}/retry", headers=alice.headers)
    assert response.status_code == 202, response.text
    assert response.json()["receipt"]["status"] == "PENDING"
    messages = world.aws("sqs").receive_message(
        QueueUrl=world.settings.ingest_queue_url, MaxNumberOfMessages=10
    )
    (message,) = messages["Messages"]
    record = json.loads(message["Body"])["Records"][0]
    assert record["eventSource"] == "aws:s3" and record["eventName"].startswith("ObjectCreated:")
    assert record["s3"]["bucket"]["name"] == world.settings.uploads_bucket
    assert unquote_plus(record["s3"]["object"]["key"]) == r.object_key
    assert record["s3"]["object"]["size"] == len(JPEG)


def test_retry_of_processed_or_never_uploaded_is_409(world: ApiWorld, alice: User) -> None:
    ok = processed(world.repo, pending(world, alice))
    assert world.http.post(f"/api/receipts/{ok.receipt_id}/retry", headers=alice.headers).status_code == 409
    failed = processed(world.repo, pending(world, alice), status=Status.FAILED)
    response = world.http.post(f"/api/receipts/{failed.receipt_id}/retry", headers=alice.headers)
    assert response.status_code == 409 and "upload it anew" in response.json()["detail"]
    assert world.repo.require(alice.sub, failed.receipt_id).status is Status.FAILED
