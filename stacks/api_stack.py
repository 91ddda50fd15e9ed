"""API layer: Cognito user pool + web app client, an HTTP API with a JWT authorizer, and
one arm64 Lambda (FastAPI through Mangum) serving every ``/api`` route.

The web app reaches the API on its own origin: the hosting layer's CloudFront routes
``/api/*`` to ``self.http_api``, so the routes here keep their ``/api`` prefix.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambda_src.common import keys
from stacks.bundling import ARCHITECTURE, RUNTIME, handler_path, python_lambda_code
from stacks.config import EnvConfig
from stacks.encryption import customer_key
from stacks.nag import NO_VPC_REASON, acknowledge, acknowledge_wildcards, skip_checkov
from stacks.storage_stack import removal_policy

UPLOADS_PREFIX = "uploads/"
RAW_PREFIX = "raw/textract/"
TOMBSTONES_PREFIX = "tombstones/"
# API Gateway gives up on an integration after 30 s; the function must answer before.
FUNCTION_TIMEOUT_SECONDS = 25
PASSWORD_MIN_LENGTH = 12
# Routes anyone may call: the contract itself and a liveness probe. Everything else
# needs a valid ID token.
PUBLIC_ROUTES = ("/api/openapi.json", "/api/health")
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "path": "$context.path",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "latencyMs": "$context.responseLatency",
    "integrationLatencyMs": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
    "sub": "$context.authorizer.claims.sub",
}


class ApiStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvConfig,
        table: dynamodb.ITable,
        key: kms.IKey,
        uploads_bucket: s3.IBucket,
        lake_bucket: s3.IBucket,
        ingest_queue: sqs.IQueue,
        access_logs_bucket: s3.IBucket,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        self.config = config
        # Kept for the hosting layer's CloudFront logging and symmetry with other stacks;
        # API Gateway writes access logs to CloudWatch Logs, not S3.
        self.access_logs_bucket = access_logs_bucket

        self.logs_key = customer_key(
            self,
            "LogsKey",
            config=config,
            name="api-logs",
            description="Encrypts the API's function and access logs",
            logs=True,
        )

        self.user_pool, self.user_pool_client = self._identity(config)
        self.function = self._function(
            config,
            table=table,
            uploads_bucket=uploads_bucket,
            lake_bucket=lake_bucket,
            ingest_queue=ingest_queue,
        )
        self._grant(
            table=table,
            key=key,
            uploads_bucket=uploads_bucket,
            lake_bucket=lake_bucket,
            ingest_queue=ingest_queue,
        )
        self.logs_key.grant_decrypt(self.role)  # the environment variables are encrypted with it
        skip_checkov(
            self.function,
            "CKV_AWS_116",
            "Invoked synchronously by API Gateway, which answers the caller with the error; a "
            "function DLQ only catches asynchronous invocations, and there are none.",
        )
        skip_checkov(self.function, "CKV_AWS_117", NO_VPC_REASON)
        self.http_api, self.access_log_group = self._http_api(config)

        self.api_url = self.http_api.api_endpoint
        CfnOutput(
            self, "ApiUrl", value=self.api_url, description="HTTP API base URL (routes start with /api)"
        )
        CfnOutput(self, "UserPoolId", value=self.user_pool.user_pool_id)
        CfnOutput(self, "UserPoolClientId", value=self.user_pool_client.user_pool_client_id)
        self._acknowledge()

    # ---- identity -----------------------------------------------------------------
    def _identity(self, config: EnvConfig) -> tuple[cognito.UserPool, cognito.UserPoolClient]:
        pool = cognito.UserPool(
            self,
            "Users",
            user_pool_name=f"receiptlake-{config.name}-users",
            self_sign_up_enabled=True,
            sign_in_aliases=cognito.SignInAliases(email=True, username=False),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            keep_original=cognito.KeepOriginalAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=PASSWORD_MIN_LENGTH,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            deletion_protection=config.deletion_protection,
            removal_policy=removal_policy(config),
        )
        client = pool.add_client(
            "WebApp",
            user_pool_client_name=f"receiptlake-{config.name}-web",
            generate_secret=False,  # a browser cannot keep a secret
            # SRP keeps the password off the wire; the web app uses it when hosted.
            auth_flows=cognito.AuthFlow(user_srp=True),
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
        )
        return pool, client

    # ---- function -----------------------------------------------------------------
    def _function(
        self,
        config: EnvConfig,
        *,
        table: dynamodb.ITable,
        uploads_bucket: s3.IBucket,
        lake_bucket: s3.IBucket,
        ingest_queue: sqs.IQueue,
    ) -> lambda_.Function:
        self.log_group = logs.LogGroup(
            self, "FunctionLogs", encryption_key=self.logs_key, removal_policy=removal_policy(config)
        )
        cfn_log_group = self.log_group.node.default_child
        assert isinstance(cfn_log_group, logs.CfnLogGroup)
        cfn_log_group.retention_in_days = config.log_retention_days

        self.role = iam.Role(
            self,
            "FunctionRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="API Lambda: one user's receipts, uploads, raw documents; re-enqueue retries",
        )
        return lambda_.Function(
            self,
            "Function",
            description="receiptlake HTTP API (FastAPI via Mangum): every /api route",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=python_lambda_code("api"),
            handler=handler_path("api"),
            memory_size=config.api_memory_mb,
            timeout=Duration.seconds(FUNCTION_TIMEOUT_SECONDS),
            reserved_concurrent_executions=config.api_reserved_concurrency,
            tracing=lambda_.Tracing.ACTIVE,
            role=self.role,
            log_group=self.log_group,
            environment_encryption=self.logs_key,
            environment={
                "TABLE_NAME": table.table_name,
                "UPLOADS_BUCKET": uploads_bucket.bucket_name,
                "LAKE_BUCKET": lake_bucket.bucket_name,
                "INGEST_QUEUE_URL": ingest_queue.queue_url,
                "AUTH_MODE": "apigw",
                "MAX_UPLOAD_BYTES": str(config.max_upload_bytes),
                "POWERTOOLS_SERVICE_NAME": "receiptlake-api",
                "POWERTOOLS_LOG_LEVEL": "INFO",
            },
        )

    def _grant(
        self,
        *,
        table: dynamodb.ITable,
        key: kms.IKey,
        uploads_bucket: s3.IBucket,
        lake_bucket: s3.IBucket,
        ingest_queue: sqs.IQueue,
    ) -> None:
        """Exactly what the code does, on exactly the resources it does it to."""
        role = self.role
        self.log_group.grant_write(role)
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReceiptsTable",
                # reads, guarded transactions (Put/Update/Delete/ConditionCheck), erasure batches
                actions=[
                    "dynamodb:GetItem",
                    "dynamodb:Query",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:ConditionCheckItem",
                    "dynamodb:BatchWriteItem",
                ],
                resources=[
                    table.table_arn,
                    *(f"{table.table_arn}/index/{name}" for name in (keys.GSI1, keys.GSI2)),
                ],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="UploadsObjects",
                # PutObject: the browser's presigned POST runs with these credentials;
                # Get: presigned image URLs and HeadObject; Delete*: receipt and account erasure.
                actions=["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
                resources=[uploads_bucket.arn_for_objects(f"{UPLOADS_PREFIX}*")],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="RawZoneErasure",
                actions=["s3:DeleteObject", "s3:DeleteObjectVersion"],
                resources=[lake_bucket.arn_for_objects(f"{RAW_PREFIX}*")],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="Tombstones",
                actions=["s3:PutObject"],
                resources=[lake_bucket.arn_for_objects(f"{TOMBSTONES_PREFIX}*")],
            )
        )
        for sid, bucket, prefix in (
            ("ListUploadVersions", uploads_bucket, UPLOADS_PREFIX),
            ("ListRawVersions", lake_bucket, RAW_PREFIX),
        ):
            role.add_to_policy(
                iam.PolicyStatement(
                    sid=sid,
                    actions=["s3:ListBucketVersions", "s3:ListBucket"],
                    resources=[bucket.bucket_arn],
                    conditions={"StringLike": {"s3:prefix": [f"{prefix}*"]}},
                )
            )
        # The storage key encrypts the table, the uploads and the lake. Granted on the
        # principal only: a grant through the key would make storage depend on this stack.
        role.add_to_policy(
            iam.PolicyStatement(
                sid="UseDataKey", actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[key.key_arn]
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="RetryEnqueue", actions=["sqs:SendMessage"], resources=[ingest_queue.queue_arn]
            )
        )
        if ingest_queue.encryption_master_key is not None:
            role.add_to_policy(
                iam.PolicyStatement(
                    sid="UseQueueKey",
                    actions=["kms:GenerateDataKey", "kms:Decrypt"],
                    resources=[ingest_queue.encryption_master_key.key_arn],
                )
            )

    # ---- HTTP API -----------------------------------------------------------------
    def _http_api(self, config: EnvConfig) -> tuple[apigw.HttpApi, logs.LogGroup]:
        authorizer = authorizers.HttpUserPoolAuthorizer(
            "IdToken",
            self.user_pool,
            user_pool_clients=[self.user_pool_client],
            identity_source=["$request.header.Authorization"],
        )
        integration = integrations.HttpLambdaIntegration(
            "Lambda", self.function, payload_format_version=apigw.PayloadFormatVersion.VERSION_2_0
        )
        api = apigw.HttpApi(
            self,
            "HttpApi",
            api_name=f"receiptlake-{config.name}-api",
            description="receiptlake API; the web app calls it as /api on its own origin",
            create_default_stage=False,
        )
        api.add_routes(
            path="/api/{proxy+}",
            methods=[apigw.HttpMethod.ANY],
            integration=integration,
            authorizer=authorizer,
        )
        for path in PUBLIC_ROUTES:
            for route in api.add_routes(
                path=path,
                methods=[apigw.HttpMethod.GET],
                integration=integration,
                authorizer=apigw.HttpNoneAuthorizer(),
            ):
                acknowledge(
                    route,
                    ["AwsSolutions-APIG4"],
                    "Public on purpose: the OpenAPI document (the contract, no data) and a "
                    "liveness probe; every other route requires a Cognito ID token.",
                )

        access_logs = logs.LogGroup(
            self, "AccessLogs", encryption_key=self.logs_key, removal_policy=removal_policy(config)
        )
        cfn_access = access_logs.node.default_child
        assert isinstance(cfn_access, logs.CfnLogGroup)
        cfn_access.retention_in_days = config.log_retention_days

        stage = api.add_stage(
            "DefaultStage",
            stage_name="$default",
            auto_deploy=True,
            throttle=apigw.ThrottleSettings(
                rate_limit=config.api_throttle_rate, burst_limit=config.api_throttle_burst
            ),
        )
        cfn_stage = stage.node.default_child
        assert isinstance(cfn_stage, apigw.CfnStage)
        cfn_stage.access_log_settings = apigw.CfnStage.AccessLogSettingsProperty(
            destination_arn=access_logs.log_group_arn, format=json.dumps(ACCESS_LOG_FORMAT)
        )
        return api, access_logs

    # ---- cdk-nag ------------------------------------------------------------------
    def _acknowledge(self) -> None:
        acknowledge(
            self.user_pool,
            ["AwsSolutions-COG2"],
            "MFA is optional by product decision (issue 5): users turn on TOTP themselves; "
            "requiring it would block sign-up from the phone-camera flow.",
        )
        acknowledge(
            self.user_pool,
            ["AwsSolutions-COG3", "AwsSolutions-COG8"],
            "Threat protection (Cognito Plus feature plan) is a per-MAU cost decision left to "
            "the prod owners; the pool has a strong password policy, optional TOTP MFA, "
            "email-only recovery and user-existence errors suppressed.",
        )
        acknowledge(
            self.function,
            ["NIST.800.53.R5-LambdaInsideVPC", "PCI.DSS.321-LambdaInsideVPC"],
            "The function reaches only AWS APIs (DynamoDB, S3, SQS) over TLS with IAM "
            "authorization; it has no network resources to protect, and a VPC would need NAT or "
            "interface endpoints per environment for no gain.",
        )
        acknowledge(
            self.function,
            ["NIST.800.53.R5-LambdaDLQ"],
            "Invoked synchronously by API Gateway only: the caller gets the error; a function "
            "DLQ applies to asynchronous invocations.",
        )
        acknowledge(
            self.function,
            ["AwsSolutions-L1"],
            "Pinned to Python 3.12, the version the Docker-free bundling installs arm64 wheels for "
            "(stacks/bundling.py); moved with the bundling, not per function.",
        )
        default_policy = self.role.node.try_find_child("DefaultPolicy")
        assert isinstance(default_policy, iam.Policy)
        acknowledge(
            default_policy,
            ["NIST.800.53.R5-IAMNoInlinePolicy", "PCI.DSS.321-IAMNoInlinePolicy"],
            "The role's policy is this stack's own least-privilege statements, written next to "
            "the code they serve and changed with it; a managed policy would only be shared "
            "with nobody.",
        )
        prefixes = (f"/{UPLOADS_PREFIX}*", f"/{RAW_PREFIX}*", f"/{TOMBSTONES_PREFIX}*")
        acknowledge_wildcards(
            default_policy,
            lambda finding: (
                finding == "Resource::*" or (finding.startswith("Resource::") and finding.endswith(prefixes))
            ),
            reason="Object ARNs need a wildcard: object actions on the uploads/, "
            "raw/textract/ and tombstones/ prefixes only; Resource::* is X-Ray's "
            "PutTraceSegments, which has no resource ARNs.",
        )
