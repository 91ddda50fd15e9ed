"""The API stack: Cognito, HTTP API with a JWT authorizer, one arm64 Lambda; nag-clean."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk.assertions import Template

from tests.infra.conftest import SynthResult

pytestmark = pytest.mark.infra

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@dataclass
class Synth:
    templates: dict[str, Any]  # env name -> Template of its api stack
    client_ids: dict[str, Any]
    error: Exception | None
    report: dict[str, Any] | None


@pytest.fixture(scope="module")
def synth(synth: SynthResult) -> Synth:
    """The API stacks of the shared synth of the whole app (tests/infra/conftest.py)."""
    apis = {name: synth.stack(name, "api") for name in ("dev", "prod")}
    findings = synth.findings("api")
    return Synth(
        templates={name: Template.from_stack(api) for name, api in apis.items()},
        client_ids={name: api.user_pool_client.user_pool_client_id for name, api in apis.items()},  # type: ignore[attr-defined]
        error=RuntimeError("; ".join(findings)) if findings else None,
        report={"pluginReports": [{"violations": synth.violations}]},
    )


def _only(template: Any, type_: str) -> dict[str, Any]:
    resources = template.find_resources(type_)
    assert len(resources) == 1, resources.keys()
    return next(iter(resources.values()))["Properties"]


def test_no_unacknowledged_nag_findings_in_the_api_stack(synth: Synth) -> None:
    findings = []
    for plugin in (synth.report or {}).get("pluginReports", []):
        for violation in plugin.get("violations", []):
            for construct in violation.get("violatingConstructs", []):
                if "/api/" in construct["constructPath"]:
                    findings.append(f"{violation['ruleName']} at {construct['constructPath']}")
    assert findings == []


def test_whole_app_synthesizes_nag_clean(synth: Synth) -> None:
    assert synth.error is None, str(synth.error)[:500]


def test_user_pool_email_sign_in_strong_passwords_optional_mfa(synth: Synth) -> None:
    pool = _only(synth.templates["dev"], "AWS::Cognito::UserPool")
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["MfaConfiguration"] == "OPTIONAL"
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    password = pool["Policies"]["PasswordPolicy"]
    assert password["MinimumLength"] >= 12
    assert all(
        password[k] for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols")
    )
    assert pool["AccountRecoverySetting"]["RecoveryMechanisms"] == [{"Name": "verified_email", "Priority": 1}]


def test_deletion_protection_and_retention_in_prod_only(synth: Synth) -> None:
    prod = synth.templates["prod"].find_resources("AWS::Cognito::UserPool")
    dev = synth.templates["dev"].find_resources("AWS::Cognito::UserPool")
    (prod_pool,) = prod.values()
    (dev_pool,) = dev.values()
    assert prod_pool["Properties"]["DeletionProtection"] == "ACTIVE"
    assert prod_pool["DeletionPolicy"] == "Retain"
    assert dev_pool["Properties"].get("DeletionProtection", "INACTIVE") == "INACTIVE"


def test_web_client_is_public_and_uses_srp(synth: Synth) -> None:
    client = _only(synth.templates["dev"], "AWS::Cognito::UserPoolClient")
    assert client.get("GenerateSecret") is False
    assert "ALLOW_USER_SRP_AUTH" in client["ExplicitAuthFlows"]
    assert "ALLOW_USER_PASSWORD_AUTH" not in client["ExplicitAuthFlows"]
    assert client["PreventUserExistenceErrors"] == "ENABLED"


def test_one_arm64_function_in_apigw_mode(synth: Synth) -> None:
    template = synth.templates["dev"]
    function = _only(template, "AWS::Lambda::Function")
    assert function["Architectures"] == ["arm64"]
    assert function["Handler"] == "lambda_src.api.handler.handler"
    assert function["Runtime"].startswith("python3.")
    assert function["Timeout"] < 30  # answers before API Gateway's 30 s integration limit
    assert function["ReservedConcurrentExecutions"] >= 1
    assert function["TracingConfig"] == {"Mode": "Active"}
    env = function["Environment"]["Variables"]
    assert env["AUTH_MODE"] == "apigw"
    assert {"TABLE_NAME", "UPLOADS_BUCKET", "LAKE_BUCKET", "INGEST_QUEUE_URL", "MAX_UPLOAD_BYTES"} <= set(env)


def test_routes_need_the_jwt_authorizer_except_the_contract_and_health(synth: Synth) -> None:
    template = synth.templates["dev"]
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in template.find_resources("AWS::ApiGatewayV2::Route").values()
    }
    assert set(routes) == {"ANY /api/{proxy+}", "GET /api/openapi.json", "GET /api/health"}
    assert routes["ANY /api/{proxy+}"]["AuthorizationType"] == "JWT"
    assert routes["GET /api/openapi.json"]["AuthorizationType"] == "NONE"
    authorizer = _only(template, "AWS::ApiGatewayV2::Authorizer")
    assert authorizer["AuthorizerType"] == "JWT"
    assert authorizer["IdentitySource"] == ["$request.header.Authorization"]
    assert len(authorizer["JwtConfiguration"]["Audience"]) == 1
    issuer = json.dumps(authorizer["JwtConfiguration"]["Issuer"])
    assert "cognito-idp." in issuer


def test_stage_throttles_and_logs_access(synth: Synth) -> None:
    stage = _only(synth.templates["dev"], "AWS::ApiGatewayV2::Stage")
    assert stage["StageName"] == "$default" and stage["AutoDeploy"] is True
    throttle = stage["DefaultRouteSettings"]
    assert throttle["ThrottlingRateLimit"] > 0 and throttle["ThrottlingBurstLimit"] > 0
    log_format = json.loads(stage["AccessLogSettings"]["Format"])
    assert {"requestId", "status", "routeKey", "latencyMs"} <= set(log_format)
    for group in synth.templates["dev"].find_resources("AWS::Logs::LogGroup").values():
        assert group["Properties"]["RetentionInDays"] > 0
        assert "KmsKeyId" in group["Properties"]


def test_outputs_the_api_url(synth: Synth) -> None:
    outputs = synth.templates["dev"].find_outputs("ApiUrl")
    assert len(outputs) == 1


def test_function_role_is_least_privilege(synth: Synth) -> None:
    policies = synth.templates["dev"].find_resources("AWS::IAM::Policy")
    statements = [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]
    actions = {
        a for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert not any(a.endswith(":*") for a in actions), actions
    assert "sqs:SendMessage" in actions and "dynamodb:Scan" not in actions
    by_sid = {s.get("Sid"): s for s in statements}
    uploads = json.dumps(by_sid["UploadsObjects"]["Resource"])
    assert uploads.endswith('/uploads/*"]}') or "/uploads/*" in uploads
    assert by_sid["ListUploadVersions"]["Condition"] == {"StringLike": {"s3:prefix": ["uploads/*"]}}
