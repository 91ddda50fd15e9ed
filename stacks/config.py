"""One frozen, typed configuration per environment, read from cdk.json context.

Stacks take every value that differs between environments from ``EnvConfig``; they
never read context or environment variables themselves.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

REPO_ROOT = Path(__file__).resolve().parents[1]
ENVIRONMENTS_KEY = "receiptlake:environments"
DEFAULT_ENV = "dev"
ALL_ENVS = "all"
PROJECT = "receiptlake"


class ConfigError(ValueError):
    """The chosen environment or its settings are wrong; the message says how to fix it."""


class MonitoringConfig(BaseModel):
    """Alarm thresholds and the reconciliation schedule of one environment.

    Periods are five minutes unless a field says otherwise; an alarm fires after
    ``datapoints_to_alarm`` breaching periods out of ``evaluation_periods``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    period_minutes: int = Field(default=5, ge=1, le=60)
    evaluation_periods: int = Field(default=3, ge=1, le=24)
    datapoints_to_alarm: int = Field(default=2, ge=1, le=24)
    # Ingest
    dlq_messages: int = Field(default=1, ge=1)
    queue_oldest_message_seconds: int = Field(default=900, ge=60)
    ingest_error_rate_percent: float = Field(default=5, gt=0, le=100)
    ingest_failed_receipts: int = Field(default=10, ge=1)
    upload_to_stored_p99_seconds: float = Field(default=120, gt=0)
    textract_throttles: int = Field(default=20, ge=1)
    # API (rates are judged only above min_requests, so a quiet night with one error is no page)
    api_5xx_rate_percent: float = Field(default=2, gt=0, le=100)
    api_p99_latency_ms: int = Field(default=3000, ge=100)
    api_min_requests: int = Field(default=20, ge=1)
    lambda_throttles: int = Field(default=1, ge=1)
    dynamodb_throttles: int = Field(default=10, ge=1)
    # Reconciliation: a receipt PENDING longer than this is stuck (re-queued once, then alarmed)
    stuck_after_minutes: int = Field(default=60, ge=5)
    reconcile_every_minutes: int = Field(default=15, ge=5, le=1440)

    @model_validator(mode="after")
    def _consistent(self) -> MonitoringConfig:
        if self.datapoints_to_alarm > self.evaluation_periods:
            raise ValueError("datapoints_to_alarm cannot exceed evaluation_periods")
        return self


class EnvConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{1,15}$")
    account: str | None = Field(default=None, pattern=r"^\d{12}$")
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    # Data: stateful resources RETAIN unless this dev-only flag says destroy.
    destroy_on_removal: bool
    deletion_protection: bool
    log_retention_days: int = Field(gt=0)
    raw_zone_infrequent_access_days: int = Field(ge=30)
    raw_zone_glacier_days: int = Field(gt=0)
    noncurrent_version_expiry_days: int = Field(gt=0)
    alarm_email: str | None = None
    # Ingest
    ingest_memory_mb: int = Field(ge=128, le=10240)
    ingest_timeout_seconds: int = Field(ge=10, le=900)
    ingest_reserved_concurrency: int = Field(ge=2)
    textract_tps: int = Field(ge=1)
    max_upload_mb: int = Field(ge=1, le=500)
    # API
    api_memory_mb: int = Field(ge=128, le=10240)
    api_reserved_concurrency: int = Field(ge=1)
    api_throttle_rate: int = Field(ge=1)
    api_throttle_burst: int = Field(ge=1)
    web_origins: tuple[str, ...]
    waf_enabled: bool
    # Training and ETL
    spot_instance_types: tuple[str, ...] = Field(min_length=1)
    training_max_instances: int = Field(ge=1)
    # Glue 5 Spark worker types (G.025X is for streaming jobs only).
    glue_worker_type: str = Field(pattern=r"^(G\.(1|2|4|8|12|16)X|R\.(1|2|4|8)X)$")
    glue_workers: int = Field(ge=2)
    etl_schedule: str = Field(pattern=r"^cron\(.+\)$")
    # Athena stops (and bills no further) a query of the analysts' workgroup past this.
    athena_bytes_scanned_cutoff_gb: int = Field(ge=1)
    training_schedule: str = Field(pattern=r"^cron\(.+\)$")
    # The training image: an SSM parameter naming an AMI, resolved at every launch so each run
    # boots the latest patched image (stacks/training_stack.py explains the choice).
    training_ami_parameter: str = Field(
        default="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64", pattern=r"^/[\w./-]+$"
    )
    # A run still going this long after the schedule started it is stopped and the group
    # scaled back to zero, whatever it is doing (a hung run must not bill forever).
    training_max_runtime_hours: int = Field(default=6, ge=1, le=23)
    # Alarm when no run succeeded for this many days; CloudWatch evaluates an alarm over
    # at most 7 days (stacks/monitoring_training.py).
    training_stale_after_days: int = Field(default=7, ge=1, le=7)
    training_volume_gb: int = Field(default=30, ge=8, le=1024)
    tags: Mapping[str, str]
    monitoring: MonitoringConfig = MonitoringConfig()

    @model_validator(mode="after")
    def _destroy_only_in_dev(self) -> EnvConfig:
        if self.destroy_on_removal and self.name != "dev":
            raise ValueError("destroy_on_removal is allowed in dev only: data elsewhere is retained")
        if self.destroy_on_removal and self.deletion_protection:
            raise ValueError("destroy_on_removal and deletion_protection contradict each other")
        if self.raw_zone_glacier_days <= self.raw_zone_infrequent_access_days:
            raise ValueError("raw_zone_glacier_days must come after raw_zone_infrequent_access_days")
        # A message may legitimately be in flight for maxReceiveCount visibility timeouts of
        # six function timeouts each (stacks/ingest_stack.py); only after that is it stuck.
        in_flight_minutes = 5 * 6 * self.ingest_timeout_seconds / 60
        if self.monitoring.stuck_after_minutes <= in_flight_minutes:
            raise ValueError(
                f"monitoring.stuck_after_minutes must exceed {in_flight_minutes:g}, the longest an "
                "ingest message can still be retried"
            )
        return self

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    def stack_name(self, layer: str) -> str:
        return f"{PROJECT}-{self.name}-{layer}"


def read_cdk_json_context(path: Path = REPO_ROOT / "cdk.json") -> dict[str, Any]:
    context: dict[str, Any] = json.loads(path.read_text())["context"]
    return context


def environment_names(environments: Mapping[str, Any], selector: str | None) -> list[str]:
    """Names chosen by ``-c env=``: one name, a comma-separated list, or ``all``."""
    valid = sorted(environments)
    chosen = selector or DEFAULT_ENV
    names = valid if chosen == ALL_ENVS else [n.strip() for n in chosen.split(",") if n.strip()]
    unknown = [n for n in names if n not in environments]
    if unknown or not names:
        raise ConfigError(
            f"unknown environment {', '.join(unknown) or repr(chosen)}: "
            f"choose one of {', '.join(valid)} (or '{ALL_ENVS}') with -c env=NAME"
        )
    return names


def load_config(
    environments: Mapping[str, Any], name: str, env: Mapping[str, str] | None = None
) -> EnvConfig:
    """Build the EnvConfig of one environment; account and region fall back to the
    CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION the CDK CLI sets."""
    environment_names(environments, name)
    env = os.environ if env is None else env
    raw = dict(environments[name])
    raw["name"] = name
    raw["account"] = raw.get("account") or env.get("CDK_DEFAULT_ACCOUNT") or None
    raw["region"] = raw.get("region") or env.get("CDK_DEFAULT_REGION")
    try:
        return EnvConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'config'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"environment '{name}' in cdk.json is invalid: {problems}") from exc
