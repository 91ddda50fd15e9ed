"""The one app object: the same FastAPI app runs in Lambda (handler.py, via Mangum) and,
unchanged, under uvicorn in local mode.

    create_app(settings, deps)   # tests and local mode: explicit collaborators
    lambda_src.api.app:app       # built lazily from the environment on first access
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from lambda_src.api import problems
from lambda_src.api.deps import Deps, build_deps
from lambda_src.api.routes import account, analytics, export, insights, receipts
from lambda_src.api.settings import Settings

API_VERSION = "1.0.0"


def create_app(settings: Settings | None = None, deps: Deps | None = None) -> FastAPI:
    """Build the app. Give ``deps`` to reuse clients (tests, local mode), else ``settings``
    (or the environment) is used to build them."""
    if deps is None:
        deps = build_deps(settings or Settings())  # fields from the environment
    elif settings is not None and settings is not deps.settings:
        raise ValueError("pass settings or deps built from them, not both differing")
    app = FastAPI(
        title="receiptlake API",
        version=API_VERSION,
        description="Receipts, corrections, analytics, insights and export for one signed-in user.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.deps = deps
    app.state.one_request_at_a_time = False  # see context.run_blocking; Lambda sets it
    problems.install(app)
    if deps.settings.cors_origins:
        # Local development only: in AWS the web app and /api share one origin.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(deps.settings.cors_origins),
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    for module in (receipts, analytics, insights, export, account):
        app.include_router(module.router)

    @app.get("/api/health", tags=["health"], include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


@lru_cache(maxsize=1)
def get_app() -> FastAPI:
    """The process's app, built from the environment once."""
    return create_app()


def __getattr__(name: str) -> Any:
    # `uvicorn lambda_src.api.app:app` and `from lambda_src.api.app import app` work
    # without building clients (or needing the environment) at import time.
    if name == "app":
        return get_app()
    raise AttributeError(name)
