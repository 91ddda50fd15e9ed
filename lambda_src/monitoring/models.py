"""The reconciliation function's configuration, read once from its environment variables."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    """Everything the stack sets on the function (names as in stacks/monitoring_stack.py)."""

    model_config = ConfigDict(frozen=True)

    table_name: str = Field(min_length=1)
    uploads_bucket: str = Field(min_length=1)
    ingest_queue_url: str = Field(min_length=1)
    stuck_after_minutes: int = Field(gt=0)
    aws_region: str = Field(min_length=1)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        values = {
            name: environ[name.upper()]
            for name in cls.model_fields
            if environ.get(name.upper()) not in (None, "")
        }
        return cls.model_validate(values)
