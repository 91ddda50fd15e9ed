"""Errors as RFC 9457 problem details (``application/problem+json``) a person can act on.

Every failure the API knows about becomes a ``Problem``; the handlers below turn request
validation errors and repository errors into the same shape, and anything unexpected
into a 500 that says nothing about internals.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from lambda_src.api.observability import logger
from lambda_src.common.repository import (
    InvalidCursor,
    InvalidTransition,
    ReceiptExists,
    ReceiptNotFound,
    RepositoryError,
    VersionConflict,
)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://receiptlake.dev/problems/"

_TITLES = {
    400: "Invalid request",
    401: "Not signed in",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    415: "Unsupported media type",
    422: "Invalid request",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}


class ProblemDetail(BaseModel):
    """The body of every error response."""

    type: str
    title: str
    status: int
    detail: str


class Problem(Exception):
    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind or _TITLES.get(status, "error").lower().replace(" ", "-")
        self.title = title or _TITLES.get(status, "Error")
        self.headers = headers or {}


def not_found(receipt_id: str) -> Problem:
    # One message for "missing" and "someone else's": the two must be indistinguishable.
    return Problem(404, f"There is no receipt {receipt_id!r} in your account.", kind="receipt-not-found")


def problem_response(problem: Problem) -> JSONResponse:
    body = ProblemDetail(
        type=TYPE_BASE + problem.kind, title=problem.title, status=problem.status, detail=problem.detail
    )
    return JSONResponse(
        body.model_dump(), status_code=problem.status, media_type=PROBLEM_JSON, headers=problem.headers
    )


def _describe_validation(errors: list[Any]) -> str:
    parts = []
    for error in errors[:5]:
        location = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body",)) or "body"
        parts.append(f"{location}: {error.get('msg', 'invalid')}")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "; ".join(parts) + more


# Responses to list in the OpenAPI document for every route.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ProblemDetail, "content": {PROBLEM_JSON: {}}, "description": _TITLES[status]}
    for status in (400, 401, 404)
}


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into a problem document."""

    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(Problem(400, _describe_validation(list(exc.errors())), kind="invalid-input"))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "Error")
        if exc.status_code == 404:
            detail = "There is no such path in this API; see /api/openapi.json."
        return problem_response(Problem(exc.status_code, detail, headers=dict(exc.headers or {})))

    @app.exception_handler(ReceiptNotFound)
    async def _missing(_: Request, exc: ReceiptNotFound) -> JSONResponse:
        return problem_response(
            Problem(404, "There is no such receipt in your account.", kind="receipt-not-found")
        )

    @app.exception_handler(VersionConflict)
    async def _conflict(_: Request, exc: VersionConflict) -> JSONResponse:
        detail = f"{exc} Reload the receipt and apply your change again."
        return problem_response(Problem(409, detail, kind="version-conflict"))

    @app.exception_handler(InvalidTransition)
    async def _transition(_: Request, exc: InvalidTransition) -> JSONResponse:
        return problem_response(Problem(409, str(exc).capitalize() + ".", kind="invalid-state"))

    @app.exception_handler(ReceiptExists)
    async def _exists(_: Request, exc: ReceiptExists) -> JSONResponse:
        return problem_response(Problem(409, str(exc), kind="receipt-exists"))

    @app.exception_handler(InvalidCursor)
    async def _cursor(_: Request, exc: InvalidCursor) -> JSONResponse:
        detail = "The cursor is not one this API returned; start again without it."
        return problem_response(Problem(400, detail, kind="invalid-cursor"))

    @app.exception_handler(RepositoryError)
    async def _repository(_: Request, exc: RepositoryError) -> JSONResponse:
        return problem_response(Problem(400, str(exc), kind="invalid-input"))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error")
        detail = "Something went wrong on our side. Try again in a moment."
        return problem_response(Problem(500, detail, kind="internal"))
