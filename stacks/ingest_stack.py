"""Ingest layer: uploads bucket → S3 notification → SQS (+DLQ) → Lambda → Textract.

Multi-page PDFs go through StartExpenseAnalysis; Textract reports completion on an SNS
topic that feeds the same queue, so both paths end in the same normalizer and the same
exactly-once store. The Lambda's concurrency is derived from the environment's Textract
TPS so that all workers together never exceed the account's quota.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.bundling import ARCHITECTURE, RUNTIME, handler_path, python_lambda_code
from stacks.config import EnvConfig
from stacks.encryption import customer_key
from stacks.nag import NO_VPC_REASON, acknowledge, acknowledge_wildcards, matching_patterns, skip_checkov
from stacks.storage_stack import removal_policy, secure_bucket

UPLOADS_PREFIX = "uploads/"
QUARANTINE_PREFIX = "quarantine/"
RAW_PREFIX = "raw/textract/"
MAX_RECEIVE_COUNT = 5
# SQS must not hand a message to a second worker while the first may still be on it:
# AWS recommends a visibility timeout of at least six times the function timeout.
VISIBILITY_FACTOR = 6
BATCH_SIZE = 5
QUARANTINE_EXPIRY_DAYS = 30
UPLOADS_INFREQUENT_ACCESS_DAYS = 90
# The Lambda event source mapping's MaximumConcurrency bounds.
MIN_MAX_CONCURRENCY = 2
MAX_MAX_CONCURRENCY = 1000


@dataclass(frozen=True)
class TextractBudget:
    max_concurrency: int  # workers the event source mapping may run at once
    tps_per_worker: float  # Textract calls per second each worker may make

    @property
    def total_tps(self) -> float:
        return self.max_concurrency * self.tps_per_worker


def textract_budget(config: EnvConfig) -> TextractBudget:
    """Split the environment's Textract TPS over the workers.

    One worker reads one document at a time (a call takes about a second), so roughly one
    worker per TPS keeps Textract busy. The mapping needs at least 2, and more workers than
    the function's reserved concurrency would only be throttled back into the queue (and
    count towards maxReceiveCount). Each worker's rate limiter gets the TPS divided by the
    number of workers, so the total can never exceed the quota.
    """
    workers = max(
        MIN_MAX_CONCURRENCY, min(config.textract_tps, config.ingest_reserved_concurrency, MAX_MAX_CONCURRENCY)
    )
    return TextractBudget(workers, config.textract_tps / workers)


class IngestStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvConfig,
        table: dynamodb.ITable,
        key: kms.IKey,
        lake_bucket: s3.IBucket,
        access_logs_bucket: s3.IBucket,
        models_bucket: s3.IBucket | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        self.config = config
        self.budget = textract_budget(config)
        policy = removal_policy(config)

        # Messages, the completion topic and the logs get this stack's own key: S3, SNS and
        # CloudWatch Logs must be named in its key policy, which a key in the storage stack
        # could only allow by depending back on this stack.
        self.messages_key = customer_key(
            self,
            "MessagesKey",
            config=config,
            name="ingest",
            description="Encrypts the ingest queues, the Textract completion topic and the ingest logs",
            logs=True,
        )
        self.messages_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowS3ToSendEncryptedNotifications",
                principals=[iam.ServicePrincipal("s3.amazonaws.com")],
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=["*"],  # in a key policy "*" means this key
                conditions={"StringEquals": {"aws:SourceAccount": self.account}},
            )
        )

        self.uploads_bucket = secure_bucket(
            self,
            "Uploads",
            config=config,
            key=key,
            access_logs=access_logs_bucket,
            cors=[
                s3.CorsRule(
                    # The browser uploads with the API's presigned POST; nothing else.
                    allowed_methods=[s3.HttpMethods.POST],
                    # The hosting layer's CloudFront domain is only known once deployed (and it
                    # depends on this stack), hence the pattern; a custom domain goes in
                    # web_origins. CORS is not the guard here: only a signed POST policy can upload.
                    allowed_origins=[*config.web_origins, "https://*.cloudfront.net"],
                    allowed_headers=["*"],
                    exposed_headers=["ETag"],
                    max_age=3000,
                )
            ],
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="quarantine-expires",
                    prefix=QUARANTINE_PREFIX,
                    expiration=Duration.days(QUARANTINE_EXPIRY_DAYS),
                ),
                s3.LifecycleRule(
                    id="uploads-tier-down",
                    prefix=UPLOADS_PREFIX,
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                            transition_after=Duration.days(UPLOADS_INFREQUENT_ACCESS_DAYS),
                        )
                    ],
                ),
            ],
        )
        acknowledge(
            self.uploads_bucket,
            ["NIST.800.53.R5-S3BucketReplicationEnabled", "PCI.DSS.321-S3BucketReplicationEnabled"],
            "Single-region by design like the other data buckets: versioning keeps every upload; "
            "cross-region replication of card data is a compliance decision left to prod owners.",
        )

        timeout = Duration.seconds(config.ingest_timeout_seconds)
        self.dlq = sqs.Queue(
            self,
            "IngestDlq",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.messages_key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=policy,
        )
        acknowledge(
            self.dlq,
            ["AwsSolutions-SQS3"],
            "This queue is the dead-letter queue of the ingest queue; it has no DLQ of its own.",
        )
        self.queue = sqs.Queue(
            self,
            "IngestQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.messages_key,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(config.ingest_timeout_seconds * VISIBILITY_FACTOR),
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dlq, max_receive_count=MAX_RECEIVE_COUNT),
            removal_policy=policy,
        )
        self.uploads_bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            s3n.SqsDestination(self.queue),
            s3.NotificationKeyFilter(prefix=UPLOADS_PREFIX),
        )

        # StartExpenseAnalysis completions: Textract publishes with this role to this topic,
        # which delivers into the same queue.
        # Its own key: the queue's key policy names this topic (SNS delivers encrypted messages
        # into the queue), so the topic cannot also depend on that key.
        self.topic_key = customer_key(
            self,
            "TopicKey",
            config=config,
            name="textract-topic",
            description="Encrypts Textract job completion notifications",
        )
        self.textract_topic = sns.Topic(
            self, "TextractCompletions", master_key=self.topic_key, enforce_ssl=True
        )
        self.textract_topic.add_subscription(subscriptions.SqsSubscription(self.queue))
        self.textract_role = iam.Role(
            self,
            "TextractPublishRole",
            assumed_by=iam.ServicePrincipal(
                "textract.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": self.account}}
            ),
            description="Lets Textract report StartExpenseAnalysis completions to the ingest topic",
        )
        self.textract_topic.grant_publish(self.textract_role)

        self.log_group = logs.LogGroup(
            self,
            "IngestLogs",
            encryption_key=self.messages_key,
            removal_policy=policy,
        )
        cfn_log_group = self.log_group.node.default_child
        assert isinstance(cfn_log_group, logs.CfnLogGroup)
        cfn_log_group.retention_in_days = config.log_retention_days

        role = iam.Role(
            self,
            "IngestFunctionRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="ingest Lambda: read uploads, call Textract, store receipts, write the raw zone",
        )
        self.function = lambda_.Function(
            self,
            "IngestFunction",
            description="Reads uploaded receipts with Textract and stores them exactly once",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=python_lambda_code("ingest"),
            handler=handler_path("ingest"),
            memory_size=config.ingest_memory_mb,
            timeout=timeout,
            reserved_concurrent_executions=config.ingest_reserved_concurrency,
            tracing=lambda_.Tracing.ACTIVE,
            role=role,
            log_group=self.log_group,
            environment_encryption=key,
            environment={
                "TABLE_NAME": table.table_name,
                "LAKE_BUCKET": lake_bucket.bucket_name,
                "RAW_PREFIX": RAW_PREFIX,
                "QUARANTINE_PREFIX": QUARANTINE_PREFIX,
                "MAX_UPLOAD_BYTES": str(config.max_upload_bytes),
                "MAX_RECEIVE_COUNT": str(MAX_RECEIVE_COUNT),
                "TEXTRACT_TPS_PER_WORKER": f"{self.budget.tps_per_worker:.4f}",
                "TEXTRACT_SNS_TOPIC_ARN": self.textract_topic.topic_arn,
                "TEXTRACT_ROLE_ARN": self.textract_role.role_arn,
                "POWERTOOLS_SERVICE_NAME": "ingest",
                "POWERTOOLS_METRICS_NAMESPACE": "receiptlake",
                "ENVIRONMENT": config.name,  # a metric dimension: environments may share an account
                "POWERTOOLS_LOG_LEVEL": "INFO",
                **({"MODELS_BUCKET": models_bucket.bucket_name} if models_bucket else {}),
            },
        )
        self.function.add_event_source(
            event_sources.SqsEventSource(
                self.queue,
                batch_size=BATCH_SIZE,
                max_batching_window=Duration.seconds(1),
                report_batch_item_failures=True,
                max_concurrency=self.budget.max_concurrency,
            )
        )
        self._grant(role, table=table, key=key, lake_bucket=lake_bucket)
        if models_bucket is not None:
            role.add_to_policy(
                iam.PolicyStatement(
                    sid="ReadPromotedCategorizer",
                    # The pointer and the categorizer weights of any run, nothing else there.
                    actions=["s3:GetObject"],
                    resources=[
                        models_bucket.arn_for_objects("latest.json"),
                        models_bucket.arn_for_objects("runs/*/categorizer.npz"),
                    ],
                )
            )
        key.grant_decrypt(role)  # the environment variables are encrypted with it
        self._acknowledge_function()
        skip_checkov(
            self.function,
            "CKV_AWS_116",
            "Invoked by its SQS event source mapping, whose queue has the DLQ; a function DLQ "
            "only catches asynchronous invocations, and there are none.",
        )
        skip_checkov(self.function, "CKV_AWS_117", NO_VPC_REASON)
        self._acknowledge_notifications_handler()

    def _grant(
        self, role: iam.Role, *, table: dynamodb.ITable, key: kms.IKey, lake_bucket: s3.IBucket
    ) -> None:
        """Exactly what the code does, on exactly the resources it does it to."""
        self.log_group.grant_write(role)
        uploads = self.uploads_bucket
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadUploadsAndQuarantineStrays",
                actions=["s3:GetObject", "s3:DeleteObject"],
                resources=[uploads.arn_for_objects(f"{UPLOADS_PREFIX}*")],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteQuarantine",
                actions=["s3:PutObject"],
                resources=[uploads.arn_for_objects(f"{QUARANTINE_PREFIX}*")],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteRawZone",
                actions=["s3:PutObject"],
                resources=[lake_bucket.arn_for_objects(f"{RAW_PREFIX}*")],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadAndCompleteReceipts",
                # complete() is one TransactWriteItems of Puts and Updates on the table.
                actions=[
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:ConditionCheckItem",
                ],
                resources=[table.table_arn],
            )
        )
        # The storage key encrypts the table, the uploads and the lake. Granted on the
        # principal only: a grant through the key would make storage depend on ingest.
        role.add_to_policy(
            iam.PolicyStatement(
                sid="UseDataKey",
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[key.key_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadExpenses",
                # Textract has no resource-level permissions for these actions.
                actions=[
                    "textract:AnalyzeExpense",
                    "textract:StartExpenseAnalysis",
                    "textract:GetExpenseAnalysis",
                ],
                resources=["*"],
            )
        )
        self.textract_role.grant_pass_role(role)

    def _acknowledge_function(self) -> None:
        acknowledge(
            self.function,
            ["NIST.800.53.R5-LambdaInsideVPC", "PCI.DSS.321-LambdaInsideVPC"],
            "The function reaches only AWS APIs (S3, DynamoDB, Textract, SQS) over TLS with IAM "
            "authorization; it has no network resources to protect, and a VPC would need NAT or "
            "five interface endpoints per environment for no gain.",
        )
        acknowledge(
            self.function,
            ["NIST.800.53.R5-LambdaDLQ"],
            "Invoked only by the SQS event source mapping: failed messages go to the queue's DLQ "
            "(maxReceiveCount 5); a function DLQ applies to asynchronous invocations only.",
        )
        acknowledge(
            self.function,
            ["AwsSolutions-L1"],
            "Pinned to Python 3.12, the version the Docker-free bundling installs arm64 wheels for "
            "(stacks/bundling.py); moved with the bundling, not per function.",
        )
        for role, patterns, reason in (
            (
                self.function.role,
                (
                    "Resource::*/uploads/*",
                    "Resource::*/quarantine/*",
                    "Resource::*/raw/textract/*",
                    "Resource::*/runs/*/categorizer.npz",
                    "Resource::*",
                ),
                "Object-level S3 actions on the uploads/, quarantine/ and raw/textract/ prefixes only "
                "(object ARNs need a wildcard), and reading the categorizer file of any training run "
                "(runs/{version}/categorizer.npz: the version is only known at run time); Textract "
                "expense actions and X-Ray segments, which support no resource ARNs.",
            ),
            (
                self.textract_role,
                ("Action::kms:GenerateDataKey*",),
                "Textract publishes to one encrypted topic; CDK's topic grant asks for the key's "
                "GenerateDataKey* on that one key only.",
            ),
        ):
            assert role is not None
            policy = role.node.try_find_child("DefaultPolicy")
            assert policy is not None
            acknowledge(
                policy,
                ["NIST.800.53.R5-IAMNoInlinePolicy", "PCI.DSS.321-IAMNoInlinePolicy"],
                "CDK writes a role's statements as its DefaultPolicy; the statements are this "
                "stack's least-privilege grants and change with the code, not shared between roles.",
            )
            assert isinstance(policy, iam.Policy)
            acknowledge_wildcards(policy, matching_patterns(patterns), reason)

    def _acknowledge_notifications_handler(self) -> None:
        """CDK's singleton custom resource that configures the bucket notification."""
        handlers = [c for c in self.node.children if c.node.id.startswith("BucketNotificationsHandler")]
        for handler in handlers:
            for check in ("CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117"):
                skip_checkov(
                    handler,
                    check,
                    "CDK's deploy-time handler for S3 bucket notifications, run only by "
                    "CloudFormation during deploys; aws-cdk-lib owns its settings.",
                )
        notifications = self.uploads_bucket.node.try_find_child("Notifications")
        for child in [*handlers, *([notifications] if notifications else [])]:
            if child is not None:
                acknowledge(
                    child,
                    [
                        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                        "AWSLambdaBasicExecutionRole]",
                        "AwsSolutions-IAM5",
                        "NIST.800.53.R5-IAMNoInlinePolicy",
                        "PCI.DSS.321-IAMNoInlinePolicy",
                        "NIST.800.53.R5-LambdaConcurrency",
                        "NIST.800.53.R5-LambdaDLQ",
                        "NIST.800.53.R5-LambdaInsideVPC",
                        "PCI.DSS.321-LambdaInsideVPC",
                        "AwsSolutions-L1",
                    ],
                    "CDK's own deploy-time handler for S3 bucket notifications (runs only during "
                    "CloudFormation updates, calls s3:PutBucketNotification); its code, runtime and "
                    "role are generated by aws-cdk-lib and cannot be narrowed from here.",
                )
