"""Property-based tests generated from the app's own OpenAPI document: whatever a client
sends, signed in, the API never answers 5xx (and answers what the document declares)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lambda_src.api.app import create_app
from lambda_src.api.deps import build_deps
from lambda_src.api.settings import AuthMode, Settings
from tests.functional.api.conftest import make_settings
from tests.functional.api.support import Pool, User

MAX_EXAMPLES = 10
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


# The schema is read at collection time, before any fixture runs; the app's collaborators
# live in app.state, so the fixture below swaps in the real ones (moto, Cognito) later.
_placeholder = Settings(
    table_name="unset",
    uploads_bucket="unset",
    lake_bucket="unset",
    ingest_queue_url="http://unset",
    auth_mode=AuthMode.APIGW,
)
APP = create_app(deps=build_deps(_placeholder))
schema = schemathesis.openapi.from_asgi("/api/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def _real_deps(moto_endpoint: str, pool: Pool) -> Iterator[None]:
    placeholder = APP.state.deps
    APP.state.deps = build_deps(make_settings(moto_endpoint, pool))
    with TestClient(APP):
        yield
    APP.state.deps = placeholder


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_server_errors(case: Any, alice: User) -> None:
    # Always signed in: the token is added to every case, so checks about a missing
    # Authorization header, and "unknown query parameter accepted" (FastAPI ignores
    # extras, as most APIs do), or opaque cursors rejected, are out of scope here.
    case.call_and_validate(headers={**(case.headers or {}), **alice.headers}, checks=CHECKS)
