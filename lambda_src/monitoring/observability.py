"""Logger, metrics and tracer of the reconciliation function, and the telemetry its logic
writes to (Powertools EMF in Lambda; the ops commands print the report instead)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = "reconcile"
NAMESPACE = "receiptlake"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)


class PowertoolsTelemetry:
    def count(self, name: str, value: float = 1) -> None:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
