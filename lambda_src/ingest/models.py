"""The ingest function's configuration, read once from its environment variables."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from lambda_src.common.settings import EnvironmentSettings
from lambda_src.ingest.validation import MB


class Settings(EnvironmentSettings):
    """Everything the stack sets on the function (names as in stacks/ingest_stack.py)."""

    table_name: str = Field(min_length=1)
    lake_bucket: str = Field(min_length=1)
    raw_prefix: str = "raw/textract/"
    quarantine_prefix: str = "quarantine/"
    max_upload_bytes: int = Field(default=10 * MB, gt=0)
    max_pages: int = Field(default=15, gt=0)
    # Textract calls per second this one worker may make: the environment's TPS divided by
    # the event source mapping's maximum concurrency, so all workers together stay under it.
    textract_tps_per_worker: float = Field(default=1.0, gt=0)
    # SQS maxReceiveCount: on the last delivery a transient failure becomes FAILED rather
    # than a message in the DLQ with the receipt stuck in PENDING.
    max_receive_count: int = Field(default=5, gt=0)
    textract_sns_topic_arn: str | None = None
    textract_role_arn: str | None = None
    ocr_engine: Literal["textract", "local"] = "textract"
    # The models bucket: the promoted categorizer (latest.json) replaces the bundled one.
    models_bucket: str | None = None

    @property
    def async_enabled(self) -> bool:
        """Multi-page PDFs go through StartExpenseAnalysis only when a topic is wired."""
        return bool(self.textract_sns_topic_arn and self.textract_role_arn)
