"""Logger, metrics and tracer of the reconciliation function, and the telemetry its logic
writes to (Powertools EMF in Lambda; the ops commands print the report instead)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = "reconcile"
NAMESPACE = "receiptlake"
ENVIRONMENT_DIMENSION = "environment"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)


class PowertoolsTelemetry:
    """With ``ENVIRONMENT`` set (the stack sets it), metrics carry an ``environment``
    dimension, as ingest's do, so environments sharing an account stay apart."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        environment = (os.environ if environ is None else environ).get("ENVIRONMENT")
        if environment:
            metrics.set_default_dimensions(**{ENVIRONMENT_DIMENSION: environment})

    def count(self, name: str, value: float = 1) -> None:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
