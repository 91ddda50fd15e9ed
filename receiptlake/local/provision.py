"""Provision, in moto, the resources the stacks define, under fixed local names.

CloudFormation in moto cannot deploy these stacks (no TableV2, API Gateway v2, Cognito,
S3 notification custom resources), so boto3 creates each resource the way the stack
configures it: the table from the synthesized key schema, uploads → SQS with a DLQ,
a Cognito pool whose app client allows USER_PASSWORD_AUTH.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import boto3
from botocore.config import Config

from receiptlake.local.tables import create_receipts_table

REGION = "eu-west-1"
PREFIX = "receiptlake-local"
MAX_RECEIVE_COUNT = 5
# Local OCR reads a receipt in about a second; a minute covers a slow multi-page PDF.
VISIBILITY_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class LocalNames:
    table: str = f"{PREFIX}-receipts"
    uploads_bucket: str = f"{PREFIX}-uploads"
    lake_bucket: str = f"{PREFIX}-lake"
    models_bucket: str = f"{PREFIX}-models"
    queue: str = f"{PREFIX}-ingest"
    dlq: str = f"{PREFIX}-ingest-dlq"
    user_pool: str = f"{PREFIX}-users"
    app_client: str = f"{PREFIX}-webapp"


@dataclass(frozen=True)
class LocalResources:
    endpoint: str
    region: str
    names: LocalNames
    queue_url: str
    dlq_url: str
    user_pool_id: str
    app_client_id: str

    @property
    def issuer(self) -> str:
        # moto writes the real AWS issuer into its tokens, not its own endpoint.
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def jwks_url(self) -> str:
        return f"{self.endpoint}/{self.user_pool_id}/.well-known/jwks.json"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "names": asdict(self.names)}


def client(service: str, endpoint: str, region: str = REGION) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - moto accepts any credentials
        config=Config(retries={"mode": "standard", "max_attempts": 3}, s3={"addressing_style": "path"}),
    )


def provision(endpoint: str, *, web_origins: list[str], region: str = REGION) -> LocalResources:
    names = LocalNames()
    create_receipts_table(client("dynamodb", endpoint, region), names.table)

    s3 = client("s3", endpoint, region)
    location = {"LocationConstraint": region}
    for bucket in (names.uploads_bucket, names.lake_bucket, names.models_bucket):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration=location)
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
    s3.put_bucket_cors(
        Bucket=names.uploads_bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": web_origins,
                    "AllowedMethods": ["POST", "GET"],
                    "AllowedHeaders": ["*"],
                    "MaxAgeSeconds": 3000,
                }
            ]
        },
    )

    sqs = client("sqs", endpoint, region)
    dlq_url = sqs.create_queue(QueueName=names.dlq)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName=names.queue,
        Attributes={
            "VisibilityTimeout": str(VISIBILITY_TIMEOUT_SECONDS),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)}
            ),
        },
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    s3.put_bucket_notification_configuration(
        Bucket=names.uploads_bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"}]}},
                }
            ]
        },
    )

    cognito = client("cognito-idp", endpoint, region)
    pool_id = cognito.create_user_pool(
        PoolName=names.user_pool,
        UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
        Policies={
            "PasswordPolicy": {
                "MinimumLength": 12,
                "RequireUppercase": True,
                "RequireLowercase": True,
                "RequireNumbers": True,
                "RequireSymbols": True,
            }
        },
    )["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName=names.app_client,
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    return LocalResources(
        endpoint=endpoint,
        region=region,
        names=names,
        queue_url=queue_url,
        dlq_url=dlq_url,
        user_pool_id=pool_id,
        app_client_id=client_id,
    )
