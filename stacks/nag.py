"""cdk-nag 3: three rule packs as validation plugins, and narrow, reasoned acknowledgements."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import jsii
from aws_cdk import Acknowledgment, CfnResource, Stack, Stage, Validations
from aws_cdk import aws_iam as iam
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks, PCIDSS321Checks
from constructs import IConstruct, IValidation


def add_nag_plugins(scope: Stage | IConstruct) -> None:
    """AwsSolutions, NIST 800-53 rev5 and PCI DSS 3.2.1 (receipts carry card data).
    Any unacknowledged finding makes synth fail."""
    Validations.of(scope).add_plugins(
        AwsSolutionsChecks(scope, verbose=True),
        NIST80053R5Checks(scope, verbose=True),
        PCIDSS321Checks(scope, verbose=True),
    )


def acknowledge(construct: IConstruct, rule_ids: Iterable[str], reason: str) -> None:
    """Acknowledge findings on one construct (and its children) with a reviewer's reason."""
    if len(reason) < 20:
        raise ValueError("an acknowledgement needs a reason a reviewer would accept")
    for rule_id in rule_ids:
        Validations.of(construct).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def skip_checkov(construct: IConstruct, check_id: str, reason: str) -> None:
    """Tell checkov (run over cdk.out) to skip one check on one resource, with the reason."""
    resource = construct.node.default_child if not isinstance(construct, CfnResource) else construct
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource to annotate")
    existing = resource.get_metadata("checkov") or {"skip": []}
    existing["skip"].append({"id": check_id, "comment": reason})
    resource.add_metadata("checkov", existing)


NO_VPC_REASON = (
    "The function reaches only AWS APIs (DynamoDB, S3, SQS, Textract) over TLS with IAM "
    "authorization; it has no network resources to protect, and a VPC would need NAT or "
    "interface endpoints per environment for no gain."
)


def flatten_cfn(node: Any) -> str:
    """cdk-nag's flattenCfnReference: a CloudFormation value as the string its findings use."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(flatten_cfn(i) for i in items)
        if "Fn::Sub" in node:
            return flatten_cfn(node["Fn::Sub"])
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{flatten_cfn(resource)}.{flatten_cfn(attribute)}>"
        if "Fn::ImportValue" in node:
            return flatten_cfn(node["Fn::ImportValue"])
        if "Ref" in node:
            return f"<{flatten_cfn(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_wildcards(policy: iam.Policy) -> Iterator[str]:
    """The granular AwsSolutions-IAM5 findings of a policy: ``Action::…`` and ``Resource::…``."""
    cfn = policy.node.default_child
    assert isinstance(cfn, iam.CfnPolicy)
    document = Stack.of(cfn).resolve(cfn.policy_document)
    for statement in document.get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        for action in _as_list(statement.get("Action", [])):
            if "*" in action:
                yield f"Action::{action}"
        for resource in _as_list(statement.get("Resource", [])):
            if "*" in (flat := flatten_cfn(resource)):
                yield f"Resource::{flat}"


@jsii.implements(IValidation)
class _WildcardAcknowledgement:
    def __init__(self, policy: iam.Policy, matches: Callable[[str], bool], reason: str) -> None:
        self.policy = policy
        self.matches = matches
        self.reason = reason

    def validate(self) -> list[str]:
        for finding in policy_wildcards(self.policy):
            if self.matches(finding):
                Validations.of(self.policy).acknowledge(
                    Acknowledgment(id=f"AwsSolutions-IAM5[{finding}]", reason=self.reason)
                )
        return []


def acknowledge_wildcards(policy: iam.Policy, matches: Callable[[str], bool], reason: str) -> None:
    """Acknowledge only the IAM5 wildcards of ``policy`` that ``matches`` accepts.

    Granular finding ids embed resources as CloudFormation renders them, including
    references to other stacks that exist only once synthesis has prepared the app; so this
    runs as a validation, before the nag plugins. Any other wildcard stays a finding.
    """
    policy.node.add_validation(_WildcardAcknowledgement(policy, matches, reason))


def matching_patterns(patterns: Iterable[str]) -> Callable[[str], bool]:
    """A matcher for ``acknowledge_wildcards``: exact findings, or ``…/*`` and ``…/*/…`` globs."""
    fixed = tuple(patterns)
    return lambda finding: any(
        finding == p or ((p.endswith("/*") or "/*/" in p) and fnmatch.fnmatchcase(finding, p)) for p in fixed
    )
