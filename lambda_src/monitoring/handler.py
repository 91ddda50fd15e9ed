"""Lambda entry point: one reconciliation run on each scheduled (EventBridge) invocation."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambda_src.monitoring.adapters import AwsInventory, SqsQueue
from lambda_src.monitoring.logic import reconcile
from lambda_src.monitoring.models import Settings
from lambda_src.monitoring.observability import PowertoolsTelemetry, logger, metrics, tracer


def clock() -> datetime:
    return datetime.now(UTC)


@lru_cache(maxsize=1)
def _wiring() -> tuple[Settings, AwsInventory, SqsQueue]:
    settings = Settings.from_env(os.environ)
    inventory = AwsInventory(
        settings.table_name, settings.uploads_bucket, boto3.client("dynamodb"), boto3.client("s3")
    )
    return settings, inventory, SqsQueue(boto3.client("sqs"), settings.ingest_queue_url, settings.aws_region)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings, inventory, queue = _wiring()
    report = reconcile(
        inventory,
        queue,
        PowertoolsTelemetry(),
        now=clock(),
        stuck_after=timedelta(minutes=settings.stuck_after_minutes),
    )
    logger.info("Reconciled", extra={"figures": report.figures(), "stuck": report.stuck[:50]})
    return report.figures()
