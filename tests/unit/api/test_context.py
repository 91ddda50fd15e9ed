"""The caller dependency: claims API Gateway verified are read on the event loop; a token
this process verifies (which may fetch signing keys) is checked in a worker thread."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from lambda_src.api.auth import Authenticator, Caller
from lambda_src.api.context import get_caller
from lambda_src.api.settings import AuthMode
from tests.unit.api.support import unit_settings


class RecordingAuthenticator:
    def __init__(self, blocking: bool) -> None:
        self.blocking = blocking
        self.thread: threading.Thread | None = None

    def __call__(self, request: Any) -> Caller:
        self.thread = threading.current_thread()
        return Caller(sub="u1", email=None)


class _Deps:
    def __init__(self, authenticator: RecordingAuthenticator) -> None:
        self.authenticator = authenticator


@pytest.mark.parametrize("blocking", [False, True])
def test_only_a_blocking_authenticator_runs_in_a_worker_thread(blocking: bool) -> None:
    authenticator = RecordingAuthenticator(blocking)
    caller = asyncio.run(get_caller(object(), _Deps(authenticator), None))  # type: ignore[arg-type]
    assert caller.sub == "u1"
    assert (authenticator.thread is threading.main_thread()) is not blocking


@pytest.mark.parametrize(("mode", "blocking"), [(AuthMode.APIGW, False), (AuthMode.VERIFY, True)])
def test_verifying_tokens_counts_as_blocking(mode: AuthMode, blocking: bool) -> None:
    settings = unit_settings(
        auth_mode=mode,
        cognito_issuer="https://issuer.example",
        cognito_jwks_url="https://issuer.example/.well-known/jwks.json",
        cognito_client_id="client",
    )
    assert Authenticator(settings, None).blocking is blocking
