"""The ingest stack: fine-grained assertions on what matters, and cdk-nag with zero findings.

Until the lead's stage wires the ingest layer, this module builds its own stage (storage +
ingest) for dev and prod, synthesized once with the same three nag packs as the app.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from hypothesis import given
from hypothesis import strategies as st

from stacks.config import ENVIRONMENTS_KEY, load_config, read_cdk_json_context
from stacks.ingest_stack import MAX_RECEIVE_COUNT, VISIBILITY_FACTOR, IngestStack, textract_budget
from tests.infra.conftest import SynthResult

pytestmark = pytest.mark.infra
ENVS = ("dev", "prod")


@dataclass
class Built:
    stacks: dict[str, IngestStack]
    violations: list[dict[str, Any]]

    def template(self, env: str) -> Template:
        return Template.from_stack(self.stacks[env])


@pytest.fixture(scope="module")
def built(synth: SynthResult) -> Built:
    """The ingest stacks of the shared synth of the whole app (tests/infra/conftest.py)."""
    return Built({env: synth.stack(env, "ingest") for env in ENVS}, synth.violations)  # type: ignore[misc]


def test_nag_has_no_unacknowledged_findings_in_ingest(built: Built) -> None:
    findings = [
        f"{v['ruleName']} at {c['constructPath']}"
        for v in built.violations
        for c in v["violatingConstructs"]
        if "/ingest/" in c["constructPath"]
    ]
    assert findings == []


def test_uploads_bucket_is_encrypted_private_and_accepts_browser_posts(built: Built) -> None:
    config = built.stacks["dev"].config
    template = built.template("dev")
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    Match.object_like(
                        {
                            "ServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": Match.any_value(),
                            }
                        }
                    )
                ]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "VersioningConfiguration": {"Status": "Enabled"},
            "LoggingConfiguration": Match.object_like({"DestinationBucketName": Match.any_value()}),
            "CorsConfiguration": {
                "CorsRules": [
                    Match.object_like(
                        {
                            "AllowedMethods": ["POST"],
                            "AllowedOrigins": [*config.web_origins, "https://*.cloudfront.net"],
                        }
                    )
                ]
            },
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [
                        Match.object_like(
                            {"Id": "quarantine-expires", "Prefix": "quarantine/", "ExpirationInDays": 30}
                        )
                    ]
                )
            },
        },
    )


def test_uploads_bucket_denies_plain_http(built: Built) -> None:
    built.template("dev").has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                        )
                    ]
                )
            }
        },
    )


def test_uploads_prefix_notifies_the_queue(built: Built) -> None:
    built.template("dev").has_resource_properties(
        "Custom::S3BucketNotifications",
        {
            "NotificationConfiguration": {
                "QueueConfigurations": [
                    {
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"}]}},
                        "QueueArn": Match.any_value(),
                    }
                ]
            }
        },
    )


def _function(template: Template) -> dict[str, Any]:
    functions = {
        k: v
        for k, v in template.find_resources("AWS::Lambda::Function").items()
        if v["Properties"].get("Handler") == "lambda_src.ingest.handler.handler"
    }
    assert len(functions) == 1
    return next(iter(functions.values()))["Properties"]


def test_queue_has_a_dlq_after_5_receives_and_outlasts_the_function(built: Built) -> None:
    template = built.template("dev")
    timeout = _function(template)["Timeout"]
    queues = template.find_resources("AWS::SQS::Queue")
    assert len(queues) == 2
    main = [q["Properties"] for q in queues.values() if "RedrivePolicy" in q["Properties"]]
    assert len(main) == 1
    assert main[0]["RedrivePolicy"]["maxReceiveCount"] == MAX_RECEIVE_COUNT == 5
    assert main[0]["VisibilityTimeout"] >= VISIBILITY_FACTOR * timeout
    for queue in queues.values():
        assert "KmsMasterKeyId" in queue["Properties"]  # encrypted with a customer key


def test_queues_deny_plain_http(built: Built) -> None:
    policies = built.template("dev").find_resources("AWS::SQS::QueuePolicy")
    statements = [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]
    assert any(
        s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )


def test_function_is_python_3_12_plus_on_arm64_with_xray(built: Built) -> None:
    props = _function(built.template("dev"))
    assert props["Runtime"] in ("python3.12", "python3.13", "python3.14")
    assert props["Architectures"] == ["arm64"]
    assert props["TracingConfig"] == {"Mode": "Active"}
    config = built.stacks["dev"].config
    assert props["ReservedConcurrentExecutions"] == config.ingest_reserved_concurrency
    assert props["MemorySize"] == config.ingest_memory_mb
    env = props["Environment"]["Variables"]
    assert env["MAX_UPLOAD_BYTES"] == str(config.max_upload_bytes)
    assert env["MAX_RECEIVE_COUNT"] == "5"
    assert (
        float(env["TEXTRACT_TPS_PER_WORKER"]) * textract_budget(config).max_concurrency <= config.textract_tps
    )


def test_event_source_reports_batch_item_failures_with_bounded_concurrency(built: Built) -> None:
    for env in ENVS:
        config = built.stacks[env].config
        built.template(env).has_resource_properties(
            "AWS::Lambda::EventSourceMapping",
            {
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "ScalingConfig": {"MaximumConcurrency": textract_budget(config).max_concurrency},
                "BatchSize": 5,
            },
        )


def test_function_role_is_least_privilege(built: Built) -> None:
    template = built.template("dev")
    role_policies = [
        p["Properties"]
        for p in template.find_resources("AWS::IAM::Policy").values()
        if "IngestFunctionRole" in json.dumps(p["Properties"]["Roles"])
    ]
    statements = [s for p in role_policies for s in p["PolicyDocument"]["Statement"]]
    actions = {
        a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert not any(a == "*" or a.endswith(":*") for a in actions)
    assert {
        "textract:AnalyzeExpense",
        "textract:StartExpenseAnalysis",
        "textract:GetExpenseAnalysis",
    } <= actions
    assert not {"dynamodb:Scan", "dynamodb:Query", "dynamodb:DeleteItem", "s3:ListBucket"} & actions
    for statement in statements:
        if any(
            a.startswith("s3:") for a in statement["Action"] if isinstance(statement["Action"], list)
        ) or str(statement["Action"]).startswith("s3:"):
            text = json.dumps(statement["Resource"])
            allowed: tuple[str, ...] = ("/uploads/*", "/quarantine/*", "/raw/textract/*")
            allowed += ("/latest.json", "/runs/*/categorizer.npz")
            assert any(p in text for p in allowed), text
    # The promoted categorizer: read-only, the pointer and the weights files only.
    models = [s for s in statements if s.get("Sid") == "ReadPromotedCategorizer"]
    assert len(models) == 1 and models[0]["Action"] == "s3:GetObject"
    # The role has no AWS managed policies.
    roles = template.find_resources("AWS::IAM::Role")
    ingest_role = [r for k, r in roles.items() if k.startswith("IngestFunctionRole")]
    assert ingest_role and "ManagedPolicyArns" not in ingest_role[0]["Properties"]


def test_textract_completions_topic_feeds_the_queue(built: Built) -> None:
    template = built.template("dev")
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    template.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "sqs"})
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [Match.object_like({"Principal": {"Service": "textract.amazonaws.com"}})]
            }
        },
    )


def test_logs_are_encrypted_and_expire(built: Built) -> None:
    config = built.stacks["dev"].config
    built.template("dev").has_resource_properties(
        "AWS::Logs::LogGroup", {"RetentionInDays": config.log_retention_days, "KmsKeyId": Match.any_value()}
    )


def test_prod_retains_queues_keys_and_uploads(built: Built) -> None:
    template = built.template("prod")
    for kind in ("AWS::SQS::Queue", "AWS::KMS::Key", "AWS::S3::Bucket", "AWS::Logs::LogGroup"):
        for resource in template.find_resources(kind).values():
            assert resource["DeletionPolicy"] == "Retain", kind


@given(tps=st.integers(1, 5000), reserved=st.integers(2, 3000))
def test_textract_budget_never_exceeds_the_tps(tps: int, reserved: int) -> None:
    config = load_config(read_cdk_json_context()[ENVIRONMENTS_KEY], "dev").model_copy(
        update={"textract_tps": tps, "ingest_reserved_concurrency": reserved}
    )
    budget = textract_budget(config)
    assert 2 <= budget.max_concurrency <= min(1000, max(2, reserved))
    assert budget.total_tps <= tps + 1e-9
    assert budget.tps_per_worker > 0


def test_textract_budget_examples() -> None:
    base = load_config(read_cdk_json_context()[ENVIRONMENTS_KEY], "dev")
    for tps, reserved, expected in ((1, 2, (2, 0.5)), (10, 20, (10, 1.0)), (50, 5, (5, 10.0))):
        budget = textract_budget(
            base.model_copy(update={"textract_tps": tps, "ingest_reserved_concurrency": reserved})
        )
        assert (budget.max_concurrency, budget.tps_per_worker) == expected
