"""The hosting layer (S3 + CloudFront with OAC, /api/* to the HTTP API) and the us-east-1
edge stack holding its web ACL; nag-clean in every environment."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from stacks.hosting_stack import SPA_REWRITE_JS
from tests.infra.conftest import SynthResult

pytestmark = pytest.mark.infra

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def _distribution_config(template: Template) -> dict[str, Any]:
    distributions = template.find_resources("AWS::CloudFront::Distribution")
    assert len(distributions) == 1
    config: dict[str, Any] = next(iter(distributions.values()))["Properties"]["DistributionConfig"]
    return config


def _flatten(value: Any) -> str:
    """A template value as text; values read from another stack become <stack:output>."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        delimiter, parts = value["Fn::Join"]
        return str(delimiter).join(_flatten(p) for p in parts)
    if "Fn::GetStackOutput" in value:
        ref = value["Fn::GetStackOutput"]
        return f"<{ref['StackName']}:{ref['OutputName']}>"
    return json.dumps(value)


def _csp(template: Template) -> dict[str, list[str]]:
    policies = template.find_resources("AWS::CloudFront::ResponseHeadersPolicy")
    assert len(policies) == 1
    config = next(iter(policies.values()))["Properties"]["ResponseHeadersPolicyConfig"]
    text = _flatten(config["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    directives: dict[str, list[str]] = {}
    for directive in text.split(";"):
        name, *sources = directive.split()
        directives[name] = sources
    return directives


# ---- bucket and OAC -----------------------------------------------------------------
def test_site_bucket_is_private_versioned_tls_only_and_logged(synth: SynthResult) -> None:
    template = synth.template("prod", "hosting")
    template.resource_count_is("AWS::S3::Bucket", 1)
    template.has_resource(
        "AWS::S3::Bucket",
        {
            "Properties": {
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "VersioningConfiguration": {"Status": "Enabled"},
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "LoggingConfiguration": {
                    "DestinationBucketName": Match.any_value(),
                    "LogFilePrefix": "site/",
                },
                # SSE-S3 on purpose: public web app files (see HOSTING.md).
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                    ]
                },
            },
            "DeletionPolicy": "Retain",
        },
    )
    statements = next(iter(template.find_resources("AWS::S3::BucketPolicy").values()))["Properties"][
        "PolicyDocument"
    ]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"].get("Bool", {}).get("aws:SecureTransport") == "false"
        for s in statements
    )


def test_site_bucket_is_destroyable_in_dev_only(synth: SynthResult) -> None:
    dev = synth.template("dev", "hosting").find_resources("AWS::S3::Bucket")
    assert {b["DeletionPolicy"] for b in dev.values()} == {"Delete"}


def test_origin_access_control_signs_every_request_to_s3(synth: SynthResult) -> None:
    template = synth.template("prod", "hosting")
    template.has_resource_properties(
        "AWS::CloudFront::OriginAccessControl",
        {
            "OriginAccessControlConfig": {
                "OriginAccessControlOriginType": "s3",
                "SigningBehavior": "always",
                "SigningProtocol": "sigv4",
            }
        },
    )
    origins = _distribution_config(template)["Origins"]
    s3_origins = [o for o in origins if "S3OriginConfig" in o]
    assert len(s3_origins) == 1
    assert s3_origins[0]["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # OAC, not OAI
    (oac_id,) = template.find_resources("AWS::CloudFront::OriginAccessControl")
    assert s3_origins[0]["OriginAccessControlId"] == {"Fn::GetAtt": [oac_id, "Id"]}


def test_bucket_policy_allows_only_this_distribution(synth: SynthResult) -> None:
    template = synth.template("prod", "hosting")
    statements = next(iter(template.find_resources("AWS::S3::BucketPolicy").values()))["Properties"][
        "PolicyDocument"
    ]["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert len(allows) == 1
    (allow,) = allows
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    source_arn = _flatten(allow["Condition"]["StringEquals"]["AWS:SourceArn"])
    distribution_id = next(iter(template.find_resources("AWS::CloudFront::Distribution")))
    assert source_arn.endswith(f":distribution/{json.dumps({'Ref': distribution_id})}")
    assert ":cloudfront::" in source_arn


# ---- behaviors ----------------------------------------------------------------------
def test_api_behavior_forwards_everything_uncached_over_https(synth: SynthResult) -> None:
    config = _distribution_config(synth.template("prod", "hosting"))
    (api,) = [b for b in config["CacheBehaviors"] if b["PathPattern"] == "/api/*"]
    assert api["CachePolicyId"] == CACHING_DISABLED
    assert api["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert set(api["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
    assert api["ViewerProtocolPolicy"] == "https-only"
    assert "FunctionAssociations" not in api  # the SPA rewrite never touches the API
    (origin,) = [o for o in config["Origins"] if o["Id"] == api["TargetOriginId"]]
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert origin["CustomOriginConfig"]["OriginSSLProtocols"] == ["TLSv1.2"]
    domain = _flatten(origin["DomainName"])
    assert domain.startswith("<receiptlake-prod-api:")
    assert ".execute-api.eu-west-1." in domain


def test_spa_routing_is_a_viewer_request_function_not_error_mapping(synth: SynthResult) -> None:
    template = synth.template("prod", "hosting")
    config = _distribution_config(template)
    assert "CustomErrorResponses" not in config  # API 403/404 must reach the app as they are
    (association,) = config["DefaultCacheBehavior"]["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    function_id = association["FunctionARN"]["Fn::GetAtt"][0]
    function = template.find_resources("AWS::CloudFront::Function")[function_id]["Properties"]
    assert function["FunctionCode"] == SPA_REWRITE_JS
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert function["AutoPublish"] is True


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the CloudFront function")
def test_spa_rewrite_function_rewrites_app_routes_only() -> None:
    cases = {
        "/": "/index.html",
        "/receipts": "/index.html",
        "/receipts/r-123": "/index.html",
        "/index.html": "/index.html",
        "/assets/index-qk9xQt3i.js": "/assets/index-qk9xQt3i.js",
        "/favicon.svg": "/favicon.svg",
        "/config.json": "/config.json",
        "/api": "/api",
        "/api/receipts/r-123": "/api/receipts/r-123",
    }
    script = (
        SPA_REWRITE_JS
        + f"\nconst uris = {json.dumps(list(cases))};"
        + "\nconsole.log(JSON.stringify(uris.map((uri) => handler({ request: { uri } }).uri)));"
    )
    out = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True, timeout=30)
    assert json.loads(out.stdout) == list(cases.values())


def test_default_behavior_serves_the_site_with_its_own_cache_headers(synth: SynthResult) -> None:
    template = synth.template("prod", "hosting")
    default = _distribution_config(template)["DefaultCacheBehavior"]
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    assert default["AllowedMethods"] == ["GET", "HEAD"]
    assert default["Compress"] is True
    template.has_resource_properties(
        "AWS::CloudFront::CachePolicy",
        {
            "CachePolicyConfig": Match.object_like(
                {
                    "MinTTL": 0,  # no-store on index.html and config.json really means not cached
                    "ParametersInCacheKeyAndForwardedToOrigin": Match.object_like(
                        {"EnableAcceptEncodingGzip": True, "EnableAcceptEncodingBrotli": True}
                    ),
                }
            )
        },
    )


# ---- headers ------------------------------------------------------------------------
def test_content_security_policy_is_strict(synth: SynthResult) -> None:
    csp = _csp(synth.template("prod", "hosting"))
    uploads = csp["connect-src"][-1]
    assert uploads.startswith("https://<receiptlake-prod-ingest:")  # the uploads bucket, and only it
    assert "Uploads" in uploads and "RegionalDomainName" in uploads
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["connect-src"] == ["'self'", "https://cognito-idp.eu-west-1.amazonaws.com", uploads]
    assert csp["img-src"] == ["'self'", "data:", "blob:", uploads]
    assert csp["object-src"] == [uploads]  # receipt PDFs shown with <object>, from that bucket only
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]
    assert "upgrade-insecure-requests" in csp
    for sources in csp.values():
        assert "'unsafe-inline'" not in sources
        assert "'unsafe-eval'" not in sources
        assert "*" not in sources


def test_security_headers(synth: SynthResult) -> None:
    template = synth.template("prod", "hosting")
    template.has_resource_properties(
        "AWS::CloudFront::ResponseHeadersPolicy",
        {
            "ResponseHeadersPolicyConfig": Match.object_like(
                {
                    "SecurityHeadersConfig": Match.object_like(
                        {
                            "StrictTransportSecurity": {
                                "AccessControlMaxAgeSec": 63072000,  # two years
                                "IncludeSubdomains": True,
                                "Preload": True,
                                "Override": True,
                            },
                            "ContentTypeOptions": {"Override": True},
                            "FrameOptions": {"FrameOption": "DENY", "Override": True},
                            "ReferrerPolicy": {
                                "ReferrerPolicy": "strict-origin-when-cross-origin",
                                "Override": True,
                            },
                        }
                    )
                }
            )
        },
    )
    config = _distribution_config(template)
    policy_id = config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"]
    assert all(b["ResponseHeadersPolicyId"] == policy_id for b in config["CacheBehaviors"])


# ---- distribution -------------------------------------------------------------------
def test_distribution_protocols_logging_and_price_class(synth: SynthResult) -> None:
    config = _distribution_config(synth.template("prod", "hosting"))
    assert config["HttpVersion"] == "http2and3"
    assert config["IPV6Enabled"] is True
    assert config["PriceClass"] == "PriceClass_100"
    assert config["DefaultRootObject"] == "index.html"
    assert config["Logging"]["Prefix"] == "cloudfront/"
    # Standard logging needs ACLs: the storage stack's access-log bucket is BucketOwnerPreferred.
    assert "AccessLogs" in _flatten(config["Logging"]["Bucket"])
    storage = synth.template("prod", "storage")
    storage.has_resource_properties(
        "AWS::S3::Bucket",
        {"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}},
    )
    # With the default *.cloudfront.net certificate CloudFront fixes TLS itself (CFR4
    # acknowledged); test_custom_domain_enforces_tls_1_2 covers the certificate case.
    assert "ViewerCertificate" not in config


def test_waf_in_staging_and_prod_from_the_us_east_1_edge_stack(synth: SynthResult) -> None:
    for env in ("staging", "prod"):
        edge = synth.stack(env, "edge")
        assert edge.region == "us-east-1"
        assert edge.stack_name == f"receiptlake-{env}-edge"
        # Read across regions from the edge stack's outputs (the app's weak references).
        web_acl = _distribution_config(synth.template(env, "hosting"))["WebACLId"]["Fn::GetStackOutput"]
        assert (web_acl["StackName"], web_acl["Region"]) == (f"receiptlake-{env}-edge", "us-east-1")
        outputs = synth.template(env, "edge").find_outputs(web_acl["OutputName"])
        (output,) = outputs.values()
        (acl_id,) = synth.template(env, "edge").find_resources("AWS::WAFv2::WebACL")
        assert output["Value"] == {"Fn::GetAtt": [acl_id, "Arn"]}


def test_no_waf_in_dev(synth: SynthResult) -> None:
    assert synth.stages["dev"].edge is None
    assert "WebACLId" not in _distribution_config(synth.template("dev", "hosting"))


def test_web_acl_rules(synth: SynthResult) -> None:
    template = synth.template("prod", "edge")
    acls = template.find_resources("AWS::WAFv2::WebACL")
    assert len(acls) == 1
    acl = next(iter(acls.values()))["Properties"]
    assert acl["Scope"] == "CLOUDFRONT"
    assert acl["DefaultAction"] == {"Allow": {}}
    rules = {r["Name"]: r for r in acl["Rules"]}
    for group in (
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
    ):
        statement = rules[group]["Statement"]["ManagedRuleGroupStatement"]
        assert statement["VendorName"] == "AWS"
        assert statement["Name"] == group
        assert rules[group]["OverrideAction"] == {"None": {}}
    rate = rules["ApiRatePerIp"]
    assert rate["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429
    statement = rate["Statement"]["RateBasedStatement"]
    assert statement["AggregateKeyType"] == "IP"
    assert statement["ScopeDownStatement"]["ByteMatchStatement"]["SearchString"] == "/api/"
    assert sorted(r["Priority"] for r in acl["Rules"]) == list(range(len(acl["Rules"])))


def test_web_acl_logs_to_an_encrypted_group_without_tokens(synth: SynthResult) -> None:
    template = synth.template("prod", "edge")
    template.has_resource_properties(
        "AWS::Logs::LogGroup",
        {
            "LogGroupName": "aws-waf-logs-receiptlake-prod",
            "KmsKeyId": Match.any_value(),
            "RetentionInDays": 365,
        },
    )
    template.has_resource_properties(
        "AWS::WAFv2::LoggingConfiguration",
        {"RedactedFields": [{"SingleHeader": {"Name": "authorization"}}]},
    )


# ---- content ------------------------------------------------------------------------
def _deployments(template: Template) -> dict[str, dict[str, Any]]:
    return {
        name.split("CustomResource")[0]: r["Properties"]
        for name, r in template.find_resources("Custom::CDKBucketDeployment").items()
    }


def test_site_deployments_and_their_cache_control(synth: SynthResult) -> None:
    deployments = _deployments(synth.template("prod", "hosting"))
    assert set(deployments) == {"DeployAssets", "DeployOtherFiles", "DeployEntryPoints"}
    assets, others, entry = (
        deployments["DeployAssets"],
        deployments["DeployOtherFiles"],
        deployments["DeployEntryPoints"],
    )
    assert (assets["Include"], assets["Prune"]) == (["assets/*"], False)
    assert assets["SystemMetadata"]["cache-control"] == "public, max-age=31536000, immutable"
    assert set(others["Exclude"]) == {"assets/*", "index.html", "config.json"}
    assert others["SystemMetadata"]["cache-control"] == "public, max-age=3600"
    assert (entry["Exclude"], entry["Include"]) == (["*"], ["index.html", "config.json"])
    assert entry["SystemMetadata"]["cache-control"] == "no-store"


def test_config_json_is_written_from_the_api_and_cognito_outputs(synth: SynthResult) -> None:
    stack = synth.stack("prod", "hosting")
    entry = _deployments(synth.template("prod", "hosting"))["DeployEntryPoints"]
    markers = {k: _flatten(v) for source in entry["SourceMarkers"] for k, v in source.items()}
    assert len(markers) == 2
    assert all(v.startswith('"<receiptlake-prod-api:') for v in markers.values())
    root = stack.node.root
    assert isinstance(root, cdk.App)
    assembly = Path(root.outdir)
    (config_file,) = [
        assembly / f"asset.{key.removesuffix('.zip')}" / "config.json"
        for key in entry["SourceObjectKeys"]
        if (assembly / f"asset.{key.removesuffix('.zip')}" / "config.json").exists()
    ]
    text = config_file.read_text()
    for marker, value in markers.items():
        text = text.replace(marker, json.dumps(value))
    config = json.loads(text)
    assert config["apiBase"] == "/api"
    assert config["region"] == "eu-west-1"
    assert config["environment"] == "prod"
    assert "Users" in config["userPoolId"]
    assert "WebApp" in config["userPoolClientId"]


def test_site_url_output(synth: SynthResult) -> None:
    outputs = synth.template("prod", "hosting").find_outputs("SiteUrl")
    assert _flatten(next(iter(outputs.values()))["Value"]).startswith("https://")


# ---- a custom domain and a fresh clone ---------------------------------------------
def test_custom_domain_enforces_tls_1_2_and_a_missing_build_deploys_a_placeholder(tmp_path: Path) -> None:
    from aws_cdk import aws_apigatewayv2 as apigwv2
    from aws_cdk import aws_certificatemanager as acm
    from aws_cdk import aws_cognito as cognito
    from aws_cdk import aws_s3 as s3
    from aws_cdk.assertions import Annotations

    from stacks.config import ENVIRONMENTS_KEY, load_config, read_cdk_json_context
    from stacks.hosting_stack import HostingStack

    context = read_cdk_json_context()
    config = load_config(context[ENVIRONMENTS_KEY], "staging", env={})
    app = cdk.App(context=context, outdir=str(tmp_path / "cdk.out"))
    env = cdk.Environment(account="123456789012", region="eu-west-1")
    deps = cdk.Stack(app, "deps", env=env)
    pool = cognito.UserPool(deps, "Pool")
    hosting = HostingStack(
        app,
        "hosting",
        env=env,
        config=config,
        http_api=apigwv2.HttpApi(deps, "Api"),
        user_pool=pool,
        user_pool_client=pool.add_client("Web"),
        access_logs_bucket=s3.Bucket(deps, "Logs"),
        uploads_bucket=s3.Bucket(deps, "Uploads"),
        web_acl_arn="arn:aws:wafv2:us-east-1:123456789012:global/webacl/web/abc",
        site_dir=tmp_path / "no-build",
        domain_names=["receipts.example.com"],
        certificate=acm.Certificate.from_certificate_arn(
            deps, "Cert", "arn:aws:acm:us-east-1:123456789012:certificate/abc"
        ),
    )
    config_out = _distribution_config(Template.from_stack(hosting))
    assert config_out["Aliases"] == ["receipts.example.com"]
    assert config_out["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert config_out["ViewerCertificate"]["SslSupportMethod"] == "sni-only"
    Annotations.from_stack(hosting).has_info("*", Match.string_like_regexp("placeholder"))
    assert hosting.site_url == "https://receipts.example.com"


def test_waf_enabled_without_a_web_acl_is_refused(tmp_path: Path) -> None:
    from aws_cdk import aws_apigatewayv2 as apigwv2
    from aws_cdk import aws_cognito as cognito
    from aws_cdk import aws_s3 as s3

    from stacks.config import ENVIRONMENTS_KEY, load_config, read_cdk_json_context
    from stacks.hosting_stack import HostingStack

    context = read_cdk_json_context()
    config = load_config(context[ENVIRONMENTS_KEY], "prod", env={})
    app = cdk.App(context=context, outdir=str(tmp_path / "cdk.out"))
    deps = cdk.Stack(app, "deps")
    pool = cognito.UserPool(deps, "Pool")
    with pytest.raises(ValueError, match="waf_enabled"):
        HostingStack(
            app,
            "hosting",
            config=config,
            http_api=apigwv2.HttpApi(deps, "Api"),
            user_pool=pool,
            user_pool_client=pool.add_client("Web"),
            access_logs_bucket=s3.Bucket(deps, "Logs"),
            uploads_bucket=s3.Bucket(deps, "Uploads"),
        )


# ---- nag ----------------------------------------------------------------------------
def test_hosting_stack_has_no_unacknowledged_nag_findings(synth: SynthResult) -> None:
    assert synth.findings("hosting") == []


def test_edge_stack_has_no_unacknowledged_nag_findings(synth: SynthResult) -> None:
    assert synth.findings("edge") == []
