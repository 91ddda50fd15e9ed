"""FastAPI dependencies: the process's ``Deps`` and the verified caller."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from lambda_src.api.auth import Caller
from lambda_src.api.deps import Deps
from lambda_src.api.problems import not_found

# Declares the bearer scheme in the OpenAPI document; the Authenticator does the checking
# (in AWS the header has already been verified by API Gateway).
_bearer = HTTPBearer(auto_error=False, description="The Cognito ID token from sign-in.")
_RECEIPT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def get_deps(request: Request) -> Deps:
    deps: Deps = request.app.state.deps
    return deps


def get_caller(
    request: Request,
    deps: Annotated[Deps, Depends(get_deps)],
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    return deps.authenticator(request)


AppDeps = Annotated[Deps, Depends(get_deps)]
CurrentUser = Annotated[Caller, Depends(get_caller)]


def checked_receipt_id(receipt_id: str) -> str:
    """Ids we never issue cannot exist: answer 404 without asking the table."""
    if not _RECEIPT_ID.match(receipt_id):
        raise not_found(receipt_id[:64])
    return receipt_id
