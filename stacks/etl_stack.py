"""ETL layer: a Glue 5 Spark job that turns the receipts table into the lake's Parquet
tables, their Glue catalog entries, a nightly schedule and the analysts' Athena workgroup.

Table names, columns, partition keys, prefixes, job arguments and the metric namespace
come from ``glue_scripts/lake_schema.py``, the contract the Spark job writes with.

Why partition projection and not a crawler: the schema is owned by code and declared
explicitly here from the same contract the job writes with, so there is no crawler to pay
for and no inferred schema to drift (a crawler would guess types from whatever files it
finds). Athena computes the ``year``/``month`` partitions from the projection ranges and
the location template, so a new month is queryable the moment the job writes it, with no
``MSCK REPAIR TABLE`` or partition registration; the job rewrites the tables whole on
every run, so nothing else ever needs to add partitions.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_athena as athena
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from glue_scripts import lake_schema
from stacks import python_package
from stacks.config import REPO_ROOT, EnvConfig
from stacks.encryption import customer_key
from stacks.nag import acknowledge, acknowledge_wildcards

GLUE_SCRIPTS = REPO_ROOT / "glue_scripts"
ENTRY_POINT = GLUE_SCRIPTS / "glue_job.py"
PACKAGE_BUILD_DIR = REPO_ROOT / ".build" / "glue-package"
GLUE_VERSION = "5.0"
# A full export of the table plus the rewrite of every table; a run that takes longer
# than this is stuck, and the next night's run starts from the last good state.
JOB_TIMEOUT_MINUTES = 120
# No automatic retry: a failed run is reported (JobSucceeded = 0) and the next scheduled
# run picks up from etl/state.json, the last export that was used. An immediate retry
# would usually hit the same error and would start (and pay for) another table export.
JOB_MAX_RETRIES = 0
ATHENA_ENGINE_VERSION = "Athena engine version 3"
GB = 1024**3

# Lake prefixes the job reads and writes (lake_schema documents the layout).
GLUE_TEMP_PREFIX = lake_schema.GLUE_TEMP_PREFIX
STAGING_PREFIX = lake_schema.STAGING_ITEMS_PREFIX.split("/")[0] + "/"  # staging/
ETL_PREFIX = lake_schema.STATE_KEY.split("/")[0] + "/"  # etl/ (state.json and runs/)
READ_WRITE_PREFIXES = (
    lake_schema.EXPORTS_PREFIX,
    STAGING_PREFIX,
    lake_schema.CURATED_PREFIX,
    lake_schema.QUARANTINE_PREFIX,
    ETL_PREFIX,
    GLUE_TEMP_PREFIX,
)
READ_ONLY_PREFIXES = (lake_schema.TOMBSTONES_PREFIX,)


def folder_keys() -> list[str]:
    """The folder keys above the job's prefixes: ``quarantine/etl/`` gives ``quarantine``
    and ``quarantine/etl``."""
    keys: set[str] = set()
    for prefix in (*READ_WRITE_PREFIXES, *READ_ONLY_PREFIXES):
        parts = prefix.strip("/").split("/")
        keys.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    return sorted(keys)


# Glue's own job metrics (--enable-metrics, --enable-observability-metrics) are published
# with the job role's credentials into this namespace.
GLUE_METRICS_NAMESPACE = "Glue"

PARQUET_INPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"


# ---- the job's Python package -----------------------------------------------------------
def package_sources() -> list[Path]:
    """Every module of ``glue_scripts/`` the job imports (tests and caches left out)."""
    return python_package.package_files(GLUE_SCRIPTS)


def build_package(build_dir: Path = PACKAGE_BUILD_DIR) -> Path:
    """A folder whose root holds ``glue_scripts/`` (what ``--extra-py-files`` expects once
    the CDK zips it), named by the content hash (stacks/python_package.py)."""
    return python_package.build_package(package_sources(), build_dir)


# ---- the stack ------------------------------------------------------------------------
class EtlStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvConfig,
        table: dynamodb.ITable,
        key: kms.IKey,
        lake_bucket: s3.IBucket,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        self.config = config
        self.database_name = lake_schema.database_name(config.name)
        self.job_name = f"receiptlake-{config.name}-etl"

        # Glue's logs and (disabled, but encrypted should they be turned on) bookmarks get
        # this stack's own key: CloudWatch Logs must be named in its key policy.
        self.etl_key = customer_key(
            self,
            "EtlKey",
            config=config,
            name="etl",
            description="Encrypts the ETL job's CloudWatch logs and job bookmarks",
            logs=True,
        )
        self.security_configuration = glue.CfnSecurityConfiguration(
            self,
            "SecurityConfiguration",
            name=f"receiptlake-{config.name}-etl",
            encryption_configuration=glue.CfnSecurityConfiguration.EncryptionConfigurationProperty(
                s3_encryptions=[
                    glue.CfnSecurityConfiguration.S3EncryptionProperty(
                        s3_encryption_mode="SSE-KMS", kms_key_arn=key.key_arn
                    )
                ],
                cloud_watch_encryption=glue.CfnSecurityConfiguration.CloudWatchEncryptionProperty(
                    cloud_watch_encryption_mode="SSE-KMS", kms_key_arn=self.etl_key.key_arn
                ),
                job_bookmarks_encryption=glue.CfnSecurityConfiguration.JobBookmarksEncryptionProperty(
                    job_bookmarks_encryption_mode="CSE-KMS", kms_key_arn=self.etl_key.key_arn
                ),
            ),
        )

        if not ENTRY_POINT.is_file():
            raise FileNotFoundError(f"the ETL job's entry point {ENTRY_POINT} is missing")
        self.script = s3_assets.Asset(self, "JobScript", path=str(ENTRY_POINT))
        self.package_dir = build_package()
        self.package = s3_assets.Asset(self, "JobPackage", path=str(self.package_dir))

        self.role = iam.Role(
            self,
            "JobRole",
            assumed_by=iam.ServicePrincipal(
                "glue.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": self.account}}
            ),
            description="ETL Glue job: export the receipts table, write the lake's Parquet tables",
        )
        self._catalog(config, lake_bucket)
        self.job = self._job(config, table=table, key=key, lake_bucket=lake_bucket)
        self.trigger = glue.CfnTrigger(
            self,
            "Schedule",
            name=f"{self.job_name}-schedule",
            description="Runs the ETL job on the environment's schedule",
            type="SCHEDULED",
            schedule=config.etl_schedule,
            start_on_creation=True,
            actions=[glue.CfnTrigger.ActionProperty(job_name=self.job.ref)],
        )
        self.workgroup = self._workgroup(config, key=key, lake_bucket=lake_bucket)
        self._grant(table=table, key=key, lake_bucket=lake_bucket)
        self._acknowledge()

    # ---- catalog ----------------------------------------------------------------------
    def _catalog(self, config: EnvConfig, lake_bucket: s3.IBucket) -> None:
        self.database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=self.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=self.database_name,
                description=f"receiptlake {config.name}: the lake's curated tables (Parquet)",
                location_uri=f"s3://{lake_bucket.bucket_name}/{lake_schema.CURATED_PREFIX}",
            ),
        )
        self.tables: dict[str, glue.CfnTable] = {}
        for spec in lake_schema.TABLES:
            location = f"s3://{lake_bucket.bucket_name}/{spec.prefix}"
            table = glue.CfnTable(
                self,
                f"Table{''.join(part.title() for part in spec.name.split('_'))}",
                catalog_id=self.account,
                database_name=self.database_name,
                table_input=glue.CfnTable.TableInputProperty(
                    name=spec.name,
                    description=spec.comment,
                    table_type="EXTERNAL_TABLE",
                    parameters={
                        "EXTERNAL": "TRUE",
                        "classification": "parquet",
                        "parquet.compression": "SNAPPY",
                        "projection.enabled": "true",
                        "projection.year.type": "integer",
                        "projection.year.range": f"{lake_schema.FIRST_YEAR},{lake_schema.LAST_YEAR}",
                        "projection.month.type": "integer",
                        "projection.month.range": "1,12",
                        "storage.location.template": f"{location}year=${{year}}/month=${{month}}",
                    },
                    partition_keys=[
                        glue.CfnTable.ColumnProperty(name=name, type=type_, comment=f"partition: {name}")
                        for name, type_ in lake_schema.PARTITION_KEYS
                    ],
                    storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                        columns=[
                            glue.CfnTable.ColumnProperty(name=c.name, type=c.type, comment=c.comment)
                            for c in spec.columns
                        ],
                        location=location,
                        input_format=PARQUET_INPUT_FORMAT,
                        output_format=PARQUET_OUTPUT_FORMAT,
                        serde_info=glue.CfnTable.SerdeInfoProperty(
                            serialization_library=PARQUET_SERDE, parameters={"serialization.format": "1"}
                        ),
                        compressed=False,
                        stored_as_sub_directories=False,
                    ),
                ),
            )
            table.add_resource_dependency(self.database)
            self.tables[spec.name] = table

    # ---- job ------------------------------------------------------------------------
    def _job(
        self, config: EnvConfig, *, table: dynamodb.ITable, key: kms.IKey, lake_bucket: s3.IBucket
    ) -> glue.CfnJob:
        job_arguments = {
            lake_schema.ARG_TABLE_ARN: table.table_arn,
            lake_schema.ARG_LAKE_BUCKET: lake_bucket.bucket_name,
            lake_schema.ARG_DATABASE: self.database_name,
            lake_schema.ARG_EXPORT_MODE: "auto",
            lake_schema.ARG_METRICS_NAMESPACE: lake_schema.METRICS_NAMESPACE,
            lake_schema.ARG_ENVIRONMENT: config.name,
            lake_schema.ARG_EXPORT_KMS_KEY: key.key_arn,
        }
        missing = set(lake_schema.JOB_ARGUMENTS) ^ set(job_arguments)
        if missing:
            raise ValueError(f"job arguments out of step with lake_schema.JOB_ARGUMENTS: {sorted(missing)}")
        default_arguments = {
            **{f"--{name}": value for name, value in job_arguments.items()},
            "--extra-py-files": self.package.s3_object_url,
            "--job-language": "python",
            "--enable-metrics": "",
            "--enable-continuous-cloudwatch-log": "true",
            "--enable-observability-metrics": "true",
            # The job tracks which export it used itself (etl/state.json in the lake) and
            # rewrites the tables whole: Glue's bookmarks would only duplicate that state.
            "--job-bookmark-option": "job-bookmark-disable",
            "--enable-glue-datacatalog": "true",
            "--TempDir": f"s3://{lake_bucket.bucket_name}/{GLUE_TEMP_PREFIX}",
        }
        return glue.CfnJob(
            self,
            "Job",
            name=self.job_name,
            description="Exports the receipts table and rewrites the lake's Parquet tables",
            role=self.role.role_arn,
            glue_version=GLUE_VERSION,
            command=glue.CfnJob.JobCommandProperty(
                name="glueetl", python_version="3", script_location=self.script.s3_object_url
            ),
            default_arguments=default_arguments,
            worker_type=config.glue_worker_type,
            number_of_workers=config.glue_workers,
            timeout=JOB_TIMEOUT_MINUTES,
            max_retries=JOB_MAX_RETRIES,
            execution_property=glue.CfnJob.ExecutionPropertyProperty(max_concurrent_runs=1),
            execution_class="STANDARD",
            security_configuration=self.security_configuration.ref,
        )

    # ---- Athena -----------------------------------------------------------------------
    def _workgroup(self, config: EnvConfig, *, key: kms.IKey, lake_bucket: s3.IBucket) -> athena.CfnWorkGroup:
        return athena.CfnWorkGroup(
            self,
            "AnalystsWorkGroup",
            name=f"receiptlake-{config.name}-analysts",
            description="Data scientists' queries over the lake; results encrypted in the lake bucket",
            state="ENABLED",
            recursive_delete_option=config.destroy_on_removal,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=config.athena_bytes_scanned_cutoff_gb * GB,
                requester_pays_enabled=False,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version=ATHENA_ENGINE_VERSION
                ),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{lake_bucket.bucket_name}/{lake_schema.ATHENA_RESULTS_PREFIX}",
                    expected_bucket_owner=self.account,
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=key.key_arn
                    ),
                ),
            ),
        )

    # ---- IAM --------------------------------------------------------------------------
    def _grant(self, *, table: dynamodb.ITable, key: kms.IKey, lake_bucket: s3.IBucket) -> None:
        """Exactly what the job does, on exactly the resources it does it to."""
        role = self.role
        # glue_job.py asks for a full or incremental export and polls it with DescribeExport;
        # it never describes the table or lists exports (its state file names the export).
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ExportTheTable",
                actions=["dynamodb:ExportTableToPointInTime"],
                resources=[table.table_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="FollowTheExport",
                actions=["dynamodb:DescribeExport"],
                resources=[f"{table.table_arn}/export/*"],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="LakeReadWrite",
                actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                resources=[lake_bucket.arn_for_objects(f"{p}*") for p in READ_WRITE_PREFIXES],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ExportWritesItsFiles",
                # DynamoDB writes the export with the caller's permissions, and its
                # documentation asks for PutObjectAcl as well; exports/ only.
                actions=["s3:PutObjectAcl"],
                resources=[lake_bucket.arn_for_objects(f"{lake_schema.EXPORTS_PREFIX}*")],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ProbeLakeFolders",
                # Hadoop's S3 filesystems probe a folder's own key (HEAD curated/receipts,
                # then curated) before listing it; without GetObject on that exact key the
                # probe is a 403 rather than a 404. Exact keys, which never hold data.
                actions=["s3:GetObject"],
                resources=[lake_bucket.arn_for_objects(key) for key in folder_keys()],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadTombstones",
                actions=["s3:GetObject"],
                resources=[lake_bucket.arn_for_objects(f"{p}*") for p in READ_ONLY_PREFIXES],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ListLakePrefixes",
                actions=["s3:ListBucket"],
                resources=[lake_bucket.bucket_arn],
                conditions={
                    "StringLike": {
                        "s3:prefix": [f"{p}*" for p in (*READ_WRITE_PREFIXES, *READ_ONLY_PREFIXES)]
                    }
                },
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadJobCode",
                actions=["s3:GetObject"],
                resources=[
                    self.script.bucket.arn_for_objects(self.script.s3_object_key),
                    self.package.bucket.arn_for_objects(self.package.s3_object_key),
                ],
            )
        )
        # The storage key encrypts the table, the lake and its exports (the security
        # configuration's SSE-KMS). Granted on the principal only: a grant through the key
        # would make storage depend on this stack.
        role.add_to_policy(
            iam.PolicyStatement(
                sid="UseDataKey",
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[key.key_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="UseEtlKey",
                # CloudWatch Logs encryption and client-side bookmark encryption.
                actions=["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
                resources=[self.etl_key.key_arn],
            )
        )
        catalog = self.format_arn(service="glue", resource="catalog")
        database = self.format_arn(service="glue", resource="database", resource_name=self.database_name)
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadCatalog",
                # Read-only: the tables are declared here; the job writes files, not metadata.
                actions=[
                    "glue:GetDatabase",
                    "glue:GetTable",
                    "glue:GetTables",
                    "glue:GetPartition",
                    "glue:GetPartitions",
                    "glue:BatchGetPartition",
                ],
                resources=[
                    catalog,
                    database,
                    self.format_arn(
                        service="glue", resource="table", resource_name=f"{self.database_name}/*"
                    ),
                ],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="SparkChecksDefaultDatabase",
                # Spark's Glue catalog client looks up the 'default' database when the
                # session starts; only that lookup, nothing in it.
                actions=["glue:GetDatabase"],
                resources=[
                    catalog,
                    self.format_arn(service="glue", resource="database", resource_name="default"),
                ],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="PublishMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],  # PutMetricData has no resource; the namespace condition scopes it
                conditions={
                    "StringEquals": {
                        "cloudwatch:namespace": [lake_schema.METRICS_NAMESPACE, GLUE_METRICS_NAMESPACE]
                    }
                },
            )
        )
        log_groups = f"arn:{self.partition}:logs:{self.region}:{self.account}:log-group:/aws-glue/*"
        role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteGlueLogs",
                # Glue names the job's log groups (/aws-glue/jobs/...) and associates the
                # security configuration's key with them itself.
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:AssociateKmsKey",
                ],
                resources=[log_groups, f"{log_groups}:log-stream:*"],
            )
        )

    # ---- cdk-nag ----------------------------------------------------------------------
    def _acknowledge(self) -> None:
        policy = self.role.node.try_find_child("DefaultPolicy")
        assert isinstance(policy, iam.Policy)
        acknowledge(
            policy,
            ["NIST.800.53.R5-IAMNoInlinePolicy", "PCI.DSS.321-IAMNoInlinePolicy"],
            "CDK writes a role's statements as its DefaultPolicy; the statements are this "
            "stack's least-privilege grants and change with the code, not shared between roles.",
        )
        prefixes = [*READ_WRITE_PREFIXES, *READ_ONLY_PREFIXES]
        exact = {"Resource::*"}
        patterns = (
            *(f"Resource::*/{p}*" for p in prefixes),
            "Resource::*/export/*",  # the table's exports: {table arn}/export/*
            f"Resource::*:table/{self.database_name}/*",
            "Resource::*:log-group:/aws-glue/*",
            "Resource::*:log-group:/aws-glue/*:log-stream:*",
        )
        acknowledge_wildcards(
            policy,
            lambda finding: finding in exact or any(fnmatchcase(finding, p) for p in patterns),
            "Object ARNs under the lake prefixes the job owns (exports/, staging/, curated/, "
            "quarantine/etl/, etl/, glue-temp/; tombstones/ read-only); the exports of the one "
            "table; the tables of this environment's one database; Glue's /aws-glue/ log groups, "
            "whose names Glue derives per run; and, on '*', only "
            "PutMetricData (no resource ARNs), conditioned on the job's and Glue's namespaces.",
        )
