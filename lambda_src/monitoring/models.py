"""The reconciliation function's configuration, read once from its environment variables."""

from __future__ import annotations

from pydantic import Field

from lambda_src.common.settings import EnvironmentSettings


class Settings(EnvironmentSettings):
    """Everything the stack sets on the function (names as in stacks/monitoring_stack.py)."""

    table_name: str = Field(min_length=1)
    uploads_bucket: str = Field(min_length=1)
    ingest_queue_url: str = Field(min_length=1)
    stuck_after_minutes: int = Field(gt=0)
    aws_region: str = Field(min_length=1)
