"""A moto server (the same emulator local mode runs) with a real Cognito pool, two
signed-in users, and fresh API resources per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from moto.server import ThreadedMotoServer

from lambda_src.api.app import create_app
from lambda_src.api.deps import Deps, build_deps
from lambda_src.api.settings import AuthMode, Settings
from lambda_src.common.repository import ReceiptRepository
from receiptlake.local.tables import create_receipts_table
from tests.functional.api.support import REGION, Pool, User, client, create_pool, sign_up

FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    previous = {k: os.environ.get(k) for k in FAKE_ENV}
    os.environ.update(FAKE_ENV)  # fake credentials: nothing can reach a real account
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
    for k, v in previous.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def pool(moto_endpoint: str) -> Pool:
    return create_pool(moto_endpoint)


@pytest.fixture(scope="session")
def alice(moto_endpoint: str, pool: Pool) -> User:
    return sign_up(moto_endpoint, pool, "alice@example.com")


@pytest.fixture(scope="session")
def bob(moto_endpoint: str, pool: Pool) -> User:
    return sign_up(moto_endpoint, pool, "bob@example.com")


@dataclass
class ApiWorld:
    endpoint: str
    settings: Settings
    deps: Deps
    app: FastAPI
    http: TestClient

    @property
    def repo(self) -> ReceiptRepository:
        return self.deps.repository

    def aws(self, service: str) -> Any:
        return client(service, self.endpoint)


def make_settings(endpoint: str, pool: Pool, **overrides: Any) -> Settings:
    suffix = uuid.uuid4().hex[:10]
    s3 = client("s3", endpoint)
    uploads, lake = f"uploads-{suffix}", f"lake-{suffix}"
    for bucket in (uploads, lake):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    table = f"receipts-{suffix}"
    create_receipts_table(client("dynamodb", endpoint), table)
    queue_url = client("sqs", endpoint).create_queue(QueueName=f"ingest-{suffix}")["QueueUrl"]
    values: dict[str, Any] = {
        "table_name": table,
        "uploads_bucket": uploads,
        "lake_bucket": lake,
        "ingest_queue_url": queue_url,
        "auth_mode": AuthMode.VERIFY,
        "cognito_issuer": pool.issuer,
        "cognito_jwks_url": pool.jwks_url,
        "cognito_client_id": pool.client_id,
        "aws_region": REGION,
        "aws_endpoint_url": endpoint,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def world(moto_endpoint: str, pool: Pool) -> Iterator[ApiWorld]:
    settings = make_settings(moto_endpoint, pool)
    deps = build_deps(settings)
    app = create_app(deps=deps)
    with TestClient(app, raise_server_exceptions=False) as http:
        yield ApiWorld(moto_endpoint, settings, deps, app, http)
