"""The job's metrics: CloudWatch in Glue, recorded in memory locally (and in the report)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from glue_scripts import lake_schema as lake


@dataclass(frozen=True)
class Metric:
    name: str
    value: float
    unit: str = "Count"
    dimensions: Mapping[str, str] = field(default_factory=dict)


class MetricsPublisher(Protocol):
    def publish(self, metrics: list[Metric]) -> None: ...


@dataclass
class RecordingPublisher:
    metrics: list[Metric] = field(default_factory=list)

    def publish(self, metrics: list[Metric]) -> None:
        self.metrics.extend(metrics)

    def value(self, name: str, **dimensions: str) -> float | None:
        found = [m.value for m in self.metrics if m.name == name and dict(m.dimensions) == dimensions]
        return sum(found) if found else None


class CloudWatchPublisher:
    """PutMetricData in batches, every metric with the environment as a dimension."""

    BATCH = 500

    def __init__(self, client: Any, environment: str, namespace: str = lake.METRICS_NAMESPACE) -> None:
        self.client = client
        self.environment = environment
        self.namespace = namespace

    def publish(self, metrics: list[Metric]) -> None:
        now = datetime.now(UTC)
        data = [
            {
                "MetricName": m.name,
                "Value": m.value,
                "Unit": m.unit,
                "Timestamp": now,
                "Dimensions": [
                    {"Name": "Environment", "Value": self.environment},
                    *({"Name": k, "Value": v} for k, v in m.dimensions.items()),
                ],
            }
            for m in metrics
        ]
        for start in range(0, len(data), self.BATCH):
            self.client.put_metric_data(Namespace=self.namespace, MetricData=data[start : start + self.BATCH])
