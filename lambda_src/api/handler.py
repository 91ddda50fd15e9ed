"""Lambda entry point: API Gateway HTTP API (payload 2.0) events through Mangum."""

from __future__ import annotations

import gc
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from fastapi import FastAPI
from mangum import Mangum

from lambda_src.api.app import get_app
from lambda_src.api.observability import logger


def lambda_adapter(app: FastAPI) -> Mangum:
    """``app`` as the Lambda function serves it (the benchmark builds it the same way)."""
    # Mangum hands the app one event per invocation: blocking work needs no worker thread.
    app.state.one_request_at_a_time = True
    adapter = Mangum(app, lifespan="off")
    # What the cold start built (modules, the app, clients) lives as long as the container:
    # move it out of the collector's reach, else every full collection walks it (~100k
    # objects, tens of ms), and a summary's parsed pages trigger one every few requests.
    gc.collect()
    gc.freeze()
    return adapter


@lru_cache(maxsize=1)
def _adapter() -> Mangum:
    return lambda_adapter(get_app())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _adapter()(event, context)  # type: ignore[arg-type]
