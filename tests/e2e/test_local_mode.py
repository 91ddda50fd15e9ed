"""Local mode end to end: two users, a real receipt through presigned POST → SQS → ingest
handler → local OCR → table, analytics, isolation, and a restart that keeps it all."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import LocalMode

pytestmark = pytest.mark.e2e

RECEIPT = Path(__file__).resolve().parents[1] / "fixtures" / "reader" / "sroie_X51009453801.jpg"
RECEIPT_TOTAL = Decimal("102.00")  # printed on the receipt; see tests/fixtures/reader/SOURCE.txt


def sign_in(mode: LocalMode, email: str) -> dict[str, str]:
    config = httpx.get(f"{mode.url}/config.json").json()
    response = httpx.post(
        config["cognitoEndpoint"],
        headers={
            "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
            "Content-Type": "application/x-amz-json-1.1",
        },
        json={
            "ClientId": config["userPoolClientId"],
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": email, "PASSWORD": mode.users[email]},
        },
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['AuthenticationResult']['IdToken']}"}


def month_total(mode: LocalMode, auth: dict[str, str], currency: str) -> Decimal:
    summary = httpx.get(
        f"{mode.url}/api/analytics/summary",
        params={"from": "2000-01", "to": "2099-12", "group": "month"},
        headers=auth,
    ).json()
    return sum((Decimal(c["total"]) for c in summary["currencies"] if c["currency"] == currency), Decimal(0))


def upload(mode: LocalMode, auth: dict[str, str], path: Path) -> str:
    data = path.read_bytes()
    slot = httpx.post(
        f"{mode.url}/api/receipts",
        headers=auth,
        json={"filename": path.name, "content_type": "image/jpeg", "size_bytes": len(data)},
    )
    assert slot.status_code == 201, slot.text
    body: dict[str, Any] = slot.json()
    post = httpx.post(
        body["upload"]["url"], data=body["upload"]["fields"], files={"file": (path.name, data, "image/jpeg")}
    )
    assert post.status_code in (200, 201, 204), post.text
    return str(body["receipt"]["receipt_id"])


def wait_terminal(
    mode: LocalMode, auth: dict[str, str], receipt_id: str, seconds: float = 30
) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        receipt: dict[str, Any] = httpx.get(f"{mode.url}/api/receipts/{receipt_id}", headers=auth).json()[
            "receipt"
        ]
        if receipt["status"] != "PENDING":
            return receipt
        time.sleep(0.5)
    raise AssertionError(f"receipt {receipt_id} still PENDING after {seconds} s")


def test_upload_is_read_counted_isolated_and_survives_a_restart(
    local_mode_factory: type[LocalMode], tmp_path: Path
) -> None:
    # Given local mode with its two local users signed in through the Cognito endpoint
    mode = local_mode_factory(state_dir=tmp_path / "state").start()
    alice_email, bob_email = sorted(mode.users)  # demo@…, guest@…
    alice, bob = sign_in(mode, alice_email), sign_in(mode, bob_email)
    before = month_total(mode, alice, "MYR")

    # When Alice uploads a real receipt photo through the presigned POST
    receipt_id = upload(mode, alice, RECEIPT)

    # Then it is read within 30 s with the printed total, and the analytics move by it
    receipt = wait_terminal(mode, alice, receipt_id)
    assert receipt["status"] in ("PROCESSED", "NEEDS_REVIEW"), receipt
    assert Decimal(receipt["total"]) == RECEIPT_TOTAL
    assert receipt["currency"] == "MYR"
    assert receipt["ocr_engine"] == "local"
    assert month_total(mode, alice, "MYR") == before + RECEIPT_TOTAL

    # And Bob cannot see it: 404, like a receipt that does not exist
    assert httpx.get(f"{mode.url}/api/receipts/{receipt_id}", headers=bob).status_code == 404
    assert httpx.get(f"{mode.url}/api/receipts/does-not-exist", headers=bob).status_code == 404
    assert month_total(mode, bob, "MYR") == 0

    # When local mode is stopped with Ctrl-C and started again on the same state
    printed = mode.stop()
    assert "state saved" in printed
    assert "Traceback" not in printed and "Warning" not in printed, printed
    console = [*mode.output, *printed.splitlines()]
    assert not [line for line in console if line.lstrip().startswith("{")], "JSON (EMF lines) in the console"
    again = local_mode_factory(state_dir=tmp_path / "state", port=mode.port).start()
    assert again.users == mode.users
    alice = sign_in(again, alice_email)

    # Then the receipt, its image and the analytics are still there
    kept = httpx.get(f"{again.url}/api/receipts/{receipt_id}", headers=alice).json()
    assert kept["receipt"]["total"] == receipt["total"]
    assert httpx.get(kept["image_url"]).content == RECEIPT.read_bytes()
    assert month_total(again, alice, "MYR") == before + RECEIPT_TOTAL
