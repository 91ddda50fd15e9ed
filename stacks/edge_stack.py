"""Edge layer: the CloudFront web ACL, which AWS WAF only accepts in us-east-1.

The hosting stack lives in the environment's region; CloudFront is global, but a web ACL
with ``Scope: CLOUDFRONT`` must be created in us-east-1. This small stack is that
us-east-1 part of an environment. The hosting stack reads its ARN through a CDK
cross-region reference (``cross_region_references=True`` on the consumer).

WAF logs must also live in us-east-1 and in a log group whose name starts with
``aws-waf-logs-``; they go to a KMS-encrypted log group with the environment's
retention, with the ``Authorization`` header (Cognito tokens) redacted.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from stacks.config import EnvConfig
from stacks.encryption import customer_key
from stacks.storage_stack import removal_policy

EDGE_REGION = "us-east-1"
# Requests per IP in any 5-minute window to /api/ before WAF answers 429. The SPA makes a
# handful of calls per page and polls a processing receipt every few seconds; 1000 is
# about 3 requests a second sustained, well above a person and well below a script.
API_RATE_LIMIT_PER_5_MIN = 1000
# (priority, vendor rule group name, rules switched to COUNT with the reason)
MANAGED_RULE_GROUPS: tuple[tuple[int, str, dict[str, str]], ...] = (
    (0, "AWSManagedRulesAmazonIpReputationList", {}),
    (
        2,
        "AWSManagedRulesCommonRuleSet",
        # A receipt correction (PATCH with its line items) can exceed the rule's 8 KB body
        # limit; the API validates and bounds bodies itself.
        {"SizeRestrictions_BODY": "receipt corrections with many line items exceed 8 KB"},
    ),
    (3, "AWSManagedRulesKnownBadInputsRuleSet", {}),
)
RATE_RULE_PRIORITY = 1


def _visibility(metric: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )


class EdgeStack(Stack):
    def __init__(self, scope: Construct, id_: str, *, config: EnvConfig, **kwargs: Any) -> None:
        super().__init__(scope, id_, **kwargs)
        policy = removal_policy(config)
        prefix = f"receiptlake-{config.name}"

        rules: list[wafv2.CfnWebACL.RuleProperty] = [
            wafv2.CfnWebACL.RuleProperty(
                name=name,
                priority=priority,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS",
                        name=name,
                        rule_action_overrides=[
                            wafv2.CfnWebACL.RuleActionOverrideProperty(
                                name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
                            )
                            for rule in counted
                        ]
                        or None,
                    )
                ),
                visibility_config=_visibility(f"{prefix}-{name}"),
            )
            for priority, name, counted in MANAGED_RULE_GROUPS
        ]
        rules.append(
            wafv2.CfnWebACL.RuleProperty(
                name="ApiRatePerIp",
                priority=RATE_RULE_PRIORITY,
                action=wafv2.CfnWebACL.RuleActionProperty(
                    block=wafv2.CfnWebACL.BlockActionProperty(
                        custom_response=wafv2.CfnWebACL.CustomResponseProperty(response_code=429)
                    )
                ),
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        limit=API_RATE_LIMIT_PER_5_MIN,
                        aggregate_key_type="IP",
                        evaluation_window_sec=300,
                        scope_down_statement=wafv2.CfnWebACL.StatementProperty(
                            byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
                                field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
                                positional_constraint="STARTS_WITH",
                                search_string="/api/",
                                text_transformations=[
                                    wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")
                                ],
                            )
                        ),
                    )
                ),
                visibility_config=_visibility(f"{prefix}-api-rate"),
            )
        )
        rules.sort(key=lambda rule: int(rule.priority))
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=f"{prefix}-web",
            description=f"receiptlake {config.name}: web app and /api behind CloudFront",
            scope="CLOUDFRONT",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            rules=list(rules),
            visibility_config=_visibility(f"{prefix}-web"),
        )
        self.web_acl_arn: str = self.web_acl.attr_arn

        self.logs_key = customer_key(
            self,
            "WafLogsKey",
            config=config,
            name="waf-logs",
            description="Encrypts the CloudFront web ACL's logs",
            logs=True,
        )
        log_group_name = f"aws-waf-logs-{prefix}"  # WAF requires this prefix
        self.log_group = logs.LogGroup(
            self,
            "WafLogs",
            log_group_name=log_group_name,
            encryption_key=self.logs_key,
            removal_policy=policy,
        )
        cfn_log_group = self.log_group.node.default_child
        assert isinstance(cfn_log_group, logs.CfnLogGroup)
        cfn_log_group.retention_in_days = config.log_retention_days

        logging = wafv2.CfnLoggingConfiguration(
            self,
            "WafLogging",
            resource_arn=self.web_acl.attr_arn,
            # WAF wants the log group ARN without the trailing ":*".
            log_destination_configs=[
                self.format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name=log_group_name,
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
            redacted_fields=[
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": "authorization"})
            ],
        )
        logging.node.add_dependency(self.log_group)
