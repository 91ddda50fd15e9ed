"""The caller dependency: claims API Gateway verified are read on the event loop; a token
this process verifies (which may fetch signing keys) is checked in a worker thread. A
route's blocking work runs inline only where the app serves one request at a time."""

from __future__ import annotations

import asyncio
import gc
import threading
from typing import Any

import pytest
from starlette.datastructures import State

from lambda_src.api.app import create_app
from lambda_src.api.auth import Authenticator, Caller
from lambda_src.api.context import get_caller, run_blocking
from lambda_src.api.deps import build_deps
from lambda_src.api.handler import lambda_adapter
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


class _App:
    def __init__(self, one_request_at_a_time: bool) -> None:
        self.state = State({"one_request_at_a_time": one_request_at_a_time})


class _Request:
    def __init__(self, one_request_at_a_time: bool) -> None:
        self.app = _App(one_request_at_a_time)


@pytest.mark.parametrize("one_at_a_time", [False, True])
def test_blocking_work_runs_inline_only_when_one_request_is_served_at_a_time(one_at_a_time: bool) -> None:
    def work(a: int, *, b: int) -> tuple[int, threading.Thread]:
        return a + b, threading.current_thread()

    request: Any = _Request(one_at_a_time)
    value, thread = asyncio.run(run_blocking(request, work, 1, b=2))
    assert value == 3
    assert (thread is threading.main_thread()) is one_at_a_time


def test_only_the_lambda_adapter_serves_one_request_at_a_time() -> None:
    app = create_app(deps=build_deps(unit_settings()))
    assert app.state.one_request_at_a_time is False  # local mode, tests: a server with many
    try:
        lambda_adapter(app)
    finally:
        gc.unfreeze()  # it froze this test session's heap, as after a cold start
    assert app.state.one_request_at_a_time is True
