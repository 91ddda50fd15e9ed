"""Isolation: another user's receipt is indistinguishable from a missing one on every
route, and an upload slot cannot be bent to write into another user's prefix."""

from __future__ import annotations

import base64
import json

import pytest

from lambda_src.common.model import Receipt, Status
from tests.functional.api.conftest import ApiWorld
from tests.functional.api.support import PolicyViolation, User, check_post, processed
from tests.functional.api.test_receipts import JPEG, new_upload, upload_file

ROUTES = [
    ("GET", "/api/receipts/{id}", None),
    ("PATCH", "/api/receipts/{id}", {"total": "1.00"}),
    ("DELETE", "/api/receipts/{id}", None),
    ("POST", "/api/receipts/{id}/retry", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_someone_elses_receipt_is_a_plain_404(
    method: str, path: str, body: dict | None, world: ApiWorld, alice: User, bob: User
) -> None:
    slot = new_upload(world, alice)
    upload_file(slot)
    theirs = processed(world.repo, Receipt.model_validate(slot["receipt"]), status=Status.FAILED)
    missing_id = "f" * len(theirs.receipt_id)

    response = world.http.request(method, path.format(id=theirs.receipt_id), json=body, headers=bob.headers)
    missing = world.http.request(method, path.format(id=missing_id), json=body, headers=bob.headers)

    assert response.status_code == missing.status_code == 404
    assert response.json() == json.loads(missing.text.replace(missing_id, theirs.receipt_id))
    # and Alice's receipt is exactly as it was
    assert world.repo.require(alice.sub, theirs.receipt_id) == theirs


def test_someone_elses_receipts_never_show_in_listings_or_analytics(
    world: ApiWorld, alice: User, bob: User
) -> None:
    processed(
        world.repo,
        Receipt.model_validate(new_upload(world, alice)["receipt"]),
        items=[("milk", "12.50", None)],
    )
    for path, params in (
        ("/api/receipts", {}),
        ("/api/receipts", {"status": "PROCESSED"}),
        ("/api/receipts", {"q": "milk"}),
    ):
        assert world.http.get(path, params=params, headers=bob.headers).json()["items"] == []
    assert (
        world.http.get("/api/analytics/summary", params={"from": "2000-01"}, headers=bob.headers).json()[
            "currencies"
        ]
        == []
    )
    assert (
        world.http.get("/api/analytics/items", params={"q": "milk"}, headers=bob.headers).json()["points"]
        == []
    )
    assert world.http.get("/api/export.csv", headers=bob.headers).text.count("\n") == 1  # header only
    assert world.http.delete("/api/me", headers=bob.headers).json()["erased"]["receipts"] == 0
    assert len(list(world.repo.iter_receipts(alice.sub))) == 1


def test_a_users_upload_slot_cannot_write_into_another_users_prefix(
    world: ApiWorld, alice: User, bob: User
) -> None:
    bucket = world.settings.uploads_bucket
    slot = new_upload(world, bob)
    fields = slot["upload"]["fields"]
    # The untouched slot is accepted, at the declared type and within the size limit ...
    check_post(fields, len(JPEG), "testing", bucket)
    # ... but not for Alice's key, a prefix trick, another type, or too many bytes.
    alice_key = f"uploads/{alice.sub}/{slot['receipt']['receipt_id']}.jpg"
    for bent, size in (
        (fields | {"key": alice_key}, len(JPEG)),
        (fields | {"key": fields["key"] + "/../../" + alice_key}, len(JPEG)),
        (fields | {"key": f"uploads/{alice.sub}/${{filename}}"}, len(JPEG)),
        (fields | {"Content-Type": "text/html"}, len(JPEG)),
        (fields, 20 * 1024 * 1024 + 1),
        (fields | {"x-amz-meta-owner": alice.sub}, len(JPEG)),
    ):
        with pytest.raises(PolicyViolation):
            check_post(bent, size, "testing", bucket)
    # Rewriting the policy itself breaks its signature.
    policy = json.loads(base64.b64decode(fields["policy"]))
    policy["conditions"] = [c for c in policy["conditions"] if not (isinstance(c, list) and c[1] == "$key")]
    forged = fields | {"policy": base64.b64encode(json.dumps(policy).encode()).decode(), "key": alice_key}
    with pytest.raises(PolicyViolation, match="signature"):
        check_post(forged, len(JPEG), "testing", bucket)


def test_a_slot_is_only_for_the_declared_receipt_and_content_type(world: ApiWorld, bob: User) -> None:
    slot = new_upload(world, bob, content_type="image/png", filename="a.png")
    fields = slot["upload"]["fields"]
    assert fields["key"] == f"uploads/{bob.sub}/{slot['receipt']['receipt_id']}.png"
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert {"bucket": world.settings.uploads_bucket} in policy["conditions"]
    # short expiry: the policy lapses within the configured five minutes
    from datetime import UTC, datetime

    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert 0 < (expires - datetime.now(UTC)).total_seconds() <= world.settings.upload_url_ttl_seconds


def test_user_id_in_the_body_is_ignored(world: ApiWorld, alice: User, bob: User) -> None:
    body = {"filename": "a.jpg", "content_type": "image/jpeg", "size_bytes": 10, "user_id": alice.sub}
    assert world.http.post("/api/receipts", json=body, headers=bob.headers).status_code == 400
