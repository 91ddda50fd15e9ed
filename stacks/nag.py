"""cdk-nag 3: three rule packs as validation plugins, and narrow, reasoned acknowledgements."""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Acknowledgment, CfnResource, Stage, Validations
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks, PCIDSS321Checks
from constructs import IConstruct


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
