"""Monitoring layer: one CloudWatch dashboard per environment, alarms to an encrypted SNS
topic, and the scheduled reconciliation of the receipts table with the uploads bucket.

Every alarm's description names its section of docs/runbook.md (``RUNBOOK#slug``); the
infra tests check that each section exists and that every metric named here in a custom
namespace is one the code emits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from glue_scripts import lake_schema
from stacks.config import EnvConfig
from stacks.encryption import customer_key
from stacks.monitoring_dashboard import health_dashboard
from stacks.monitoring_reconciliation import reconciliation_function
from stacks.monitoring_training import training_alarms
from stacks.nag import acknowledge

RUNBOOK = "docs/runbook.md"
APP_NAMESPACE = "receiptlake"  # ingest and reconcile (Powertools: dimensions service, environment)
ETL_NAMESPACE = lake_schema.METRICS_NAMESPACE
INGEST = "ingest"
RECONCILE = "reconcile"
UPLOADS_PREFIX = "uploads/"
# CloudFront publishes its metrics in us-east-1 only, with Region=Global.
CLOUDFRONT_METRICS_REGION = "us-east-1"
RECONCILE_TIMEOUT = Duration.minutes(5)
WIDTH = 24


@dataclass(frozen=True)
class Watched:
    """What the monitoring layer watches, passed as objects where the stage wires it."""

    table: dynamodb.ITable
    data_key: kms.IKey
    uploads_bucket: s3.IBucket
    ingest_function: lambda_.IFunction
    ingest_queue: sqs.IQueue
    ingest_dlq: sqs.IQueue
    ingest_messages_key: kms.IKey
    api_function: lambda_.IFunction
    http_api: apigw.IHttpApi
    distribution: cloudfront.IDistribution | None = None
    etl_job_name: str | None = None
    training_group_name: str | None = None


class MonitoringStack(Stack):
    def __init__(
        self, scope: Construct, id_: str, *, config: EnvConfig, watched: Watched, **kwargs: Any
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        self.config = config
        self.thresholds = config.monitoring
        self.watched = watched
        self.period = Duration.minutes(self.thresholds.period_minutes)
        self.prefix = f"receiptlake-{config.name}"
        # Ingest's dimensioned metrics (failures by reason, throttles by code), this environment's.
        self.ingest_where = f"service = '{INGEST}' AND environment = '{config.name}'"
        self.ingest_search = f'service="{INGEST}" environment="{config.name}"'

        self.key = customer_key(
            self,
            "MonitoringKey",
            config=config,
            name="monitoring",
            description="Encrypts the alarm topic, the reconciliation function's logs and its DLQ",
            logs=True,
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy "*" means this key
                # As AWS documents it for alarms to encrypted topics, without a source
                # condition (not every call carries one); the topic policy below has it.
            )
        )
        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name=f"receiptlake {config.name} alarms",
            master_key=self.key,
            enforce_ssl=True,
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarms",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": self.account}},
            )
        )
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        self.action = cw_actions.SnsAction(self.topic)

        if watched.etl_job_name:
            self._etl_job_state_changes(watched.etl_job_name)
        self.reconcile_function = reconciliation_function(self, config)
        self.alarms: list[cw.AlarmBase] = []
        self._alarms()
        self.dashboard = health_dashboard(self)

        # What `receiptlake ops --env NAME` reads to find this environment's resources.
        for name, value in (
            ("TableName", watched.table.table_name),
            ("UploadsBucketName", watched.uploads_bucket.bucket_name),
            ("IngestQueueUrl", watched.ingest_queue.queue_url),
            ("IngestDlqUrl", watched.ingest_dlq.queue_url),
            ("ReconcileFunctionName", self.reconcile_function.function_name),
            ("AlarmTopicArn", self.topic.topic_arn),
        ):
            CfnOutput(self, name, value=value)
        CfnOutput(
            self,
            "DashboardUrl",
            value=f"https://{self.region}.console.aws.amazon.com/cloudwatch/home?region={self.region}"
            f"#dashboards:name={self.dashboard.dashboard_name}",
        )

    def _etl_job_state_changes(self, job_name: str) -> None:
        """A Glue run that fails to start or is killed emits no JobSucceeded=0 of its own;
        Glue's state-change events tell the topic either way."""
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowEventBridgeToPublish",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy "*" means this key
            )
        )

        def field(name: str) -> str:
            return events.EventField.from_path(f"$.detail.{name}")

        self.etl_failures = events.Rule(
            self,
            "EtlJobFailures",
            description="Tells the alarm topic when the ETL job's run fails, times out or errors",
            event_pattern=events.EventPattern(
                source=["aws.glue"],
                detail_type=["Glue Job State Change"],
                detail={"jobName": [job_name], "state": ["FAILED", "TIMEOUT", "ERROR"]},
            ),
        )
        self.etl_failures.add_target(
            targets.SnsTopic(
                self.topic,
                message=events.RuleTargetInput.from_text(
                    f"receiptlake {self.config.name}: Glue job {field('jobName')} run {field('jobRunId')} "
                    f"ended {field('state')}: {field('message')} Runbook: {RUNBOOK}#etl-job-failed"
                ),
            )
        )

    # ---- metrics ------------------------------------------------------------------------
    def app_metric(self, name: str, statistic: str = "Sum", service: str = INGEST) -> cw.Metric:
        return cw.Metric(
            namespace=APP_NAMESPACE,
            metric_name=name,
            dimensions_map={"service": service, "environment": self.config.name},
            statistic=statistic,
            period=self.period,
        )

    def etl_metric(self, name: str, statistic: str, period: Duration) -> cw.Metric:
        return cw.Metric(
            namespace=ETL_NAMESPACE,
            metric_name=name,
            dimensions_map={"Environment": self.config.name},
            statistic=statistic,
            period=period,
        )

    def insights_sum(
        self, namespace: str, name: str, dims: tuple[str, ...], where: str, label: str
    ) -> cw.MathExpression:
        """A metric's sum over every value of its extra dimensions (failures of any reason),
        as a Metrics Insights query: alarms cannot use SEARCH, but they can use these."""
        schema = ", ".join([f'"{namespace}"', *dims])
        return cw.MathExpression(
            # Metrics Insights over names fixed in this module, not SQL on any input.
            expression=f"SELECT SUM({name}) FROM SCHEMA({schema}) WHERE {where}",  # noqa: S608
            using_metrics={},
            label=label,
            period=self.period,
        )

    def search(
        self,
        namespace: str,
        dims: tuple[str, ...],
        name: str,
        where: str,
        label: str,
        stat: str = "Sum",
        period: Duration | None = None,
    ) -> cw.MathExpression:
        """One line per value of the extra dimension (failures by reason), for graphs."""
        schema = ",".join([namespace, *dims])
        period = period or self.period
        return cw.MathExpression(
            expression=(
                f"SEARCH('{{{schema}}} MetricName=\"{name}\" {where}', '{stat}', {int(period.to_seconds())})"
            ),
            using_metrics={},
            label=label,
            period=period,
        )

    def lambda_metric(self, fn: lambda_.IFunction, name: str, statistic: str = "Sum") -> cw.Metric:
        return fn.metric(name, statistic=statistic, period=self.period)

    # ---- alarms -------------------------------------------------------------------------
    def _alarm(
        self,
        slug: str,
        meaning: str,
        metric: cw.Metric | cw.MathExpression,
        threshold: float,
        *,
        comparison: cw.ComparisonOperator = cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        missing: cw.TreatMissingData = cw.TreatMissingData.NOT_BREACHING,
        evaluation_periods: int | None = None,
        datapoints_to_alarm: int | None = None,
        notify: bool = True,
    ) -> cw.Alarm:
        alarm = metric.create_alarm(
            self,
            f"Alarm-{slug}",
            alarm_name=f"{self.prefix}-{slug}",
            alarm_description=f"{meaning} Runbook: {RUNBOOK}#{slug}",
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=evaluation_periods or self.thresholds.evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm or self.thresholds.datapoints_to_alarm,
            treat_missing_data=missing,
        )
        if notify:
            alarm.add_alarm_action(self.action)
            alarm.add_ok_action(self.action)
        else:
            acknowledge(
                alarm,
                ["NIST.800.53.R5-CloudWatchAlarmAction"],
                "Input of a composite alarm, which notifies the alarm topic: AWS advises no actions on "
                "a composite's inputs so one incident pages once (tests/infra checks the composite).",
            )
        self.alarms.append(alarm)
        return alarm

    def _alarms(self) -> None:
        t = self.thresholds
        w = self.watched
        self._alarm(
            "ingest-dlq-not-empty",
            "Ingest messages gave up after every retry and wait in the dead-letter queue; their "
            "receipts may be stuck in PENDING.",
            w.ingest_dlq.metric_approximate_number_of_messages_visible(
                statistic="Maximum", period=self.period
            ),
            t.dlq_messages,
            evaluation_periods=1,
            datapoints_to_alarm=1,
        )
        self._alarm(
            "ingest-failed-receipts",
            f"More than {t.ingest_failed_receipts} receipts per period ended FAILED.",
            self.insights_sum(
                APP_NAMESPACE, "Failed", ("environment", "reason", "service"), self.ingest_where, "Failed"
            ),
            t.ingest_failed_receipts,
        )
        self._alarm(
            "ingest-slow",
            f"p99 time from upload to stored receipt is above {t.upload_to_stored_p99_seconds:g} s.",
            self.app_metric("UploadToStoredLatency", "p99"),
            t.upload_to_stored_p99_seconds * 1000,
            comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        )
        # Ingest is rate-limited to the Textract quota on purpose, so a backlog alone is load,
        # not an incident; errors or throttles alone are retried. Both together page.
        errors = self._alarm(
            "ingest-errors",
            f"More than {t.ingest_error_rate_percent:g}% of ingest invocations fail.",
            cw.MathExpression(
                expression="IF(invocations > 0, 100 * errors / invocations, 0)",
                using_metrics={
                    "errors": self.lambda_metric(w.ingest_function, "Errors"),
                    "invocations": self.lambda_metric(w.ingest_function, "Invocations"),
                },
                label="Ingest error rate (%)",
                period=self.period,
            ),
            t.ingest_error_rate_percent,
            comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            notify=False,
        )
        throttled = self._alarm(
            "textract-throttled",
            f"Textract throttled ingest more than {t.textract_throttles} times per period.",
            self.insights_sum(
                APP_NAMESPACE,
                "TextractThrottles",
                ("code", "environment", "service"),
                self.ingest_where,
                "Textract throttles",
            ),
            t.textract_throttles,
            notify=False,
        )
        backlog = self._alarm(
            "ingest-backlog",
            f"The oldest upload in the ingest queue waits longer than {t.queue_oldest_message_seconds} s.",
            w.ingest_queue.metric_approximate_age_of_oldest_message(statistic="Maximum", period=self.period),
            t.queue_oldest_message_seconds,
            notify=False,
        )
        degraded = cw.CompositeAlarm(
            self,
            "Alarm-ingest-degraded",
            composite_alarm_name=f"{self.prefix}-ingest-degraded",
            alarm_description=(
                "Uploads pile up in the ingest queue while ingest fails or Textract throttles it. "
                f"Runbook: {RUNBOOK}#ingest-degraded"
            ),
            alarm_rule=cw.AlarmRule.all_of(
                cw.AlarmRule.from_alarm(backlog, cw.AlarmState.ALARM),
                cw.AlarmRule.any_of(
                    cw.AlarmRule.from_alarm(errors, cw.AlarmState.ALARM),
                    cw.AlarmRule.from_alarm(throttled, cw.AlarmState.ALARM),
                ),
            ),
        )
        degraded.add_alarm_action(self.action)
        degraded.add_ok_action(self.action)
        self.alarms.append(degraded)

        functions = {
            "ingest": w.ingest_function,
            "api": w.api_function,
            "reconcile": self.reconcile_function,
        }
        self._alarm(
            "lambda-throttled",
            "A function hit its reserved concurrency and invocations were throttled.",
            cw.MathExpression(
                expression=" + ".join(f"FILL({n}, 0)" for n in functions),
                using_metrics={n: self.lambda_metric(fn, "Throttles") for n, fn in functions.items()},
                label="Throttles (ingest + api + reconcile)",
                period=self.period,
            ),
            t.lambda_throttles,
        )

        api = w.http_api
        requests = api.metric_count(period=self.period, statistic="Sum")
        # Rates only count above a minimum of traffic: one error among three requests at
        # night is 33% and no incident.
        self._alarm(
            "api-5xx",
            f"More than {t.api_5xx_rate_percent:g}% of API requests answer 5xx (with at least "
            f"{t.api_min_requests} requests per period).",
            cw.MathExpression(
                expression=f"IF(requests >= {t.api_min_requests}, 100 * errors / requests, 0)",
                using_metrics={
                    "requests": requests,
                    "errors": api.metric_server_error(period=self.period, statistic="Sum"),
                },
                label="API 5xx rate (%)",
                period=self.period,
            ),
            t.api_5xx_rate_percent,
            comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        )
        self._alarm(
            "api-slow",
            f"API p99 latency is above {t.api_p99_latency_ms} ms (with at least {t.api_min_requests} "
            "requests per period).",
            cw.MathExpression(
                expression=f"IF(requests >= {t.api_min_requests}, p99, 0)",
                using_metrics={
                    "requests": requests,
                    "p99": api.metric_latency(period=self.period, statistic="p99"),
                },
                label="API p99 latency (ms)",
                period=self.period,
            ),
            t.api_p99_latency_ms,
            comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        )
        self._alarm(
            "dynamodb-throttled",
            f"The receipts table throttled {t.dynamodb_throttles} or more requests per period.",
            cw.MathExpression(
                expression="FILL(reads, 0) + FILL(writes, 0)",
                using_metrics={
                    "reads": w.table.metric("ReadThrottleEvents", statistic="Sum", period=self.period),
                    "writes": w.table.metric("WriteThrottleEvents", statistic="Sum", period=self.period),
                },
                label="Table throttle events",
                period=self.period,
            ),
            t.dynamodb_throttles,
        )

        # Reconciliation figures: one datapoint per run.
        self._alarm(
            "receipts-stuck",
            f"Receipts are still PENDING {t.stuck_after_minutes} min after being re-queued once.",
            self.app_metric("StuckReceipts", "Maximum", RECONCILE),
            1,
            evaluation_periods=1,
            datapoints_to_alarm=1,
        )
        self._alarm(
            "objects-without-record",
            "Uploaded objects have no receipt record: a receipt was lost, or a delete left its image.",
            self.app_metric("ObjectsWithoutRecord", "Maximum", RECONCILE),
            1,
            evaluation_periods=1,
            datapoints_to_alarm=1,
        )
        self._alarm(
            "records-without-object",
            "Finished receipts (PROCESSED or NEEDS_REVIEW) whose uploaded image is gone.",
            self.app_metric("RecordsWithoutObject", "Maximum", RECONCILE),
            1,
            evaluation_periods=1,
            datapoints_to_alarm=1,
        )
        self._alarm(
            "reconcile-not-reporting",
            "The reconciliation function reported no run for two of its schedule periods (it "
            "fails, or is not scheduled): data loss would go unseen.",
            cw.Metric(
                namespace=APP_NAMESPACE,
                metric_name="ReceiptsChecked",
                dimensions_map={"service": RECONCILE, "environment": self.config.name},
                statistic="SampleCount",
                period=Duration.minutes(2 * t.reconcile_every_minutes),
            ),
            1,
            comparison=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
            missing=cw.TreatMissingData.BREACHING,
            evaluation_periods=1,
            datapoints_to_alarm=1,
        )

        # ETL (glue_scripts/lake_schema.py names the metrics the job emits).
        day = Duration.days(1)
        self._alarm(
            "etl-job-failed",
            "The nightly ETL job reported failure: the lake is not up to date.",
            self.etl_metric(lake_schema.METRIC_JOB_SUCCEEDED, "Minimum", day),
            1,
            comparison=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=1,
            datapoints_to_alarm=1,
        )
        self._alarm(
            "etl-quality-violations",
            "The ETL job's data quality checks found violations in the curated tables.",
            # The job emits the total per run with the Environment dimension only (and one
            # per failed check with Check as well, graphed on the dashboard). A day's period
            # keeps the alarm up until the next night's run.
            self.etl_metric(lake_schema.METRIC_QUALITY_VIOLATIONS, "Maximum", day),
            1,
            evaluation_periods=1,
            datapoints_to_alarm=1,
        )
        if w.training_group_name:
            # Training (ml/metrics_names.py names the metrics the trainer emits).
            training_alarms(self, w.training_group_name)
