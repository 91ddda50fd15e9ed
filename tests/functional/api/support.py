"""Helpers for the API tests: a moto server with a Cognito pool, per-test resources, and
an S3 POST-policy evaluator (moto accepts any POST, so the policy is checked here the way
S3 checks it)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import boto3

from lambda_src.common.model import LineItem, Receipt, Status, Vendor
from lambda_src.common.repository import ReceiptRepository

REGION = "eu-west-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def client(service: str, endpoint: str) -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint, **CREDENTIALS)


@dataclass(frozen=True)
class Pool:
    pool_id: str
    client_id: str
    other_client_id: str
    issuer: str
    jwks_url: str


@dataclass(frozen=True)
class User:
    email: str
    password: str
    sub: str
    id_token: str
    access_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.id_token}"}


def create_pool(endpoint: str) -> Pool:
    idp = client("cognito-idp", endpoint)
    pool_id = idp.create_user_pool(
        PoolName=f"receiptlake-test-{uuid.uuid4().hex[:6]}",
        UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
    )["UserPool"]["Id"]
    flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="web", ExplicitAuthFlows=flows)[
        "UserPoolClient"
    ]["ClientId"]
    other = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="other-app", ExplicitAuthFlows=flows)[
        "UserPoolClient"
    ]["ClientId"]
    return Pool(
        pool_id=pool_id,
        client_id=client_id,
        other_client_id=other,
        issuer=f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}",
        jwks_url=f"{endpoint}/{pool_id}/.well-known/jwks.json",
    )


def sign_up(endpoint: str, pool: Pool, email: str, *, client_id: str | None = None) -> User:
    idp = client("cognito-idp", endpoint)
    password = "Correct-Horse-9-battery!"
    try:
        idp.admin_create_user(
            UserPoolId=pool.pool_id,
            Username=email,
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
            MessageAction="SUPPRESS",
        )
        idp.admin_set_user_password(
            UserPoolId=pool.pool_id, Username=email, Password=password, Permanent=True
        )
    except idp.exceptions.UsernameExistsException:
        pass
    return sign_in(endpoint, pool, email, password, client_id=client_id)


def sign_in(endpoint: str, pool: Pool, email: str, password: str, *, client_id: str | None = None) -> User:
    idp = client("cognito-idp", endpoint)
    result = idp.initiate_auth(
        ClientId=client_id or pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )["AuthenticationResult"]
    claims = json.loads(_b64(result["IdToken"].split(".")[1]))
    return User(email, password, claims["sub"], result["IdToken"], result["AccessToken"])


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


# ---- receipts as the ingest worker would leave them ---------------------------------
def processed(
    repo: ReceiptRepository,
    pending: Receipt,
    *,
    vendor: str = "Corner Grocer",
    day: date = date(2026, 3, 14),
    currency: str = "EUR",
    total: str = "12.50",
    items: list[tuple[str, str, str | None]] | None = None,
    status: Status = Status.PROCESSED,
    category: str = "groceries",
) -> Receipt:
    """Complete a PENDING receipt like ingest does (items: description, amount, category)."""
    line_items = [
        LineItem(description=d, amount=Decimal(a), quantity=Decimal(1), category=c)
        for d, a, c in (items or [])
    ]
    result = pending.model_copy(
        update={
            "status": status,
            "vendor": Vendor(name=vendor),
            "purchase_date": day,
            "currency": currency,
            "total": Decimal(total),
            "line_items": line_items,
            "category": category,
            "processed_at": datetime.now(UTC),
            "review_reasons": ["the total is unreadable"] if status is Status.NEEDS_REVIEW else [],
            "failure_reason": "the image is not a receipt" if status is Status.FAILED else None,
        }
    )
    return repo.complete(result).receipt


# ---- S3 POST policy, evaluated as S3 does -------------------------------------------
class PolicyViolation(Exception):
    pass


def check_post(fields: dict[str, str], file_size: int, secret: str, bucket: str) -> None:
    """Raise PolicyViolation unless S3 would accept a browser POST of ``fields``.

    Checks the SigV4 signature over the policy, its expiry, and every condition (eq,
    starts-with, content-length-range); every form field must be covered by a condition."""
    policy_b64 = fields["policy"]
    credential = fields["x-amz-credential"]
    _, day, region, service, _ = credential.split("/")
    key = ("AWS4" + secret).encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, policy_b64.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, fields.get("x-amz-signature", "")):
        raise PolicyViolation("signature does not match the policy")
    policy = json.loads(base64.b64decode(policy_b64))
    if datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00")) < datetime.now(UTC):
        raise PolicyViolation("policy expired")
    form = {k.lower(): v for k, v in fields.items()} | {"bucket": bucket}
    covered = {"policy", "x-amz-signature", "file"}
    for condition in policy["conditions"]:
        if isinstance(condition, dict):
            ((name, value),) = condition.items()
            op, field = "eq", name.lower()
        else:
            op, field, value = condition[0].lower(), condition[1], condition[2]
            if op == "content-length-range":
                if not condition[1] <= file_size <= condition[2]:
                    raise PolicyViolation(f"size {file_size} outside {condition[1:]}")
                continue
            field = field.lstrip("$").lower()
        covered.add(field)
        actual = form.get(field)
        if actual is None:
            raise PolicyViolation(f"form lacks {field}")
        if op == "eq" and actual != value:
            raise PolicyViolation(f"{field}={actual!r}, policy requires {value!r}")
        if op == "starts-with" and not actual.startswith(value):
            raise PolicyViolation(f"{field}={actual!r} does not start with {value!r}")
    extra = set(form) - covered - {"bucket"}
    if extra:
        raise PolicyViolation(f"fields not covered by the policy: {sorted(extra)}")
