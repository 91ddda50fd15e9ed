"""Storage layer: the receipts table, the customer-managed key, the lake and models buckets."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_backup as backup
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from glue_scripts import lake_schema
from lambda_src.common import keys
from stacks.config import EnvConfig
from stacks.nag import acknowledge, skip_checkov


def removal_policy(config: EnvConfig) -> RemovalPolicy:
    """RETAIN everywhere unless the dev-only flag says destroy."""
    return RemovalPolicy.DESTROY if config.destroy_on_removal else RemovalPolicy.RETAIN


def secure_bucket(
    scope: Construct,
    id_: str,
    *,
    config: EnvConfig,
    key: kms.IKey,
    access_logs: s3.IBucket,
    lifecycle_rules: list[s3.LifecycleRule] | None = None,
    **kwargs: Any,
) -> s3.Bucket:
    """A KMS-encrypted, versioned, TLS-only, private bucket that logs its access."""
    rules = [
        s3.LifecycleRule(
            id="expire-noncurrent-versions",
            noncurrent_version_expiration=Duration.days(config.noncurrent_version_expiry_days),
            abort_incomplete_multipart_upload_after=Duration.days(7),
        ),
        *(lifecycle_rules or []),
    ]
    return s3.Bucket(
        scope,
        id_,
        encryption=s3.BucketEncryption.KMS,
        encryption_key=key,
        bucket_key_enabled=True,
        versioned=True,
        enforce_ssl=True,
        minimum_tls_version=1.2,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        server_access_logs_bucket=access_logs,
        server_access_logs_prefix=f"{id_.lower()}/",
        lifecycle_rules=rules,
        removal_policy=removal_policy(config),
        **kwargs,
    )


class StorageStack(Stack):
    def __init__(self, scope: Construct, id_: str, *, config: EnvConfig, **kwargs: Any) -> None:
        super().__init__(scope, id_, **kwargs)
        policy = removal_policy(config)

        self.key = kms.Key(
            self,
            "DataKey",
            alias=f"alias/receiptlake-{config.name}-data",
            description="Encrypts receipts, the lake and the models of receiptlake",
            enable_key_rotation=True,
            removal_policy=policy,
        )

        self.access_logs_bucket = s3.Bucket(
            self,
            "AccessLogs",
            # S3 server access logging can only deliver to SSE-S3 encrypted buckets.
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-logs",
                    expiration=Duration.days(max(config.log_retention_days, 90)),
                    noncurrent_version_expiration=Duration.days(config.noncurrent_version_expiry_days),
                )
            ],
            removal_policy=policy,
        )
        acknowledge(
            self.access_logs_bucket,
            [
                "AwsSolutions-S1",
                "NIST.800.53.R5-S3BucketLoggingEnabled",
                "PCI.DSS.321-S3BucketLoggingEnabled",
            ],
            "This is the access-log bucket itself; logging it into itself would loop.",
        )
        skip_checkov(
            self.access_logs_bucket,
            "CKV_AWS_18",
            "This is the access-log bucket itself; logging it into itself would loop.",
        )
        acknowledge(
            self.access_logs_bucket,
            ["NIST.800.53.R5-S3DefaultEncryptionKMS", "PCI.DSS.321-S3DefaultEncryptionKMS"],
            "S3 server access logging only delivers to SSE-S3 buckets; logs hold no receipt data.",
        )

        self.table = dynamodb.Table(
            self,
            "Receipts",
            partition_key=dynamodb.Attribute(name=keys.PK, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=keys.SK, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=config.deletion_protection,
            time_to_live_attribute=keys.TTL_ATTRIBUTE,
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            removal_policy=policy,
        )
        for index, pk, sk in (
            (keys.GSI1, keys.GSI1_PK, keys.GSI1_SK),
            (keys.GSI2, keys.GSI2_PK, keys.GSI2_SK),
        ):
            self.table.add_global_secondary_index(
                index_name=index,
                partition_key=dynamodb.Attribute(name=pk, type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name=sk, type=dynamodb.AttributeType.STRING),
                projection_type=dynamodb.ProjectionType.ALL,
            )

        # PITR covers the last 35 days; the backup plan keeps daily and monthly copies beyond it.
        vault = backup.BackupVault(self, "BackupVault", encryption_key=self.key, removal_policy=policy)
        self.backup_plan = backup.BackupPlan.daily_monthly1_year_retention(self, "BackupPlan", vault)
        selection = self.backup_plan.add_selection(
            "Receipts", resources=[backup.BackupResource.from_dynamo_db_table(self.table)]
        )
        acknowledge(
            selection,
            [
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSBackupServiceRolePolicyForBackup]"
            ],
            "AWS Backup assumes this role itself; its service-role policy is the one AWS "
            "documents for backup jobs and changes with the service.",
        )

        self.lake_bucket = secure_bucket(
            self,
            "Lake",
            config=config,
            key=self.key,
            access_logs=self.access_logs_bucket,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="raw-zone-tiers-down",
                    prefix="raw/",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                            transition_after=Duration.days(config.raw_zone_infrequent_access_days),
                        ),
                        s3.Transition(
                            storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                            transition_after=Duration.days(config.raw_zone_glacier_days),
                        ),
                    ],
                ),
                *(
                    s3.LifecycleRule(
                        id=f"etl-{prefix.strip('/').replace('/', '-')}-expires",
                        prefix=prefix,
                        expiration=Duration.days(days),
                    )
                    for prefix, days in lake_schema.EXPIRY_DAYS.items()
                ),
            ],
        )
        self.models_bucket = secure_bucket(
            self, "Models", config=config, key=self.key, access_logs=self.access_logs_bucket
        )
        for bucket in (self.access_logs_bucket, self.lake_bucket, self.models_bucket):
            acknowledge(
                bucket,
                ["NIST.800.53.R5-S3BucketReplicationEnabled", "PCI.DSS.321-S3BucketReplicationEnabled"],
                "Single-region by design: versioning plus PITR/backups cover recovery; "
                "cross-region replication of card data is a compliance decision left to prod owners.",
            )
