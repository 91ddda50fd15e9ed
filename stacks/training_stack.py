"""Training layer: an EC2 Auto Scaling group of spot instances that, on the environment's
schedule, runs ``python -m ml train`` (ml/README.md) and scales itself back to zero.

How a run goes: a scheduled action sets the group's desired capacity to 1; the instance's
user data (stacks/training_user_data.sh) fetches the trainer (``ml/`` and the shared
modules it imports, an S3 asset), installs its dependencies, trains, and sets the desired
capacity back to 0. A spot interruption notice makes it send SIGTERM to the trainer, which
checkpoints to the models bucket; the group replaces the instance and the next run resumes.
A backstop scheduled action sets the group to zero ``training_max_runtime_hours`` after
the start, so a hung run never bills beyond that.

Image: Amazon Linux 2023 for arm64 (the public SSM parameter in
``EnvConfig.training_ami_parameter``, resolved at every launch, so each run boots the latest
patched image without a deploy), with Python 3.11 from the distribution's own repositories
and the trainer's pinned requirements (``ml/requirements.txt``: PyTorch 2.x, pandas,
pyarrow, scikit-learn) installed at boot. Not a Deep Learning AMI: those are GPU images
(NVIDIA drivers, CUDA, 100 GB-class root volumes, a Python and a PyTorch we do not choose)
for a CPU-only trainer whose requirements the ml layer pins itself. Graviton spot capacity
is the cheapest CPU per hour, and on linux/aarch64 PyPI's PyTorch wheel is the CPU build,
so no CUDA libraries are downloaded. The price is a minute or two of installing per boot,
which a weekly run can afford.

Networking: private isolated subnets (no internet gateway, no NAT, no public IP possible),
S3 and DynamoDB gateway endpoints (free), and interface endpoints for what the instance
calls beyond those: CloudWatch Logs, CloudWatch metrics, Auto Scaling (scale to zero) and
CodeArtifact (api + repositories), a PyPI mirror in the account that fetches public
packages for the instance (Amazon Linux's own package repositories are in S3, reached
through the gateway endpoint). No Session Manager: the logs are the way in, and three more
endpoints would cost more than the trainer. Interface endpoints bill per hour and per
subnet, so they sit in one subnet; instances in the other availability zones reach them
across the VPC (pennies of traffic), and spot still picks from every zone.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_codeartifact as codeartifact
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from glue_scripts import lake_schema
from ml import metrics_names
from stacks import python_package
from stacks.config import REPO_ROOT, ConfigError, EnvConfig
from stacks.encryption import customer_key
from stacks.nag import acknowledge, acknowledge_wildcards, skip_checkov
from stacks.storage_stack import removal_policy
from stacks.training_schedule import backstop_cron, to_unix_cron

PLACEHOLDER = re.compile(r"@@([A-Z_]+)@@")
USER_DATA_TEMPLATE = Path(__file__).with_name("training_user_data.sh")
PACKAGE_BUILD_DIR = REPO_ROOT / ".build" / "training-package"
VPC_CIDR = "10.64.0.0/16"
ROOT_DEVICE = "/dev/xvda"  # Amazon Linux 2023's root device name
# Objects the trainer reads from the lake: the curated tables and the deletions to honour.
LAKE_READ_PREFIXES = (lake_schema.CURATED_PREFIX, lake_schema.TOMBSTONES_PREFIX)
# The insights items are the user's partition (PK=USER#{sub}, SK=INSIGHTS#latest).
TABLE_LEADING_KEYS = "USER#*"
PYPI_REPOSITORY = "pypi"
INTERFACE_ENDPOINTS = {
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "Monitoring": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
    "AutoScaling": ec2.InterfaceVpcEndpointAwsService.AUTOSCALING,
    "CodeArtifactApi": ec2.InterfaceVpcEndpointAwsService.CODEARTIFACT_API,
    "CodeArtifactRepositories": ec2.InterfaceVpcEndpointAwsService.CODEARTIFACT_REPOSITORIES,
}


# ---- the trainer's package ----------------------------------------------------------------
def trainer_sources(root: Path = REPO_ROOT) -> list[Path]:
    """``ml/`` (code, requirements and data files; no tests or notebooks) and the shared
    modules it imports, at their repository paths so imports read as in tests."""
    files = [
        *python_package.package_files(root / "ml", suffixes=None),
        root / "lambda_src" / "__init__.py",
        *python_package.package_files(root / "lambda_src" / "common"),
        root / "glue_scripts" / "__init__.py",
        root / "glue_scripts" / "lake_schema.py",
        root / "receiptlake" / "__init__.py",
        root / "receiptlake" / "lake.py",
    ]
    # The numpy inference the trainer scores its exports with (and the keyword rules it
    # falls back to), and the insights item's writer and schema the API reads.
    files += [
        root / "lambda_src" / "ingest" / name
        for name in ("__init__.py", "categorize.py", "model_categorizer.py")
    ]
    files += [
        root / "lambda_src" / "api" / name
        for name in ("__init__.py", "insights.py", "observability.py", "schemas.py")
    ]
    return sorted(set(files))


def build_trainer_package(build_dir: Path = PACKAGE_BUILD_DIR) -> Path:
    return python_package.build_package(trainer_sources(), build_dir)


# ---- user data ------------------------------------------------------------------------------
def render_user_data(values: Mapping[str, str], template: Path = USER_DATA_TEMPLATE) -> str:
    """The user-data script with every ``@@NAME@@`` replaced by its shell-quoted value
    (CDK tokens survive quoting: they resolve inside the quotes at deploy time)."""
    text = template.read_text()
    for name, value in values.items():
        placeholder = f"@@{name}@@"
        if placeholder not in text:
            raise ValueError(f"{template.name} has no {placeholder}")
        text = text.replace(placeholder, shlex.quote(str(value)))
    if missing := sorted(set(PLACEHOLDER.findall(text))):
        raise ValueError(f"{template.name}: no value for {', '.join(missing)}")
    return text


def instance_architecture(instance_types: tuple[str, ...], ami_parameter: str) -> ec2.InstanceArchitecture:
    """The one architecture of the spot types, which the image must match."""
    architectures = {ec2.InstanceType(t).architecture for t in instance_types}
    if len(architectures) != 1:
        raise ConfigError(f"spot_instance_types mix architectures: {', '.join(instance_types)}")
    (architecture,) = architectures
    wrong = "x86_64" if architecture == ec2.InstanceArchitecture.ARM_64 else "arm64"
    if wrong in ami_parameter:
        raise ConfigError(
            f"training_ami_parameter {ami_parameter} names a {wrong} image for "
            f"{architecture.value} instances ({', '.join(instance_types)})"
        )
    return architecture


# ---- the stack ------------------------------------------------------------------------------
class TrainingStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvConfig,
        table: dynamodb.ITable,
        key: kms.IKey,
        lake_bucket: s3.IBucket,
        models_bucket: s3.IBucket,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        self.config = config
        self.group_name = f"receiptlake-{config.name}-training"
        instance_architecture(config.spot_instance_types, config.training_ami_parameter)
        self.start_cron = to_unix_cron(config.training_schedule)
        self.backstop_cron = backstop_cron(config.training_schedule, config.training_max_runtime_hours)

        # The training logs and the VPC flow logs: CloudWatch Logs must be in the key policy,
        # which the storage key (created before this layer) does not name.
        self.training_key = customer_key(
            self,
            "TrainingKey",
            config=config,
            name="training",
            description="Encrypts the training instances' logs and the training VPC's flow logs",
            logs=True,
        )
        self.log_group = self._log_group("TrainingLogs", f"/receiptlake/{config.name}/training")
        self.vpc, self.security_group = self._network()
        self.domain, self.repository = self._package_mirror()

        self.package_dir = build_trainer_package()
        self.package = s3_assets.Asset(self, "TrainerPackage", path=str(self.package_dir))
        self.role = iam.Role(
            self,
            "InstanceRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description="Training instances: read the lake, write models and insights, scale to zero",
        )
        self.user_data = render_user_data(
            {
                "ENVIRONMENT": config.name,
                "REGION": self.region,
                "LAKE_BUCKET": lake_bucket.bucket_name,
                "MODELS_BUCKET": models_bucket.bucket_name,
                "TABLE": table.table_name,
                "ASSET_URL": self.package.s3_object_url,
                "GROUP_NAME": self.group_name,
                "LOG_GROUP": self.log_group.log_group_name,
                "CODEARTIFACT_DOMAIN": self.domain.attr_name,
                "CODEARTIFACT_OWNER": self.domain.attr_owner,
                "CODEARTIFACT_REPOSITORY": self.repository.attr_name,
                "METRICS_NAMESPACE": metrics_names.NAMESPACE,
                "METRICS_DIMENSION": metrics_names.DIMENSION_ENVIRONMENT,
                "RUN_SUCCEEDED_METRIC": metrics_names.RUN_SUCCEEDED,
                "MAX_RUNTIME_SECONDS": str(config.training_max_runtime_hours * 3600),
            }
        )
        self.launch_template = self._launch_template()
        self.group = self._group()
        self._grant(table=table, key=key, lake_bucket=lake_bucket, models_bucket=models_bucket)
        self._acknowledge()

    # ---- logs -------------------------------------------------------------------------------
    def _log_group(self, id_: str, name: str) -> logs.LogGroup:
        group = logs.LogGroup(
            self,
            id_,
            log_group_name=name,
            encryption_key=self.training_key,
            removal_policy=removal_policy(self.config),
        )
        cfn = group.node.default_child
        assert isinstance(cfn, logs.CfnLogGroup)
        cfn.retention_in_days = self.config.log_retention_days
        return group

    # ---- network ----------------------------------------------------------------------------
    def _network(self) -> tuple[ec2.Vpc, ec2.SecurityGroup]:
        flow_logs = self._log_group("FlowLogs", f"/receiptlake/{self.config.name}/training-vpc-flow")
        vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(VPC_CIDR),
            max_azs=3,  # more zones, more spot pools to choose from
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="training", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=22
                )
            ],
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
                "DynamoDB": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.DYNAMODB),
            },
            flow_logs={
                "FlowLog": ec2.FlowLogOptions(
                    destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
                    traffic_type=ec2.FlowLogTrafficType.ALL,
                )
            },
        )
        instances = ec2.SecurityGroup(
            self,
            "InstanceSecurityGroup",
            vpc=vpc,
            description="Training instances: no ingress; HTTPS out, which only reaches the VPC endpoints",
            allow_all_outbound=False,
        )
        # The subnets route nowhere but the VPC and the gateway endpoints (whose addresses
        # are AWS-managed prefix lists), so "anywhere on 443" is exactly the endpoints.
        instances.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "AWS APIs through the VPC endpoints"
        )
        endpoints = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=vpc,
            description="Interface endpoints of the training VPC: HTTPS from the training instances only",
            allow_all_outbound=False,
        )
        endpoints.add_ingress_rule(instances, ec2.Port.tcp(443), "HTTPS from the training instances")
        for name, service in INTERFACE_ENDPOINTS.items():
            vpc.add_interface_endpoint(
                name,
                service=service,
                private_dns_enabled=True,
                open=False,
                security_groups=[endpoints],
                subnets=ec2.SubnetSelection(subnets=vpc.isolated_subnets[:1]),
            )
        return vpc, instances

    # ---- the PyPI mirror --------------------------------------------------------------------
    def _package_mirror(self) -> tuple[codeartifact.CfnDomain, codeartifact.CfnRepository]:
        domain = codeartifact.CfnDomain(self, "PackageDomain", domain_name=f"receiptlake-{self.config.name}")
        repository = codeartifact.CfnRepository(
            self,
            "PypiMirror",
            domain_name=domain.attr_name,
            repository_name=PYPI_REPOSITORY,
            description="Public PyPI, fetched on demand and kept, for the training instances",
            external_connections=["public:pypi"],
        )
        for resource in (domain, repository):
            resource.apply_removal_policy(removal_policy(self.config))
        skip_checkov(
            domain,
            "CKV_AWS_221",
            "The domain only mirrors public PyPI packages; a customer key would protect nothing "
            "confidential, and CodeArtifact's AWS-managed key encrypts them at rest.",
        )
        return domain, repository

    # ---- instances --------------------------------------------------------------------------
    def _launch_template(self) -> ec2.LaunchTemplate:
        return ec2.LaunchTemplate(
            self,
            "LaunchTemplate",
            launch_template_name=self.group_name,
            machine_image=ec2.MachineImage.resolve_ssm_parameter_at_launch(
                self.config.training_ami_parameter, os=ec2.OperatingSystemType.LINUX
            ),
            role=self.role,
            security_group=self.security_group,
            user_data=ec2.UserData.custom(self.user_data),
            # IMDSv2 only. Hop limit 1: nothing on the host runs in a container, so no
            # process one network hop away needs the instance's credentials.
            require_imdsv2=True,
            http_tokens=ec2.LaunchTemplateHttpTokens.REQUIRED,
            http_put_response_hop_limit=1,
            http_endpoint=True,
            instance_metadata_tags=False,
            associate_public_ip_address=False,
            detailed_monitoring=False,
            ebs_optimized=True,
            block_devices=[
                ec2.BlockDevice(
                    device_name=ROOT_DEVICE,
                    # EBS's default key (aws/ebs): a customer key would need its policy to
                    # name the Auto Scaling service-linked role, which may not exist yet when
                    # the key is created; the volume is scratch space, deleted with the instance.
                    volume=ec2.BlockDeviceVolume.ebs(
                        self.config.training_volume_gb,
                        encrypted=True,
                        delete_on_termination=True,
                        volume_type=ec2.EbsDeviceVolumeType.GP3,
                    ),
                )
            ],
        )

    def _group(self) -> autoscaling.AutoScalingGroup:
        group = autoscaling.AutoScalingGroup(
            self,
            "Group",
            auto_scaling_group_name=self.group_name,
            vpc=self.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            # No desired capacity in the template: the group starts at min (0), and a deploy
            # during a run does not reset it (which would stop the run).
            min_capacity=0,
            max_capacity=self.config.training_max_instances,
            mixed_instances_policy=autoscaling.MixedInstancesPolicy(
                launch_template=self.launch_template,
                launch_template_overrides=[
                    autoscaling.LaunchTemplateOverrides(instance_type=ec2.InstanceType(t))
                    for t in self.config.spot_instance_types
                ],
                instances_distribution=autoscaling.InstancesDistribution(
                    on_demand_base_capacity=0,
                    on_demand_percentage_above_base_capacity=0,
                    spot_allocation_strategy=autoscaling.SpotAllocationStrategy.PRICE_CAPACITY_OPTIMIZED,
                ),
            ),
            # Off: a rebalance recommendation would start a second instance, and a second
            # trainer, while the first still runs on the same checkpoints. The two-minute
            # interruption notice is enough to checkpoint; the group replaces the instance then.
            capacity_rebalance=False,
            # The monitoring stack tells a run in progress from a missing one by these.
            group_metrics=[
                autoscaling.GroupMetrics(
                    autoscaling.GroupMetric.DESIRED_CAPACITY, autoscaling.GroupMetric.IN_SERVICE_INSTANCES
                )
            ],
        )
        group.scale_on_schedule(
            "ScheduledRun",
            schedule=autoscaling.Schedule.expression(self.start_cron),
            desired_capacity=1,
        )
        group.scale_on_schedule(
            "Backstop",
            schedule=autoscaling.Schedule.expression(self.backstop_cron),
            min_capacity=0,
            desired_capacity=0,
        )
        return group

    # ---- IAM ----------------------------------------------------------------------------------
    def _grant(
        self, *, table: dynamodb.ITable, key: kms.IKey, lake_bucket: s3.IBucket, models_bucket: s3.IBucket
    ) -> None:
        """Exactly what the trainer and its user data do, on exactly what they do it to."""
        statements = [
            iam.PolicyStatement(
                sid="ReadTrainerPackage",
                actions=["s3:GetObject"],
                resources=[self.package.bucket.arn_for_objects(self.package.s3_object_key)],
            ),
            iam.PolicyStatement(
                sid="ReadLake",
                actions=["s3:GetObject"],
                resources=[lake_bucket.arn_for_objects(f"{p}*") for p in LAKE_READ_PREFIXES],
            ),
            iam.PolicyStatement(
                sid="ListLake",
                actions=["s3:ListBucket"],
                resources=[lake_bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{p}*" for p in LAKE_READ_PREFIXES]}},
            ),
            iam.PolicyStatement(
                sid="ReadWriteModels",
                # Versions, latest.json and checkpoints (deleted once a run has finished).
                actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                resources=[models_bucket.arn_for_objects("*")],
            ),
            iam.PolicyStatement(
                sid="ListModels", actions=["s3:ListBucket"], resources=[models_bucket.bucket_arn]
            ),
            iam.PolicyStatement(
                sid="UseDataKey",
                # The storage key encrypts the lake, the models bucket and the table.
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[key.key_arn],
            ),
            iam.PolicyStatement(
                sid="WriteInsights",
                # Per-user insights items for every user, so no single leading key; limited
                # to users' partitions (not the idempotency records), to the table (not its
                # indexes), and to reads and puts: no updates, no deletes, no scans.
                actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:BatchWriteItem"],
                resources=[table.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [TABLE_LEADING_KEYS]}},
            ),
            iam.PolicyStatement(
                sid="PublishMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],  # PutMetricData has no resource; the namespace condition scopes it
                conditions={"StringEquals": {"cloudwatch:namespace": metrics_names.NAMESPACE}},
            ),
            iam.PolicyStatement(
                sid="WriteLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[self.log_group.log_group_arn],  # "…:log-group:NAME:*", its streams
            ),
            iam.PolicyStatement(
                sid="ScaleThisGroupToZero",
                actions=["autoscaling:SetDesiredCapacity"],
                resources=[
                    self.format_arn(
                        service="autoscaling",
                        resource="autoScalingGroup",
                        resource_name=f"*:autoScalingGroupName/{self.group_name}",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
                conditions={
                    "StringEquals": {
                        "autoscaling:ResourceTag/environment": self.config.name,
                        "autoscaling:ResourceTag/layer": "training",
                    }
                },
            ),
            iam.PolicyStatement(
                sid="LogInToPackageMirror",
                actions=["codeartifact:GetAuthorizationToken"],
                resources=[self.domain.attr_arn],
            ),
            iam.PolicyStatement(
                sid="PackageMirrorBearerToken",
                actions=["sts:GetServiceBearerToken"],
                resources=["*"],  # no resource ARN; the condition limits it to CodeArtifact
                conditions={"StringEquals": {"sts:AWSServiceName": "codeartifact.amazonaws.com"}},
            ),
            iam.PolicyStatement(
                sid="ReadPackageMirror",
                actions=["codeartifact:GetRepositoryEndpoint", "codeartifact:ReadFromRepository"],
                resources=[self.repository.attr_arn],
            ),
        ]
        for statement in statements:
            self.role.add_to_policy(statement)

    # ---- cdk-nag ------------------------------------------------------------------------------
    def _acknowledge(self) -> None:
        policy = self.role.node.try_find_child("DefaultPolicy")
        assert isinstance(policy, iam.Policy)
        for generated in (policy, self.vpc.node.find_child("FlowLog")):
            acknowledge(
                generated,
                ["NIST.800.53.R5-IAMNoInlinePolicy", "PCI.DSS.321-IAMNoInlinePolicy"],
                "CDK writes a role's statements as its DefaultPolicy; the statements are this "
                "stack's least-privilege grants and change with the code, not shared between roles.",
            )
        acknowledge(
            self.group,
            ["NIST.800.53.R5-EC2IMDSv2Enabled", "AwsSolutions-EC26"],
            "The group launches from its mixed instances policy's launch template, which requires "
            "IMDSv2 tokens and encrypts the root volume (tests/infra/test_training_stack.py asserts "
            "both); these rules look only for a launch template at the group's top level (EC26 "
            "fails with an error on a mixed instances policy).",
        )
        acknowledge(
            self.group,
            ["AwsSolutions-AS3"],
            "Launches and terminations are the schedule's expected events, twice a run; what "
            "matters is whether a run succeeded, which the training-run-failed and training-stale "
            "alarms tell (including runs that never launched).",
        )
        # CDK's deploy-time handler that removes the default security group's rules.
        provider = self.node.find_child("Custom::VpcRestrictDefaultSGCustomResourceProvider")
        for check in ("CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117"):
            skip_checkov(
                provider.node.find_child("Handler"),
                check,
                "CDK's deploy-time handler that strips the VPC's default security group of its "
                "rules, run only by CloudFormation during deploys; aws-cdk-lib owns its settings.",
            )
        acknowledge_wildcards(
            policy,
            lambda finding: (
                finding == "Resource::*"
                or any(
                    fnmatchcase(finding, pattern)
                    for pattern in (
                        *(f"Resource::*Lake*/{p}*" for p in LAKE_READ_PREFIXES),
                        "Resource::*Models*Arn*/*",
                        f"Resource::*:autoScalingGroup:*:autoScalingGroupName/{self.group_name}",
                    )
                )
            ),
            "Objects under the lake's curated/ and tombstones/ prefixes (read only); every object "
            "of the models bucket, which holds nothing but the trainer's output; this group, whose "
            "ARN carries a UUID unknown until it exists (and the tag condition pins it); the "
            "streams of the training log group; and, on '*', only PutMetricData conditioned on the "
            "training namespace and the CodeArtifact bearer token, neither of which has a resource.",
        )
