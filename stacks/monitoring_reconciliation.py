"""The monitoring stack's scheduled reconciliation Lambda (lambda_src/monitoring/): every
upload ends in a terminal status, and the table and the uploads bucket agree."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs

from stacks.bundling import ARCHITECTURE, RUNTIME, handler_path, python_lambda_code
from stacks.config import EnvConfig
from stacks.nag import NO_VPC_REASON, acknowledge, acknowledge_wildcards, matching_patterns, skip_checkov
from stacks.storage_stack import removal_policy

if TYPE_CHECKING:
    from stacks.monitoring_stack import MonitoringStack


def reconciliation_function(stack: MonitoringStack, config: EnvConfig) -> lambda_.Function:
    """The scheduled reconciliation Lambda (lambda_src/monitoring), its logs, role and schedule."""
    from stacks.monitoring_stack import APP_NAMESPACE, RECONCILE_TIMEOUT  # no import cycle

    w = stack.watched
    policy = removal_policy(config)
    reconcile_logs = logs.LogGroup(stack, "ReconcileLogs", encryption_key=stack.key, removal_policy=policy)
    cfn_log_group = reconcile_logs.node.default_child
    assert isinstance(cfn_log_group, logs.CfnLogGroup)
    cfn_log_group.retention_in_days = config.log_retention_days

    reconcile_dlq = sqs.Queue(
        stack,
        "ReconcileDlq",
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=stack.key,
        enforce_ssl=True,
        retention_period=Duration.days(14),
        removal_policy=policy,
    )
    acknowledge(
        reconcile_dlq,
        ["AwsSolutions-SQS3"],
        "This queue is the dead-letter queue of the reconciliation function's scheduled invocations.",
    )
    role = iam.Role(
        stack,
        "ReconcileRole",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description="reconciliation Lambda: read receipts and uploads, mark and re-queue stuck receipts",
    )
    fn = lambda_.Function(
        stack,
        "ReconcileFunction",
        description="Checks every upload reaches a terminal status; re-queues stuck receipts once",
        runtime=RUNTIME,
        architecture=ARCHITECTURE,
        code=python_lambda_code("monitoring"),
        handler=handler_path("monitoring"),
        memory_size=512,
        timeout=RECONCILE_TIMEOUT,
        # One run at a time: two overlapping runs would only race for the same receipts.
        reserved_concurrent_executions=1,
        retry_attempts=0,  # the next scheduled run is the retry
        dead_letter_queue=reconcile_dlq,
        tracing=lambda_.Tracing.ACTIVE,
        role=role,
        log_group=reconcile_logs,
        environment_encryption=stack.key,
        environment={
            "TABLE_NAME": w.table.table_name,
            "UPLOADS_BUCKET": w.uploads_bucket.bucket_name,
            "INGEST_QUEUE_URL": w.ingest_queue.queue_url,
            "STUCK_AFTER_MINUTES": str(config.monitoring.stuck_after_minutes),
            "POWERTOOLS_SERVICE_NAME": "reconcile",
            "ENVIRONMENT": config.name,  # a metric dimension, as ingest's
            "POWERTOOLS_METRICS_NAMESPACE": APP_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": "INFO",
        },
    )
    events.Rule(
        stack,
        "ReconcileSchedule",
        description="Runs the reconciliation of receipts and uploads",
        schedule=events.Schedule.rate(Duration.minutes(config.monitoring.reconcile_every_minutes)),
        targets=[targets.LambdaFunction(fn, retry_attempts=0, dead_letter_queue=reconcile_dlq)],
    )
    _grant(stack, role, reconcile_logs)
    _acknowledge_function(stack, fn, role)
    return fn


def _grant(stack: MonitoringStack, role: iam.Role, reconcile_logs: logs.LogGroup) -> None:
    from stacks.monitoring_stack import UPLOADS_PREFIX

    """Exactly what the code does, on exactly the resources it does it to."""
    w = stack.watched
    reconcile_logs.grant_write(role)
    role.add_to_policy(
        iam.PolicyStatement(
            sid="ScanAndMarkReceipts",
            actions=["dynamodb:Scan", "dynamodb:UpdateItem"],
            resources=[w.table.table_arn],
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            sid="ListUploads",
            actions=["s3:ListBucket"],
            resources=[w.uploads_bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{UPLOADS_PREFIX}*"]}},
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            sid="RequeueToIngest",
            actions=["sqs:SendMessage"],
            resources=[w.ingest_queue.queue_arn],
        )
    )
    # Granted on the principal only: grants through the keys would make the storage and
    # ingest stacks depend on this one.
    role.add_to_policy(
        iam.PolicyStatement(sid="UseDataKey", actions=["kms:Decrypt"], resources=[w.data_key.key_arn])
    )
    role.add_to_policy(
        iam.PolicyStatement(
            sid="UseIngestMessagesKey",
            actions=["kms:GenerateDataKey", "kms:Decrypt"],
            resources=[w.ingest_messages_key.key_arn],
        )
    )
    stack.key.grant_decrypt(role)  # the environment variables are encrypted with it


def _acknowledge_function(stack: MonitoringStack, fn: lambda_.Function, role: iam.Role) -> None:
    acknowledge(
        fn,
        ["NIST.800.53.R5-LambdaInsideVPC", "PCI.DSS.321-LambdaInsideVPC"],
        NO_VPC_REASON,
    )
    acknowledge(
        fn,
        ["AwsSolutions-L1"],
        "Pinned to Python 3.12, the version the Docker-free bundling installs arm64 wheels for "
        "(stacks/bundling.py); moved with the bundling, not per function.",
    )
    skip_checkov(fn, "CKV_AWS_117", NO_VPC_REASON)
    policy = role.node.try_find_child("DefaultPolicy")
    assert isinstance(policy, iam.Policy)
    acknowledge(
        policy,
        ["NIST.800.53.R5-IAMNoInlinePolicy", "PCI.DSS.321-IAMNoInlinePolicy"],
        "CDK writes a role's statements as its DefaultPolicy; the statements are this "
        "stack's least-privilege grants and change with the code, not shared between roles.",
    )
    acknowledge_wildcards(
        policy,
        matching_patterns(("Resource::*",)),
        "X-Ray segments and traces support no resource ARNs (active tracing).",
    )
