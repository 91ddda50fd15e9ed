"""Logger, metrics and tracer for the ingest function, and the small metrics interface the
plain logic writes to (Powertools in Lambda, an in-memory recorder in tests and local mode)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from typing import Protocol

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = "ingest"
NAMESPACE = "receiptlake"
ENVIRONMENT_DIMENSION = "environment"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)


class Telemetry(Protocol):
    def count(self, name: str, value: float = 1, *, dimensions: Mapping[str, str] | None = None) -> None: ...

    def milliseconds(self, name: str, value: float) -> None: ...


class PowertoolsTelemetry:
    """Metrics as CloudWatch EMF through Powertools (flushed by @metrics.log_metrics).

    With ``ENVIRONMENT`` set (the stack sets it), every metric also carries an
    ``environment`` dimension: environments deployed to one account and region would
    otherwise add up on each other's dashboards and alarms.
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        environment = (os.environ if environ is None else environ).get("ENVIRONMENT")
        self.environment = {ENVIRONMENT_DIMENSION: environment} if environment else {}
        if self.environment:
            metrics.set_default_dimensions(**self.environment)

    def count(self, name: str, value: float = 1, *, dimensions: Mapping[str, str] | None = None) -> None:
        if not dimensions:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
            return
        # A dimensioned metric (failures by reason) must not share the batch's dimensions.
        from aws_lambda_powertools.metrics import single_metric
        from aws_lambda_powertools.metrics.functions import is_metrics_disabled

        if is_metrics_disabled():  # single_metric prints its EMF line even when disabled
            return

        with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE) as m:
            m.add_dimension(name="service", value=SERVICE)
            for key, dim in {**self.environment, **dimensions}.items():
                m.add_dimension(name=key, value=dim)

    def milliseconds(self, name: str, value: float) -> None:
        metrics.add_metric(name=name, unit=MetricUnit.Milliseconds, value=value)


class RecordingTelemetry:
    """Keeps counts and timings in memory (tests, local mode, benchmarks)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.timings: dict[str, list[float]] = {}

    def count(self, name: str, value: float = 1, *, dimensions: Mapping[str, str] | None = None) -> None:
        key = name + "".join(f"[{k}={v}]" for k, v in sorted((dimensions or {}).items()))
        self.counts[key] += int(value)

    def milliseconds(self, name: str, value: float) -> None:
        self.timings.setdefault(name, []).append(value)
