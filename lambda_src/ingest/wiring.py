"""The real dependencies, built once per execution environment (warm invocations reuse
them). Nothing here runs at import time."""

from __future__ import annotations

import os
from functools import cache, lru_cache
from typing import Any

from lambda_src.ingest.logic import Deps
from lambda_src.ingest.models import Settings


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_env(os.environ)


@cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    # Textract retries are the adapter's own (rate-limited, jittered); other services keep
    # botocore's standard retries.
    attempts = 1 if service == "textract" else 3
    return boto3.client(service, config=Config(retries={"mode": "standard", "max_attempts": attempts}))


@lru_cache(maxsize=1)
def aws_deps() -> Deps:
    from lambda_src.common.repository import ReceiptRepository
    from lambda_src.ingest.adapters.s3 import S3ObjectStore, S3RawZone
    from lambda_src.ingest.adapters.textract import THROTTLES, BotoTextract, ExpenseAnalyzer, RateLimiter
    from lambda_src.ingest.observability import PowertoolsTelemetry

    config = settings()
    telemetry = PowertoolsTelemetry()
    textract: ExpenseAnalyzer = (
        _local_reader()
        if config.ocr_engine == "local"
        else BotoTextract(
            client("textract"),
            limiter=RateLimiter(config.textract_tps_per_worker),
            on_throttle=lambda code: telemetry.count(
                "TextractThrottles" if code in THROTTLES else "TextractErrors", dimensions={"code": code}
            ),
            sns_topic_arn=config.textract_sns_topic_arn,
            role_arn=config.textract_role_arn,
        )
    )
    return Deps(
        textract=textract,
        storage=S3ObjectStore(client("s3")),
        repository=ReceiptRepository(config.table_name, client("dynamodb")),
        categorizer=categorizer(config.models_bucket),
        raw_zone=S3RawZone(client("s3"), config.lake_bucket, config.raw_prefix),
        settings=config,
        telemetry=telemetry,
    )


def categorizer(models_bucket: str | None) -> Any:
    """The promoted model from the models bucket, else the bundled one, else the keyword
    rules: once per execution environment, and never a reason for ingest to fail."""
    from lambda_src.ingest.model_categorizer import load_categorizer, promoted_model

    data = promoted_model(client("s3"), models_bucket) if models_bucket else None
    return load_categorizer(data)


def _local_reader() -> Any:
    # Local mode only (OCR_ENGINE=local): the offline reader answers like AnalyzeExpense.
    # It is not part of the Lambda bundle, hence the import here.
    from receiptlake.reader.textract_adapter import LocalTextract

    return LocalTextract()
