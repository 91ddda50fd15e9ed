from __future__ import annotations

from aws_cdk.assertions import Match

from tests.infra.conftest import SynthResult


def test_table_is_kms_encrypted_with_pitr_ttl_and_indexes(synth: SynthResult) -> None:
    template = synth.template("dev", "storage")
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": Match.any_value()},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
            "GlobalSecondaryIndexes": Match.array_with(
                [Match.object_like({"IndexName": "GSI1"}), Match.object_like({"IndexName": "GSI2"})]
            ),
        },
    )


def test_deletion_protection_in_prod_only(synth: SynthResult) -> None:
    synth.template("prod", "storage").has_resource_properties(
        "AWS::DynamoDB::Table", {"DeletionProtectionEnabled": True}
    )
    synth.template("dev", "storage").has_resource_properties(
        "AWS::DynamoDB::Table", {"DeletionProtectionEnabled": False}
    )


def test_stateful_resources_retain_outside_dev(synth: SynthResult) -> None:
    for env in ("staging", "prod"):
        template = synth.template(env, "storage")
        for kind in ("AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::KMS::Key"):
            for resource in template.find_resources(kind).values():
                assert resource["DeletionPolicy"] == "Retain", (env, kind)
    dev = synth.template("dev", "storage")
    assert {r["DeletionPolicy"] for r in dev.find_resources("AWS::DynamoDB::Table").values()} == {"Delete"}


def test_key_rotates(synth: SynthResult) -> None:
    synth.template("prod", "storage").has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_buckets_are_private_versioned_logged_and_kms_encrypted(synth: SynthResult) -> None:
    template = synth.template("prod", "storage")
    buckets = template.find_resources("AWS::S3::Bucket")
    assert len(buckets) == 3
    for bucket in buckets.values():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    data_buckets = [b for b in buckets.values() if "LoggingConfiguration" in b["Properties"]]
    assert len(data_buckets) == 2
    for bucket in data_buckets:
        encryption = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"


def test_every_bucket_denies_plain_http(synth: SynthResult) -> None:
    template = synth.template("prod", "storage")
    policies = template.find_resources("AWS::S3::BucketPolicy")
    assert len(policies) == 3
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"].get("Bool", {}).get("aws:SecureTransport") == "false"
            for s in statements
        )


def test_lake_raw_zone_tiers_down_and_old_versions_expire(synth: SynthResult) -> None:
    synth.template("prod", "storage").has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [
                        Match.object_like({"NoncurrentVersionExpiration": {"NoncurrentDays": 90}}),
                        Match.object_like({"Prefix": "raw/", "Transitions": Match.any_value()}),
                    ]
                )
            }
        },
    )


def test_table_is_in_a_backup_plan(synth: SynthResult) -> None:
    synth.template("prod", "storage").resource_count_is("AWS::Backup::BackupSelection", 1)


def test_storage_stack_has_no_unacknowledged_nag_findings(synth: SynthResult) -> None:
    assert synth.findings("storage") == []
