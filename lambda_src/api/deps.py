"""The API's collaborators, built once per process from the settings.

Tests and local mode pass their own ``Deps`` to ``create_app``; Lambda builds them from
the environment on the first request and keeps them for the life of the container.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import boto3
from botocore.config import Config

from lambda_src.api.auth import Authenticator, SigningKeys
from lambda_src.api.settings import AuthMode, Settings
from lambda_src.common.dynamodb import dynamodb_client
from lambda_src.common.repository import ReceiptRepository


@dataclass(frozen=True)
class Deps:
    settings: Settings
    repository: ReceiptRepository
    dynamodb: Any
    s3: Any
    # Signs URLs handed to the browser: in local mode it must name the endpoint the
    # browser can reach, which may differ from the one the API calls.
    s3_presign: Any
    sqs: Any
    authenticator: Authenticator


def _client(service: str, settings: Settings, endpoint: str | None, **config: Any) -> Any:
    # DynamoDB's Query answers skip botocore's per-attribute parse (see common/dynamodb.py):
    # it was most of the CPU of a summary with ~2,000 aggregate items.
    make = dynamodb_client if service == "dynamodb" else partial(boto3.client, service)
    return make(
        region_name=settings.aws_region,
        endpoint_url=endpoint,
        config=Config(retries={"mode": "standard", "max_attempts": 3}, **config),
    )


def build_deps(settings: Settings, *, signing_keys: SigningKeys | None = None) -> Deps:
    endpoint = settings.aws_endpoint_url
    # Path-style against an emulator (no wildcard DNS on localhost); in AWS the regional
    # virtual-hosted endpoint, so a new bucket never answers a browser with a redirect.
    s3_style = {"addressing_style": "path" if endpoint else "virtual"}
    public = settings.public_s3_endpoint or f"https://s3.{settings.aws_region}.amazonaws.com"
    dynamodb = _client("dynamodb", settings, endpoint)
    if signing_keys is None and settings.auth_mode is AuthMode.VERIFY:
        import jwt  # local mode only (see auth.py)

        assert settings.cognito_jwks_url is not None
        signing_keys = jwt.PyJWKClient(settings.cognito_jwks_url, cache_keys=True, lifespan=3600)
    return Deps(
        settings=settings,
        repository=ReceiptRepository(settings.table_name, dynamodb),
        dynamodb=dynamodb,
        s3=_client("s3", settings, endpoint, s3=s3_style, signature_version="s3v4"),
        s3_presign=_client("s3", settings, public, s3=s3_style, signature_version="s3v4"),
        sqs=_client("sqs", settings, endpoint),
        authenticator=Authenticator(settings, signing_keys),
    )
