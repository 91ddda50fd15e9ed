"""The training stack: spot-only Auto Scaling group at zero between scheduled runs, its
launch template (IMDSv2, encrypted disk, image from SSM), a private network reached only
through VPC endpoints, a least-privilege instance role, and the user-data script that runs
the trainer; plus the schedule conversion and the script's rendering, in every
environment of the shared synth."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from glue_scripts import lake_schema
from ml import metrics_names
from stacks.config import REPO_ROOT, ConfigError
from stacks.training_schedule import backstop_cron, to_unix_cron
from stacks.training_stack import (
    USER_DATA_TEMPLATE,
    TrainingStack,
    build_trainer_package,
    instance_architecture,
    render_user_data,
    trainer_sources,
)
from tests.infra.conftest import SynthResult

pytestmark = pytest.mark.infra
ENVS = ("dev", "staging", "prod")
VALUES = {
    "ENVIRONMENT": "dev",
    "REGION": "eu-west-1",
    "LAKE_BUCKET": "lake-bucket",
    "MODELS_BUCKET": "models-bucket",
    "TABLE": "receipts-table",
    "ASSET_URL": "s3://assets/abc.zip",
    "GROUP_NAME": "receiptlake-dev-training",
    "LOG_GROUP": "/receiptlake/dev/training",
    "CODEARTIFACT_DOMAIN": "receiptlake-dev",
    "CODEARTIFACT_OWNER": "123456789012",
    "CODEARTIFACT_REPOSITORY": "pypi",
    "METRICS_NAMESPACE": metrics_names.NAMESPACE,
    "METRICS_DIMENSION": metrics_names.DIMENSION_ENVIRONMENT,
    "RUN_SUCCEEDED_METRIC": metrics_names.RUN_SUCCEEDED,
    "MAX_RUNTIME_SECONDS": "21600",
}


@pytest.fixture(scope="module")
def stacks(synth: SynthResult) -> dict[str, TrainingStack]:
    return {env: synth.stack(env, "training") for env in ENVS}  # type: ignore[misc]


@pytest.fixture(scope="module")
def templates(stacks: dict[str, TrainingStack]) -> dict[str, Template]:
    return {env: Template.from_stack(stack) for env, stack in stacks.items()}


def _of_type(template: Template, kind: str) -> dict[str, dict[str, Any]]:
    return {k: r.get("Properties", {}) for k, r in template.find_resources(kind).items()}


def _one(template: Template, kind: str) -> dict[str, Any]:
    resources = _of_type(template, kind)
    assert len(resources) == 1, kind
    return next(iter(resources.values()))


def _flatten(value: Any) -> str:
    """A CloudFormation value as text, references as <name> (enough to read ARNs and names)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ",".join(_flatten(v) for v in value)
    if isinstance(value, dict):
        if "Fn::Join" in value:
            delimiter, parts = value["Fn::Join"]
            return str(delimiter).join(_flatten(p) for p in parts)
        if "Fn::Base64" in value:
            return _flatten(value["Fn::Base64"])
        if "Ref" in value:
            return f"<{value['Ref']}>"
        if "Fn::GetAtt" in value:
            return f"<{'.'.join(value['Fn::GetAtt'])}>"
        if "Fn::GetStackOutput" in value:
            return f"<{value['Fn::GetStackOutput']['OutputName']}>"
        if "Fn::ImportValue" in value:
            return f"<{_flatten(value['Fn::ImportValue'])}>"
    return json.dumps(value)


def _statements(template: Template, role_prefix: str = "InstanceRole") -> list[dict[str, Any]]:
    return [
        s
        for name, p in _of_type(template, "AWS::IAM::Policy").items()
        if name.startswith(role_prefix)
        for s in p["PolicyDocument"]["Statement"]
    ]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# ---- the stack -----------------------------------------------------------------------------


def test_nag_has_no_unacknowledged_findings_in_training(synth: SynthResult) -> None:
    assert synth.findings("training") == []


def test_stack_is_wired_after_storage(synth: SynthResult, stacks: dict[str, TrainingStack]) -> None:
    for env, stack in stacks.items():
        assert stack.stack_name == f"receiptlake-{env}-training"
        assert stack.group_name == f"receiptlake-{env}-training"
        assert synth.stack(env, "storage") in stack.dependencies


def test_group_is_spot_only_across_several_types_price_capacity_optimized(
    stacks: dict[str, TrainingStack], templates: dict[str, Template]
) -> None:
    for env, template in templates.items():
        config = stacks[env].config
        group = _one(template, "AWS::AutoScaling::AutoScalingGroup")
        policy = group["MixedInstancesPolicy"]
        assert policy["InstancesDistribution"] == {
            "OnDemandBaseCapacity": 0,
            "OnDemandPercentageAboveBaseCapacity": 0,
            "SpotAllocationStrategy": "price-capacity-optimized",
        }
        types = [o["InstanceType"] for o in policy["LaunchTemplate"]["Overrides"]]
        assert types == list(config.spot_instance_types) and len(types) >= 2
        # A rebalance would start a second trainer on the same checkpoints.
        assert group["CapacityRebalance"] is False


def test_group_sits_at_zero_between_runs(
    stacks: dict[str, TrainingStack], templates: dict[str, Template]
) -> None:
    for env, template in templates.items():
        group = _one(template, "AWS::AutoScaling::AutoScalingGroup")
        assert group["MinSize"] == "0"
        # No DesiredCapacity: the group starts at MinSize (0), and a deploy mid-run keeps it.
        assert "DesiredCapacity" not in group
        assert group["MaxSize"] == str(stacks[env].config.training_max_instances)
        assert len(group["VPCZoneIdentifier"]) >= 2  # spot picks from several zones


def test_scheduled_run_and_backstop_come_from_config(
    stacks: dict[str, TrainingStack], templates: dict[str, Template]
) -> None:
    for env, template in templates.items():
        config = stacks[env].config
        actions = {
            p["DesiredCapacity"]: p for p in _of_type(template, "AWS::AutoScaling::ScheduledAction").values()
        }
        assert set(actions) == {0, 1}
        assert actions[1]["Recurrence"] == to_unix_cron(config.training_schedule)
        assert actions[0]["Recurrence"] == backstop_cron(
            config.training_schedule, config.training_max_runtime_hours
        )
        assert actions[0]["MinSize"] == 0
    assert _of_type(templates["prod"], "AWS::AutoScaling::ScheduledAction")  # and it exists at all


def test_launch_template_requires_imdsv2_encrypts_and_takes_the_image_from_ssm(
    stacks: dict[str, TrainingStack], templates: dict[str, Template]
) -> None:
    for env, template in templates.items():
        config = stacks[env].config
        data = _one(template, "AWS::EC2::LaunchTemplate")["LaunchTemplateData"]
        assert data["MetadataOptions"]["HttpTokens"] == "required"
        assert data["MetadataOptions"]["HttpPutResponseHopLimit"] == 1
        assert data["ImageId"] == f"resolve:ssm:{config.training_ami_parameter}"
        assert config.training_ami_parameter.startswith("/aws/service/")  # AWS-published
        (root,) = data["BlockDeviceMappings"]
        assert root["Ebs"]["Encrypted"] is True and root["Ebs"]["DeleteOnTermination"] is True
        (interface,) = data["NetworkInterfaces"]
        assert interface["AssociatePublicIpAddress"] is False
        assert "InstanceType" not in data  # the group's overrides choose it


def test_network_is_private_with_no_ingress_to_the_instances(templates: dict[str, Template]) -> None:
    for env, template in templates.items():
        for kind in ("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::EIP"):
            template.resource_count_is(kind, 0)
        subnets = _of_type(template, "AWS::EC2::Subnet")
        assert subnets and all(not s.get("MapPublicIpOnLaunch", False) for s in subnets.values())
        groups = _of_type(template, "AWS::EC2::SecurityGroup")
        instance_sg = next(
            k for k, p in groups.items() if p["GroupDescription"].startswith("Training instances")
        )
        assert "SecurityGroupIngress" not in groups[instance_sg]
        ingress = _of_type(template, "AWS::EC2::SecurityGroupIngress")
        assert ingress, env
        for rule in ingress.values():
            # Only the endpoints accept traffic, and only HTTPS from the instances.
            assert rule["GroupId"]["Fn::GetAtt"][0] != instance_sg
            assert rule["SourceSecurityGroupId"] == {"Fn::GetAtt": [instance_sg, "GroupId"]}
            assert (rule["FromPort"], rule["ToPort"]) == (443, 443)
        template.resource_count_is("AWS::EC2::FlowLog", 1)


def test_vpc_endpoints_cover_every_service_the_instance_calls(templates: dict[str, Template]) -> None:
    for env, template in templates.items():
        endpoints = _of_type(template, "AWS::EC2::VPCEndpoint").values()
        by_type: dict[str, set[str]] = {}
        for props in endpoints:
            # com.amazonaws.{region}.{service}
            name = _flatten(props["ServiceName"]).split(".", 3)[3]
            by_type.setdefault(props.get("VpcEndpointType", "Gateway"), set()).add(name)
        assert by_type["Gateway"] == {"s3", "dynamodb"}, env
        assert by_type["Interface"] == {
            "logs",
            "monitoring",
            "autoscaling",
            "codeartifact.api",
            "codeartifact.repositories",
        }, env
        for props in endpoints:
            if props.get("VpcEndpointType") == "Interface":
                assert props["PrivateDnsEnabled"] is True


def test_instance_role_is_least_privilege(
    stacks: dict[str, TrainingStack], templates: dict[str, Template]
) -> None:
    for env, template in templates.items():
        statements = _statements(template)
        by_sid = {s["Sid"]: s for s in statements}
        assert all(s["Effect"] == "Allow" for s in statements)
        actions = [a for s in statements for a in _as_list(s["Action"])]
        assert not [a for a in actions if "*" in a], env
        # "*" only where the action has no resource, and then under a condition.
        for statement in statements:
            if "*" in _as_list(statement["Resource"]):
                assert statement["Sid"] in {"PublishMetrics", "PackageMirrorBearerToken"}, statement
                assert statement["Resource"] == "*" and statement["Condition"]
        assert by_sid["PublishMetrics"]["Condition"] == {
            "StringEquals": {"cloudwatch:namespace": metrics_names.NAMESPACE}
        }
        assert by_sid["PackageMirrorBearerToken"]["Condition"] == {
            "StringEquals": {"sts:AWSServiceName": "codeartifact.amazonaws.com"}
        }
        # Scale to zero: this group only, by name and by its tags.
        scale = by_sid["ScaleThisGroupToZero"]
        assert scale["Action"] == "autoscaling:SetDesiredCapacity"
        assert _flatten(scale["Resource"]).endswith(f":autoScalingGroupName/receiptlake-{env}-training")
        assert scale["Condition"]["StringEquals"]["autoscaling:ResourceTag/environment"] == env
        assert [s for s in statements if "autoscaling:SetDesiredCapacity" in _as_list(s["Action"])] == [scale]
        # The lake: read only, curated/ and tombstones/ only.
        lake = by_sid["ReadLake"]
        assert lake["Action"] == "s3:GetObject"
        assert sorted(_flatten(r).split(">")[1] for r in lake["Resource"]) == [
            f"/{lake_schema.CURATED_PREFIX}*",
            f"/{lake_schema.TOMBSTONES_PREFIX}*",
        ]
        lake_arn = _flatten(by_sid["ListLake"]["Resource"])
        on_lake = {s["Sid"] for s in statements if lake_arn in _flatten(s["Resource"])}
        assert on_lake == {"ReadLake", "ListLake"}
        assert by_sid["ListLake"]["Condition"] == {
            "StringLike": {
                "s3:prefix": [f"{lake_schema.CURATED_PREFIX}*", f"{lake_schema.TOMBSTONES_PREFIX}*"]
            }
        }
        # The table: the insights writes and reads, on the table only, users' partitions only.
        table = by_sid["WriteInsights"]
        assert sorted(table["Action"]) == [
            "dynamodb:BatchWriteItem",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:Query",
        ]
        assert "/index/" not in _flatten(table["Resource"])
        assert table["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["USER#*"]}}
        assert sorted(by_sid["UseDataKey"]["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
        assert not [
            a for a in actions if a.startswith("iam:") or a in {"dynamodb:Scan", "dynamodb:DeleteItem"}
        ]


def test_logs_are_retained_per_config_and_encrypted(
    stacks: dict[str, TrainingStack], templates: dict[str, Template]
) -> None:
    for env, template in templates.items():
        groups = {p["LogGroupName"]: p for p in _of_type(template, "AWS::Logs::LogGroup").values()}
        training = groups[f"/receiptlake/{env}/training"]
        assert training["RetentionInDays"] == stacks[env].config.log_retention_days
        (key,) = _of_type(template, "AWS::KMS::Key")
        assert training["KmsKeyId"] == {"Fn::GetAtt": [key, "Arn"]}
        # The flow logs too.
        assert all("KmsKeyId" in p and "RetentionInDays" in p for p in groups.values())


def test_user_data_runs_the_trainer_with_this_environments_resources(templates: dict[str, Template]) -> None:
    for env, template in templates.items():
        data = _one(template, "AWS::EC2::LaunchTemplate")["LaunchTemplateData"]
        script = _flatten(data["UserData"])
        assert script.startswith("#!/bin/bash\n")
        assert f"ENVIRONMENT={env}\n" in script
        assert f"GROUP_NAME=receiptlake-{env}-training\n" in script
        assert f"RUN_SUCCEEDED_METRIC={metrics_names.RUN_SUCCEEDED}\n" in script
        assert "-m ml train --env" in script
        # Buckets and table are the storage stack's, resolved at deploy time.
        assert "LAKE_BUCKET='<" in script and "MODELS_BUCKET='<" in script and "TABLE='<" in script


# ---- the trainer's package ------------------------------------------------------------------


def test_trainer_package_holds_ml_and_the_modules_it_shares(stacks: dict[str, TrainingStack]) -> None:
    names = {p.relative_to(REPO_ROOT).as_posix() for p in trainer_sources()}
    assert {
        "ml/__init__.py",
        "ml/metrics_names.py",
        "lambda_src/__init__.py",
        "lambda_src/common/keys.py",
        "lambda_src/common/categories.py",
        "glue_scripts/__init__.py",
        "glue_scripts/lake_schema.py",
        "receiptlake/__init__.py",
        "receiptlake/lake.py",
    } <= names
    assert not [n for n in names if "tests/" in n or "__pycache__" in n or "notebooks/" in n]
    assert {"ml/data/receipt_items.csv", "ml/data/SOURCE.txt", "ml/requirements.txt"} <= names
    # Only the shared modules, not the other layers' code (of the API: the insights writer).
    api = {n for n in names if n.startswith("lambda_src/api/")}
    assert api == {f"lambda_src/api/{m}.py" for m in ("__init__", "insights", "observability", "schemas")}
    assert not [n for n in names if n.startswith(("receiptlake/local/", "glue_scripts/glue_job"))]
    assert len({s.package.asset_hash for s in stacks.values()}) == 1  # one asset for every environment


def test_the_trainer_runs_from_its_package_alone(tmp_path: Path) -> None:
    """What the instance runs: ``python -m ml`` with the package instead of the repository
    on the path (every module it imports is in it; this venv stands in for
    ml/requirements.txt)."""
    package = build_trainer_package(tmp_path)
    code = (
        "import sys; repo = sys.argv[2]\n"
        "keep = [p for p in sys.path if p and ('site-packages' in p or not p.startswith(repo))]\n"
        "sys.path = [sys.argv[1], *keep]\n"
        "import ml.pipeline, ml.aws, ml.metrics, ml.__main__ as m\n"
        "assert m.parser().parse_args(['train', '--env', 'dev', '--lake-bucket', 'l', '--models-bucket', 'm',"
        " '--table', 't']).env == 'dev'\n"
        "from ml.labels import dataset; assert len(dataset()) > 4000\n"
        "assert all(mod.__file__.startswith(sys.argv[1]) for name, mod in sys.modules.items()"
        " if name.split('.')[0] in ('ml', 'lambda_src', 'glue_scripts') and getattr(mod, '__file__', None))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(package), str(REPO_ROOT)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_trainer_package_build_is_deterministic(tmp_path: Path) -> None:
    first = build_trainer_package(tmp_path)
    assert build_trainer_package(tmp_path) == first
    assert (first / "ml" / "metrics_names.py").is_file()
    assert (first / "glue_scripts" / "lake_schema.py").is_file()
    assert [p.name for p in tmp_path.iterdir()] == [first.name]


# ---- the schedule -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("eventbridge", "unix"),
    [
        ("cron(0 5 ? * SUN *)", "0 5 * * SUN"),
        ("cron(30 2 * * ? *)", "30 2 * * *"),
        ("cron(0 5 ? * 1 *)", "0 5 * * SUN"),  # EventBridge counts days 1-7 from Sunday
        ("cron(0 5 ? * 2-6 *)", "0 5 * * MON,TUE,WED,THU,FRI"),
        ("cron(0 5 ? * MON,SAT *)", "0 5 * * MON,SAT"),
        ("cron(15 4 1 * ? *)", "15 4 1 * *"),
    ],
)
def test_eventbridge_cron_becomes_unix_cron(eventbridge: str, unix: str) -> None:
    assert to_unix_cron(eventbridge) == unix


@pytest.mark.parametrize(
    "bad",
    [
        "rate(7 days)",
        "cron(0 5 * * SUN)",
        "cron(0 5 ? * SUN 2027)",
        "cron(0 5 L * ? *)",
        "cron(0 5 * * SUN *)",
    ],
)
def test_cron_without_a_unix_equivalent_is_refused(bad: str) -> None:
    with pytest.raises(ConfigError, match="training_schedule"):
        to_unix_cron(bad)


@pytest.mark.parametrize(
    ("eventbridge", "hours", "unix"),
    [
        ("cron(0 5 ? * SUN *)", 6, "0 11 * * SUN"),
        ("cron(0 22 ? * SAT *)", 6, "0 4 * * SUN"),  # past midnight: the next day
        ("cron(30 20 * * ? *)", 5, "30 1 * * *"),
        ("cron(0 23 ? * FRI-SAT *)", 2, "0 1 * * SUN,SAT"),
    ],
)
def test_backstop_follows_the_start_by_the_time_limit(eventbridge: str, hours: int, unix: str) -> None:
    assert backstop_cron(eventbridge, hours) == unix


@pytest.mark.parametrize(
    ("eventbridge", "hours"),
    [("cron(0 */6 ? * SUN *)", 2), ("cron(0 22 31 * ? *)", 6), ("cron(0 5 ? * SUN *)", 24)],
)
def test_backstop_is_refused_where_it_cannot_follow(eventbridge: str, hours: int) -> None:
    with pytest.raises(ConfigError):
        backstop_cron(eventbridge, hours)


def test_image_must_match_the_instances_architecture() -> None:
    arm = ("m7g.large", "c7g.xlarge")
    assert instance_architecture(arm, "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64")
    with pytest.raises(ConfigError, match="x86_64 image"):
        instance_architecture(arm, "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")
    with pytest.raises(ConfigError, match="mix architectures"):
        instance_architecture(("m7g.large", "m7i.large"), "/my/image")


# ---- the user-data script ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def script() -> str:
    return render_user_data(VALUES)


def test_rendered_script_is_valid_bash(script: str, tmp_path: Path) -> None:
    bash = shutil.which("bash")
    assert bash
    path = tmp_path / "user_data.sh"
    path.write_text(script)
    result = subprocess.run([bash, "-n", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_rendered_script_has_every_value_and_runs_the_trainer_with_them(script: str) -> None:
    assert "@@" not in script
    for name, value in VALUES.items():
        assert f"{name}={value}\n" in script, name
    assert (
        '-m ml train --env "$ENVIRONMENT" --lake-bucket "$LAKE_BUCKET" \\\n'
        '  --models-bucket "$MODELS_BUCKET" --table "$TABLE" --region "$REGION"'
    ) in script


def test_rendered_script_uses_imdsv2_and_turns_the_spot_notice_into_sigterm(script: str) -> None:
    assert 'curl -sf -X PUT "$IMDS/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds:' in script
    assert '-H "X-aws-ec2-metadata-token: $(imds_token)"' in script
    assert "imds spot/instance-action" in script
    assert 'kill -TERM "$pid"' in script
    # After an interruption the desired capacity stays, so the group replaces the instance.
    interrupted = script.index('if [[ -f "$INTERRUPTED" ]]; then')
    assert "exit 0" in script[interrupted : script.index("fi", interrupted)]


def test_rendered_script_scales_the_group_to_zero_when_the_trainer_ends(script: str) -> None:
    call = 'aws autoscaling set-desired-capacity --auto-scaling-group-name "$GROUP_NAME" --desired-capacity 0'
    assert call in script
    assert script.rstrip().endswith("scale_to_zero")
    assert "trap 'setup_failed $LINENO' ERR" in script  # a failed setup scales down too
    assert 'timeout --signal=TERM --kill-after=120 "$MAX_RUNTIME_SECONDS"' in script
    assert '--metric-name "$RUN_SUCCEEDED_METRIC"' in script


def test_values_are_shell_quoted(tmp_path: Path) -> None:
    script = render_user_data({**VALUES, "TABLE": "table; rm -rf /"})
    assert "TABLE='table; rm -rf /'\n" in script


def test_rendering_refuses_missing_or_unknown_values() -> None:
    with pytest.raises(ValueError, match="no value for TABLE"):
        render_user_data({k: v for k, v in VALUES.items() if k != "TABLE"})
    with pytest.raises(ValueError, match="no @@COLOUR@@"):
        render_user_data({**VALUES, "COLOUR": "blue"})
    assert USER_DATA_TEMPLATE.name == "training_user_data.sh"
