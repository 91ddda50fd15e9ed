"""Customer-managed KMS keys as every layer creates them."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.config import EnvConfig
from stacks.storage_stack import removal_policy


def customer_key(
    scope: Construct, id_: str, *, config: EnvConfig, name: str, description: str, logs: bool = False
) -> kms.Key:
    """A rotating key named ``alias/receiptlake-{env}-{name}``, retained unless dev says
    destroy; ``logs=True`` lets CloudWatch Logs of this account and region use it."""
    key = kms.Key(
        scope,
        id_,
        alias=f"alias/receiptlake-{config.name}-{name}",
        description=description,
        enable_key_rotation=True,
        removal_policy=removal_policy(config),
    )
    if logs:
        allow_cloudwatch_logs(key)
    return key


def allow_cloudwatch_logs(key: kms.Key) -> None:
    stack = Stack.of(key)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchLogs",
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=[
                "kms:Encrypt*",
                "kms:Decrypt*",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:Describe*",
            ],
            resources=["*"],  # in a key policy "*" means this key
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": (
                        f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:*"
                    )
                }
            },
        )
    )
