"""Identity: verify mode against a real moto Cognito pool (tampered, expired, wrong
audience, wrong token type), and apigw mode through the Lambda handler with the claims
API Gateway's JWT authorizer passes on."""

from __future__ import annotations

import base64
import gzip
import json
import time
from pathlib import Path
from typing import Any

import jwt
import moto.cognitoidp
import pytest

from tests.functional.api.conftest import ApiWorld
from tests.functional.api.support import Pool, User, sign_in
from tests.functional.api.test_analytics_and_more import _random_history

MOTO_PRIVATE_JWK = Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-private.json.gz"


def _pool_key() -> Any:
    """The key moto's pool signs with, to mint tokens the pool could have issued."""
    return jwt.PyJWK(json.loads(gzip.open(MOTO_PRIVATE_JWK).read())).key


def _claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def _mint(user: User, **changes: Any) -> str:
    claims = _claims(user.id_token) | changes
    return jwt.encode(claims, _pool_key(), algorithm="RS256", headers={"kid": "dummy"})


def _call(world: ApiWorld, token: str | None, scheme: str = "Bearer") -> Any:
    headers = {"Authorization": f"{scheme} {token}"} if token is not None else {}
    return world.http.get("/api/receipts", headers=headers)


def test_a_signed_in_user_gets_through(world: ApiWorld, alice: User) -> None:
    assert _call(world, alice.id_token).status_code == 200
    # a token minted with the pool's key and unchanged claims is as good (sanity of _mint)
    assert _call(world, _mint(alice)).status_code == 200


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "basic",
        "garbage",
        "tampered",
        "expired",
        "wrong_audience",
        "access_token",
        "wrong_issuer",
        "alg_none",
        "hs256_with_public_key",
        "foreign_key",
    ],
)
def test_bad_tokens_are_401_problems(
    case: str, world: ApiWorld, alice: User, bob: User, pool: Pool, moto_endpoint: str
) -> None:
    scheme = "Bearer"
    if case == "missing":
        token = None
    elif case == "basic":
        token, scheme = base64.b64encode(b"alice:pw").decode(), "Basic"
    elif case == "garbage":
        token = "not.a.jwt"
    elif case == "tampered":
        # Bob's signature, Alice's sub: claims edited after signing
        header, _payload, signature = bob.id_token.split(".")
        forged = _claims(bob.id_token) | {"sub": alice.sub}
        body = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
        token = f"{header}.{body}.{signature}"
    elif case == "expired":
        token = _mint(alice, exp=int(time.time()) - 3600, iat=int(time.time()) - 7200)
    elif case == "wrong_audience":
        # a real sign-in, through another app client of the same pool
        token = sign_in(
            moto_endpoint, pool, alice.email, alice.password, client_id=pool.other_client_id
        ).id_token
    elif case == "access_token":
        token = alice.access_token
    elif case == "wrong_issuer":
        token = _mint(alice, iss="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_other")
    elif case == "alg_none":
        # PyJWT annotates `key` without None, yet alg="none" requires key=None (NoneAlgorithm.prepare_key)
        token = jwt.encode(
            _claims(alice.id_token),
            None,  # type: ignore[arg-type]
            algorithm="none",
            headers={"kid": "dummy"},
        )
    elif case == "hs256_with_public_key":
        public_pem = (
            _pool_key()
            .public_key()
            .public_bytes(
                encoding=__import__(
                    "cryptography.hazmat.primitives.serialization", fromlist=["x"]
                ).Encoding.PEM,
                format=__import__(
                    "cryptography.hazmat.primitives.serialization", fromlist=["x"]
                ).PublicFormat.SubjectPublicKeyInfo,
            )
        )
        token = _hs256(_claims(alice.id_token), public_pem)
    elif case == "foreign_key":
        from cryptography.hazmat.primitives.asymmetric import rsa

        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        token = jwt.encode(_claims(alice.id_token), other, algorithm="RS256", headers={"kid": "dummy"})
    response = _call(world, token, scheme)
    assert response.status_code == 401, (case, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["detail"]


def _hs256(claims: dict[str, Any], secret: bytes) -> str:
    # PyJWT refuses to sign HS256 with a PEM key, which is the point; build it by hand.
    import hashlib
    import hmac

    enc = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()  # noqa: E731
    head = enc(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "dummy"}).encode())
    body = enc(json.dumps(claims).encode())
    sig = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{enc(sig)}"


def test_expiry_messages_say_what_to_do(world: ApiWorld, alice: User) -> None:
    expired = _mint(alice, exp=int(time.time()) - 60)
    assert "expired" in _call(world, expired).json()["detail"]
    assert "Bearer" in _call(world, None).json()["detail"]


# ---- apigw mode: through the Lambda handler ------------------------------------------
def _http_api_event(path: str, claims: dict[str, Any] | None, method: str = "GET", query: str = "") -> dict:
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "ANY /api/{proxy+}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"host": "api.example.com", "user-agent": "pytest", "x-forwarded-proto": "https"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.9",
                "userAgent": "pytest",
            },
            "requestId": "req-1",
            "routeKey": "ANY /api/{proxy+}",
            "stage": "$default",
            "time": "25/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1795000000000,
        },
        "isBase64Encoded": False,
    }
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return event


@pytest.fixture
def lambda_handler(world: ApiWorld, monkeypatch: pytest.MonkeyPatch) -> Any:
    from lambda_src.api import app as app_module
    from lambda_src.api import handler as handler_module

    s = world.settings
    env = {
        "TABLE_NAME": s.table_name,
        "UPLOADS_BUCKET": s.uploads_bucket,
        "LAKE_BUCKET": s.lake_bucket,
        "INGEST_QUEUE_URL": s.ingest_queue_url,
        "AUTH_MODE": "apigw",
        "AWS_ENDPOINT_URL": world.endpoint,
        "AWS_REGION": "eu-west-1",
        "POWERTOOLS_SERVICE_NAME": "receiptlake-api",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    app_module.get_app.cache_clear()
    handler_module._adapter.cache_clear()
    yield handler_module.handler
    app_module.get_app.cache_clear()
    handler_module._adapter.cache_clear()


def test_handler_reads_the_authorizers_claims(
    lambda_handler: Any, lambda_context: Any, world: ApiWorld, alice: User
) -> None:
    claims = _claims(alice.id_token)
    # API Gateway hands claims over as strings
    claims = {k: str(v) for k, v in claims.items()}
    created = lambda_handler(
        _http_api_event("/api/receipts", claims, "POST")
        | {
            "body": json.dumps({"filename": "a.png", "content_type": "image/png", "size_bytes": 10}),
            "headers": {"content-type": "application/json"},
        },
        lambda_context,
    )
    assert created["statusCode"] == 201, created
    rid = json.loads(created["body"])["receipt"]["receipt_id"]
    got = lambda_handler(_http_api_event(f"/api/receipts/{rid}", claims), lambda_context)
    assert got["statusCode"] == 200 and json.loads(got["body"])["receipt"]["user_id"] == alice.sub
    listing = lambda_handler(_http_api_event("/api/receipts", claims, query="limit=5"), lambda_context)
    assert [r["receipt_id"] for r in json.loads(listing["body"])["items"]] == [rid]


def test_handler_without_claims_or_with_access_token_claims_is_401(
    lambda_handler: Any, lambda_context: Any, alice: User
) -> None:
    no_claims = lambda_handler(_http_api_event("/api/receipts", None), lambda_context)
    assert no_claims["statusCode"] == 401
    access = {k: str(v) for k, v in _claims(alice.access_token).items()}
    assert lambda_handler(_http_api_event("/api/receipts", access), lambda_context)["statusCode"] == 401
    # a bearer header is ignored in apigw mode: only the authorizer's claims count
    forged = _http_api_event("/api/receipts", None)
    forged["headers"]["authorization"] = f"Bearer {alice.id_token}"
    assert lambda_handler(forged, lambda_context)["statusCode"] == 401


def test_handler_serves_openapi_and_csv(lambda_handler: Any, lambda_context: Any, alice: User) -> None:
    doc = lambda_handler(_http_api_event("/api/openapi.json", None), lambda_context)
    assert doc["statusCode"] == 200 and "/api/receipts" in json.loads(doc["body"])["paths"]
    claims = {k: str(v) for k, v in _claims(alice.id_token).items()}
    export = lambda_handler(_http_api_event("/api/export.csv", claims), lambda_context)
    assert export["statusCode"] == 200 and export["body"].startswith("receipt_id,status")
    assert not export["isBase64Encoded"]


def test_handler_serves_the_summary_as_the_server_does(
    lambda_handler: Any, lambda_context: Any, world: ApiWorld, alice: User
) -> None:
    # The Lambda path reads the aggregates inline (one event per invocation), the test
    # server in a worker thread; both through the API's client, over HTTP to moto.
    _random_history(world, alice, n=12, seed=3)
    claims = {k: str(v) for k, v in _claims(alice.id_token).items()}
    for group in ("month", "category", "vendor"):
        query = f"from=2026-01&to=2026-12&group={group}"
        via_lambda = lambda_handler(
            _http_api_event("/api/analytics/summary", claims, query=query), lambda_context
        )
        assert via_lambda["statusCode"] == 200, via_lambda
        served = world.http.get(f"/api/analytics/summary?{query}", headers=alice.headers)
        assert served.status_code == 200
        assert json.loads(via_lambda["body"]) == served.json()
        assert served.json()["currencies"], "the history has spending in 2026"
