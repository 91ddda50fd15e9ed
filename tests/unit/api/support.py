"""What the unit tests of the API share."""

from __future__ import annotations

from typing import Any

from lambda_src.api.settings import Settings


def unit_settings(**overrides: Any) -> Settings:
    """Settings with placeholder resource names (nothing here reaches AWS)."""
    values: dict[str, Any] = {
        "table_name": "t",
        "uploads_bucket": "u",
        "lake_bucket": "l",
        "ingest_queue_url": "https://q",
        "aws_region": "eu-west-1",
    }
    return Settings(**(values | overrides))
