"""The run's CloudWatch metrics (names in ``ml/metrics_names.py``, which the stacks graph)."""

from __future__ import annotations

from typing import Any

from ml import metrics_names as names


def datapoints(report: Any = None, *, failed: bool = False, seconds: float | None = None) -> dict[str, float]:
    if failed or report is None:
        return {
            names.RUN_SUCCEEDED: 0.0,
            **({names.DURATION_SECONDS: seconds} if seconds is not None else {}),
        }
    summary = report.metrics
    shipped = summary["categorizer"]["shipped"]
    out = {
        names.RUN_SUCCEEDED: 1.0,
        names.DURATION_SECONDS: float(report.seconds),
        names.RESUMED: 1.0 if report.resumed else 0.0,
        names.CATEGORIZER_MACRO_F1: float(summary["categorizer"]["test"][shipped]["macro_f1"]),
        names.PROMOTED: 1.0 if report.promoted else 0.0,
    }
    ratio = summary["forecast"].get("ratio")
    if ratio is not None:
        out[names.FORECAST_MAE_RATIO] = float(ratio)
    return out


def emit(
    cloudwatch: Any, env: str, report: Any = None, *, failed: bool = False, seconds: float | None = None
) -> None:
    values = datapoints(report, failed=failed, seconds=seconds)
    cloudwatch.put_metric_data(
        Namespace=names.NAMESPACE,
        MetricData=[
            {
                "MetricName": name,
                "Value": value,
                "Dimensions": [{"Name": names.DIMENSION_ENVIRONMENT, "Value": env}],
            }
            for name, value in values.items()
        ],
    )
