"""The monitoring stack's dashboard: one per environment, the golden signals of each layer
(the metrics and alarms it shows are defined in stacks/monitoring_stack.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw

from glue_scripts import lake_schema
from stacks.monitoring_training import training_widgets

if TYPE_CHECKING:
    from stacks.monitoring_stack import MonitoringStack


def _graph(
    stack: MonitoringStack,
    title: str,
    left: list[cw.IMetric],
    right: list[cw.IMetric] | None = None,
    width: int = 8,
) -> cw.GraphWidget:
    return cw.GraphWidget(
        title=title, left=left, right=right or [], width=width, height=6, period=stack.period
    )


def health_dashboard(stack: MonitoringStack) -> cw.Dashboard:
    """The environment's one dashboard: an alarm row, then each layer's golden signals."""
    from stacks.monitoring_stack import (  # the stack imports this module
        APP_NAMESPACE,
        CLOUDFRONT_METRICS_REGION,
        ETL_NAMESPACE,
        RECONCILE,
        RUNBOOK,
        WIDTH,
    )

    w = stack.watched
    m = stack.app_metric
    dashboard = cw.Dashboard(
        stack,
        "Dashboard",
        dashboard_name=f"{stack.prefix}-health",
        default_interval=Duration.hours(6),
    )
    dashboard.add_widgets(
        cw.TextWidget(
            markdown=(
                f"# receiptlake {stack.config.name}\n"
                f"Receipts flow: upload → ingest queue → ingest Lambda (Textract) → table. "
                f"Each alarm's description names its section of `{RUNBOOK}`."
            ),
            width=WIDTH,
            height=2,
        ),
        cw.AlarmStatusWidget(title="Alarms", alarms=stack.alarms, width=WIDTH, height=3),
    )
    failed_by_reason = stack.search(
        APP_NAMESPACE, ("environment", "reason", "service"), "Failed", stack.ingest_search, ""
    )
    dashboard.add_widgets(
        cw.TextWidget(markdown="## Ingest", width=WIDTH, height=1),
        _graph(
            stack,
            "Throughput (receipts per period)",
            [m("Processed"), m("NeedsReview"), m("Quarantined"), m("Duplicates")],
        ),
        _graph(
            stack,
            "Upload → stored latency (ms)",
            [m("UploadToStoredLatency", "p50"), m("UploadToStoredLatency", "p99")],
        ),
        _graph(
            stack,
            "Textract latency (ms) and throttles",
            [m("TextractLatency", "p50"), m("TextractLatency", "p99")],
            [
                stack.search(
                    APP_NAMESPACE,
                    ("code", "environment", "service"),
                    "TextractThrottles",
                    stack.ingest_search,
                    "",
                )
            ],
        ),
        _graph(stack, "Failures by reason", [failed_by_reason]),
        _graph(
            stack,
            "NEEDS_REVIEW rate (%)",
            [
                cw.MathExpression(
                    expression="IF(done > 0, 100 * review / done, 0)",
                    using_metrics={
                        "review": m("NeedsReview"),
                        "done": cw.MathExpression(
                            expression="FILL(processed, 0) + FILL(needsreview, 0)",
                            using_metrics={"processed": m("Processed"), "needsreview": m("NeedsReview")},
                            period=stack.period,
                        ),
                    },
                    label="NEEDS_REVIEW %",
                    period=stack.period,
                )
            ],
        ),
        _graph(stack, "Quarantined keys", [m("Quarantined"), m("UnrecognizedMessages")]),
        _graph(
            stack,
            "Queue depth",
            [
                w.ingest_queue.metric_approximate_number_of_messages_visible(
                    label="ingest visible", period=stack.period
                ),
                w.ingest_dlq.metric_approximate_number_of_messages_visible(
                    label="DLQ visible", period=stack.period
                ),
            ],
        ),
        _graph(
            stack,
            "Oldest message age (s)",
            [
                w.ingest_queue.metric_approximate_age_of_oldest_message(label="ingest", period=stack.period),
                w.ingest_dlq.metric_approximate_age_of_oldest_message(label="DLQ", period=stack.period),
            ],
        ),
        _graph(stack, "Async (multi-page) jobs", [m("AsyncJobsStarted")]),
    )
    api = w.http_api
    dashboard.add_widgets(
        cw.TextWidget(markdown="## API", width=WIDTH, height=1),
        _graph(
            stack,
            "Requests, 4xx, 5xx",
            [
                api.metric_count(period=stack.period, statistic="Sum", label="requests"),
                api.metric_client_error(period=stack.period, statistic="Sum", label="4xx"),
                api.metric_server_error(period=stack.period, statistic="Sum", label="5xx"),
            ],
        ),
        _graph(
            stack,
            "Latency (ms)",
            [
                api.metric_latency(period=stack.period, statistic="p50", label="p50"),
                api.metric_latency(period=stack.period, statistic="p99", label="p99"),
            ],
        ),
        _graph(
            stack,
            "DynamoDB throttles and system errors",
            [
                w.table.metric("ReadThrottleEvents", statistic="Sum", period=stack.period),
                w.table.metric("WriteThrottleEvents", statistic="Sum", period=stack.period),
                w.table.metric("SystemErrors", statistic="Sum", period=stack.period),
            ],
        ),
    )
    functions = {"ingest": w.ingest_function, "api": w.api_function, "reconcile": stack.reconcile_function}
    dashboard.add_widgets(
        cw.TextWidget(markdown="## Lambda", width=WIDTH, height=1),
        _graph(
            stack, "Errors", [stack.lambda_metric(fn, "Errors").with_(label=n) for n, fn in functions.items()]
        ),
        _graph(
            stack,
            "Throttles",
            [stack.lambda_metric(fn, "Throttles").with_(label=n) for n, fn in functions.items()],
        ),
        _graph(
            stack,
            "Concurrent executions (max)",
            [
                stack.lambda_metric(fn, "ConcurrentExecutions", "Maximum").with_(label=n)
                for n, fn in functions.items()
            ],
        ),
    )
    rc = RECONCILE
    dashboard.add_widgets(
        cw.TextWidget(markdown="## Reconciliation (table ↔ uploads bucket)", width=WIDTH, height=1),
        _graph(
            stack,
            "Stuck and re-queued receipts",
            [
                m("StuckReceipts", "Maximum", rc),
                m("Requeued", "Sum", rc),
                m("AbandonedUploads", "Maximum", rc),
            ],
        ),
        _graph(
            stack,
            "Data mismatches",
            [m("ObjectsWithoutRecord", "Maximum", rc), m("RecordsWithoutObject", "Maximum", rc)],
        ),
        _graph(
            stack,
            "Checked per run",
            [m("ReceiptsChecked", "Maximum", rc), m("ObjectsChecked", "Maximum", rc)],
        ),
    )
    day = Duration.days(1)
    dashboard.add_widgets(
        cw.TextWidget(markdown="## ETL (Glue job, daily)", width=WIDTH, height=1),
        _graph(
            stack,
            "Job succeeded (1) / failed (0), duration (s)",
            [stack.etl_metric(lake_schema.METRIC_JOB_SUCCEEDED, "Minimum", day)],
            [stack.etl_metric(lake_schema.METRIC_DURATION, "Maximum", day)],
        ),
        _graph(
            stack,
            "Rows written by table",
            [
                stack.search(
                    ETL_NAMESPACE,
                    ("Environment", "Table"),
                    lake_schema.METRIC_ROWS_WRITTEN,
                    f'Environment="{stack.config.name}"',
                    "",
                    period=day,
                )
            ],
        ),
        _graph(
            stack,
            "Quality violations and quarantined records",
            [
                stack.search(
                    ETL_NAMESPACE,
                    ("Check", "Environment"),
                    lake_schema.METRIC_QUALITY_VIOLATIONS,
                    f'Environment="{stack.config.name}"',
                    "",
                    period=day,
                ),
                stack.search(
                    ETL_NAMESPACE,
                    ("Environment", "Reason"),
                    lake_schema.METRIC_QUARANTINED,
                    f'Environment="{stack.config.name}"',
                    "",
                    period=day,
                ),
            ],
        ),
    )
    if w.distribution is not None:
        dashboard.add_widgets(
            cw.TextWidget(markdown="## Edge (CloudFront)", width=WIDTH, height=1),
            _graph(
                stack,
                "CloudFront 5xx error rate (%)",
                [
                    cw.Metric(
                        namespace="AWS/CloudFront",
                        metric_name="5xxErrorRate",
                        dimensions_map={
                            "DistributionId": w.distribution.distribution_id,
                            "Region": "Global",
                        },
                        statistic="Average",
                        period=stack.period,
                        region=CLOUDFRONT_METRICS_REGION,
                    )
                ],
                width=WIDTH,
            ),
        )
    if w.training_group_name is not None:
        dashboard.add_widgets(*training_widgets(stack, w.training_group_name))
    return dashboard
