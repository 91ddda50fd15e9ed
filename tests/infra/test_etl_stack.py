"""The ETL stack: the Glue 5 job, its security configuration, schedule and role, the Glue
catalog tables (from glue_scripts/lake_schema.py, the contract the job writes with) and
the analysts' Athena workgroup, in every environment of the shared synth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from glue_scripts import lake_schema
from stacks.config import ENVIRONMENTS_KEY, ConfigError, load_config, read_cdk_json_context
from stacks.etl_stack import (
    GB,
    READ_ONLY_PREFIXES,
    READ_WRITE_PREFIXES,
    EtlStack,
    build_package,
    folder_keys,
)
from tests.infra.conftest import SynthResult

pytestmark = pytest.mark.infra
ENVS = ("dev", "staging", "prod")


@pytest.fixture(scope="module")
def stacks(synth: SynthResult) -> dict[str, EtlStack]:
    return {env: synth.stack(env, "etl") for env in ENVS}  # type: ignore[misc]


@pytest.fixture(scope="module")
def templates(stacks: dict[str, EtlStack]) -> dict[str, Template]:
    return {env: Template.from_stack(stack) for env, stack in stacks.items()}


def _one(template: Template, kind: str) -> dict[str, Any]:
    resources = template.find_resources(kind)
    assert len(resources) == 1, kind
    properties: dict[str, Any] = next(iter(resources.values()))["Properties"]
    return properties


def _statements(template: Template) -> list[dict[str, Any]]:
    return [
        s
        for p in template.find_resources("AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_nag_has_no_unacknowledged_findings_in_etl(synth: SynthResult) -> None:
    assert synth.findings("etl") == []


def test_stack_exposes_what_other_layers_use(stacks: dict[str, EtlStack]) -> None:
    for env, stack in stacks.items():
        assert stack.job_name == f"receiptlake-{env}-etl"
        assert stack.database_name == lake_schema.database_name(env) == f"receiptlake_{env}"
        assert stack.job.name == stack.job_name
        assert stack.workgroup.name == f"receiptlake-{env}-analysts"
        assert stack.role is not None


def test_job_is_a_glue_5_spark_job_sized_per_environment(
    stacks: dict[str, EtlStack], templates: dict[str, Template]
) -> None:
    for env in ENVS:
        config = stacks[env].config
        job = _one(templates[env], "AWS::Glue::Job")
        assert job["GlueVersion"] == "5.0"
        assert job["Command"]["Name"] == "glueetl"
        assert job["Command"]["PythonVersion"] == "3"
        assert job["Command"]["ScriptLocation"]["Fn::Sub"].endswith(".py")
        assert job["WorkerType"] == config.glue_worker_type
        assert job["NumberOfWorkers"] == config.glue_workers
        assert job["ExecutionProperty"] == {"MaxConcurrentRuns": 1}
        assert job["MaxRetries"] in (0, 1)
        assert 0 < job["Timeout"] <= 24 * 60
        assert job["Name"] == f"receiptlake-{env}-etl"
    assert stacks["prod"].config.glue_workers != stacks["dev"].config.glue_workers
    assert _one(templates["prod"], "AWS::Glue::Job")["NumberOfWorkers"] == 4


def test_security_configuration_encrypts_s3_logs_and_bookmarks(templates: dict[str, Template]) -> None:
    template = templates["prod"]
    security = template.find_resources("AWS::Glue::SecurityConfiguration")
    assert len(security) == 1
    logical_id, resource = next(iter(security.items()))
    encryption = resource["Properties"]["EncryptionConfiguration"]
    assert [e["S3EncryptionMode"] for e in encryption["S3Encryptions"]] == ["SSE-KMS"]
    assert "KmsKeyArn" in encryption["S3Encryptions"][0]
    assert encryption["CloudWatchEncryption"]["CloudWatchEncryptionMode"] == "SSE-KMS"
    assert encryption["JobBookmarksEncryption"]["JobBookmarksEncryptionMode"] == "CSE-KMS"
    # Logs and bookmarks use the stack's own key, whose policy lets CloudWatch Logs use it.
    etl_key = encryption["CloudWatchEncryption"]["KmsKeyArn"]["Fn::GetAtt"][0]
    assert encryption["JobBookmarksEncryption"]["KmsKeyArn"]["Fn::GetAtt"][0] == etl_key
    key_policy = template.find_resources("AWS::KMS::Key")[etl_key]["Properties"]["KeyPolicy"]
    assert any(s.get("Sid") == "AllowCloudWatchLogs" for s in key_policy["Statement"])
    # The job runs with it.
    assert _one(template, "AWS::Glue::Job")["SecurityConfiguration"] == {"Ref": logical_id}


def test_job_arguments_cover_the_contract(templates: dict[str, Template]) -> None:
    for env in ENVS:
        arguments = _one(templates[env], "AWS::Glue::Job")["DefaultArguments"]
        for name in lake_schema.JOB_ARGUMENTS:
            assert f"--{name}" in arguments, name
        assert arguments[f"--{lake_schema.ARG_DATABASE}"] == lake_schema.database_name(env)
        assert arguments[f"--{lake_schema.ARG_METRICS_NAMESPACE}"] == lake_schema.METRICS_NAMESPACE
        assert arguments[f"--{lake_schema.ARG_ENVIRONMENT}"] == env
        assert arguments[f"--{lake_schema.ARG_EXPORT_MODE}"] == "auto"
        assert arguments["--extra-py-files"]["Fn::Sub"].endswith(".zip")
        assert arguments["--enable-continuous-cloudwatch-log"] == "true"
        assert arguments["--enable-metrics"] == ""
        assert arguments["--enable-observability-metrics"] == "true"
        assert arguments["--enable-glue-datacatalog"] == "true"
        assert arguments["--job-bookmark-option"] == "job-bookmark-disable"
        assert "/glue-temp/" in json.dumps(arguments["--TempDir"])


def test_schedule_starts_the_job(stacks: dict[str, EtlStack], templates: dict[str, Template]) -> None:
    for env in ENVS:
        trigger = _one(templates[env], "AWS::Glue::Trigger")
        assert trigger["Type"] == "SCHEDULED"
        assert trigger["Schedule"] == stacks[env].config.etl_schedule
        assert trigger["StartOnCreation"] is True
        job_id = next(iter(templates[env].find_resources("AWS::Glue::Job")))
        assert trigger["Actions"] == [{"JobName": {"Ref": job_id}}]


def test_database(templates: dict[str, Template]) -> None:
    for env in ENVS:
        database = _one(templates[env], "AWS::Glue::Database")
        assert database["DatabaseInput"]["Name"] == lake_schema.database_name(env)


def _tables(template: Template) -> dict[str, dict[str, Any]]:
    return {
        t["Properties"]["TableInput"]["Name"]: t["Properties"]
        for t in template.find_resources("AWS::Glue::Table").values()
    }


def test_tables_are_the_contract(templates: dict[str, Template]) -> None:
    for env in ENVS:
        tables = _tables(templates[env])
        assert sorted(tables) == sorted(t.name for t in lake_schema.TABLES)
        for spec in lake_schema.TABLES:
            table = tables[spec.name]
            assert table["DatabaseName"] == lake_schema.database_name(env)
            storage = table["TableInput"]["StorageDescriptor"]
            assert [(c["Name"], c["Type"]) for c in storage["Columns"]] == [
                (c.name, c.type) for c in spec.columns
            ]
            assert [c["Comment"] for c in storage["Columns"]] == [c.comment for c in spec.columns]
            assert [(c["Name"], c["Type"]) for c in table["TableInput"]["PartitionKeys"]] == list(
                lake_schema.PARTITION_KEYS
            )
            assert storage["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
            assert storage["InputFormat"].endswith("MapredParquetInputFormat")
            assert storage["OutputFormat"].endswith("MapredParquetOutputFormat")
            location = json.dumps(storage["Location"])
            assert location.endswith(f'"/{spec.prefix}"]]}}'), location
            parameters = table["TableInput"]["Parameters"]
            assert parameters["classification"] == "parquet"
            assert parameters["projection.enabled"] == "true"
            assert parameters["projection.year.type"] == "integer"
            assert parameters["projection.year.range"] == f"{lake_schema.FIRST_YEAR},{lake_schema.LAST_YEAR}"
            assert parameters["projection.month.type"] == "integer"
            assert parameters["projection.month.range"] == "1,12"
            template = parameters["storage.location.template"]["Fn::Join"][1]
            assert template[0] == "s3://"
            assert template[-1] == f"/curated/{spec.name}/year=${{year}}/month=${{month}}"


def test_workgroup_enforces_encrypted_results_and_a_scan_cutoff(
    stacks: dict[str, EtlStack], templates: dict[str, Template]
) -> None:
    cutoffs = {}
    for env in ENVS:
        config = stacks[env].config
        workgroup = _one(templates[env], "AWS::Athena::WorkGroup")
        assert workgroup["Name"] == f"receiptlake-{env}-analysts"
        assert workgroup["RecursiveDeleteOption"] is config.destroy_on_removal
        settings = workgroup["WorkGroupConfiguration"]
        assert settings["EnforceWorkGroupConfiguration"] is True
        assert settings["PublishCloudWatchMetricsEnabled"] is True
        assert settings["EngineVersion"] == {"SelectedEngineVersion": "Athena engine version 3"}
        results = settings["ResultConfiguration"]
        assert results["EncryptionConfiguration"]["EncryptionOption"] == "SSE_KMS"
        assert "KmsKey" in results["EncryptionConfiguration"]
        assert json.dumps(results["OutputLocation"]).endswith('"/athena-results/"]]}')
        assert settings["BytesScannedCutoffPerQuery"] == config.athena_bytes_scanned_cutoff_gb * GB
        cutoffs[env] = settings["BytesScannedCutoffPerQuery"]
    assert cutoffs["dev"] == 10 * GB
    assert cutoffs["prod"] == 100 * GB != cutoffs["dev"]
    assert _one(templates["dev"], "AWS::Athena::WorkGroup")["RecursiveDeleteOption"] is True
    assert _one(templates["prod"], "AWS::Athena::WorkGroup")["RecursiveDeleteOption"] is False


def test_metrics_are_published_only_to_named_namespaces(templates: dict[str, Template]) -> None:
    statements = [
        s for s in _statements(templates["prod"]) if "cloudwatch:PutMetricData" in _as_list(s["Action"])
    ]
    assert len(statements) == 1
    namespaces = _as_list(statements[0]["Condition"]["StringEquals"]["cloudwatch:namespace"])
    assert lake_schema.METRICS_NAMESPACE in namespaces
    assert set(namespaces) <= {lake_schema.METRICS_NAMESPACE, "Glue"}  # Glue: its own job metrics
    assert _as_list(statements[0]["Action"]) == ["cloudwatch:PutMetricData"]


def test_role_has_no_service_wide_actions_or_managed_policies(templates: dict[str, Template]) -> None:
    for env in ENVS:
        template = templates[env]
        actions = {a for s in _statements(template) for a in _as_list(s["Action"])}
        assert not {"*", "s3:*", "dynamodb:*", "glue:*", "kms:*", "logs:*", "cloudwatch:*"} & actions
        assert not [a for a in actions if a.endswith("*")]
        # The job reads the table only through an export: no item reads, no scans.
        assert {a for a in actions if a.startswith("dynamodb:")} == {
            "dynamodb:ExportTableToPointInTime",
            "dynamodb:DescribeExport",
        }
        for role in template.find_resources("AWS::IAM::Role").values():
            assert "ManagedPolicyArns" not in role["Properties"]
        # Only the namespace-conditioned PutMetricData (which has no resource ARNs) runs on '*'.
        on_everything = {
            a for s in _statements(template) if s["Resource"] == "*" for a in _as_list(s["Action"])
        }
        assert on_everything == {"cloudwatch:PutMetricData"}


def test_lake_access_is_limited_to_the_jobs_prefixes(templates: dict[str, Template]) -> None:
    allowed = {f"/{p}*" for p in (*READ_WRITE_PREFIXES, *READ_ONLY_PREFIXES)}
    writes = {"s3:PutObject", "s3:DeleteObject", "s3:PutObjectAcl", "s3:AbortMultipartUpload"}
    for statement in _statements(templates["dev"]):
        actions = set(_as_list(statement["Action"]))
        if not any(a.startswith("s3:") for a in actions):
            continue
        if actions == {"s3:ListBucket"}:
            prefixes = statement["Condition"]["StringLike"]["s3:prefix"]
            assert {f"/{p}" for p in prefixes} == allowed
            continue
        for resource in _as_list(statement["Resource"]):
            text = json.dumps(resource)
            if "cdk-hnb659fds-assets" in text:  # the job's script and package, by exact key
                assert actions == {"s3:GetObject"} and "*" not in text
                continue
            suffix = resource["Fn::Join"][1][-1]
            if suffix.lstrip("/") in folder_keys():  # folder probes: exact keys, read-only
                assert actions == {"s3:GetObject"}
                continue
            assert suffix in allowed, suffix
            if suffix == "/tombstones/*":
                assert not actions & writes  # erased users are read, never written here


def test_package_asset_ships_glue_scripts(synth: SynthResult, stacks: dict[str, EtlStack]) -> None:
    stack = stacks["dev"]
    assert (stack.package_dir / "glue_scripts" / "lake_schema.py").is_file()
    assert (stack.package_dir / "glue_scripts" / "__init__.py").is_file()
    outdir = Path(synth.stages["dev"].outdir).parent
    staged = outdir / f"asset.{stack.package.asset_hash}"
    assert (staged / "glue_scripts" / "lake_schema.py").is_file()
    assert (staged / "glue_scripts" / "lake_schema.py").read_bytes() == (
        stack.package_dir / "glue_scripts" / "lake_schema.py"
    ).read_bytes()
    assert not list(staged.rglob("__pycache__"))
    # One package for every environment.
    assert {s.package.asset_hash for s in stacks.values()} == {stack.package.asset_hash}


def test_folder_keys_are_the_parents_of_the_prefixes() -> None:
    keys = folder_keys()
    assert {"curated", "quarantine", "quarantine/etl", "etl", "glue-temp"} <= set(keys)
    assert not [k for k in keys if "*" in k or k.endswith("/")]


def test_package_build_is_deterministic(tmp_path: Path) -> None:
    first = build_package(tmp_path)
    second = build_package(tmp_path)
    assert first == second
    assert (first / "glue_scripts" / "lake_schema.py").is_file()
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no temporary folders left


@pytest.mark.parametrize(
    ("field", "value"),
    [("athena_bytes_scanned_cutoff_gb", 0), ("glue_worker_type", "G.025X"), ("glue_worker_type", "m5.large")],
)
def test_config_rejects_bad_etl_settings(field: str, value: object) -> None:
    environments = read_cdk_json_context()[ENVIRONMENTS_KEY]
    broken = {**environments, "dev": {**environments["dev"], field: value}}
    with pytest.raises(ConfigError, match=field):
        load_config(broken, "dev")


def test_the_lakes_working_prefixes_expire(synth: SynthResult) -> None:
    buckets = synth.template("prod", "storage").find_resources("AWS::S3::Bucket")
    rules = [
        rule
        for bucket in buckets.values()
        for rule in bucket["Properties"].get("LifecycleConfiguration", {}).get("Rules", [])
    ]
    expiring = {
        r["Prefix"]: r["ExpirationInDays"] for r in rules if r.get("Prefix") and "ExpirationInDays" in r
    }
    for prefix, days in lake_schema.EXPIRY_DAYS.items():
        assert expiring[prefix] == days
    assert lake_schema.STAGING_ITEMS_PREFIX not in expiring  # the job prunes its snapshots itself
    assert lake_schema.CURATED_PREFIX not in expiring
