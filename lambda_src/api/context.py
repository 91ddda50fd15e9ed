"""FastAPI dependencies: the process's ``Deps`` and the verified caller."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, ParamSpec, TypeVar

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from lambda_src.api.auth import Caller
from lambda_src.api.deps import Deps
from lambda_src.api.problems import not_found

# Declares the bearer scheme in the OpenAPI document; the Authenticator does the checking
# (in AWS the header has already been verified by API Gateway).
_bearer = HTTPBearer(auto_error=False, description="The Cognito ID token from sign-in.")
_RECEIPT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
P = ParamSpec("P")
T = TypeVar("T")


# Both are coroutines so that FastAPI does not hand each to a worker thread: in Lambda a
# request is one new task, which anyio gives a new thread per hop (~0.3 ms apiece).
async def get_deps(request: Request) -> Deps:
    deps: Deps = request.app.state.deps
    return deps


async def get_caller(
    request: Request,
    deps: Annotated[Deps, Depends(get_deps)],
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    authenticator = deps.authenticator
    if authenticator.blocking:  # may fetch the signing keys over HTTP
        return await run_in_threadpool(authenticator, request)
    return authenticator(request)


AppDeps = Annotated[Deps, Depends(get_deps)]
CurrentUser = Annotated[Caller, Depends(get_caller)]


def checked_receipt_id(receipt_id: str) -> str:
    """Ids we never issue cannot exist: answer 404 without asking the table."""
    if not _RECEIPT_ID.match(receipt_id):
        raise not_found(receipt_id[:64])
    return receipt_id


async def run_blocking(request: Request, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run an async route's blocking work (its AWS calls): inline where the app serves one
    request at a time (``app.state.one_request_at_a_time``, set by the Lambda adapter:
    Mangum hands the app one event per invocation, so nothing else waits for the loop,
    and anyio would start a new thread for each request), else in a worker thread so
    that the event loop keeps serving other requests (local mode, tests)."""
    if request.app.state.one_request_at_a_time:
        return fn(*args, **kwargs)
    return await run_in_threadpool(fn, *args, **kwargs)
