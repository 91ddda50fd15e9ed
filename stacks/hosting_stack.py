"""Hosting layer: the web app on S3 behind CloudFront (OAC), and ``/api/*`` to the HTTP API.

One origin for everything the browser loads: the built web app from a private bucket
(Origin Access Control), ``/api/*`` forwarded uncached to the API's HTTP API, and a
``config.json`` written at deploy time from the API and Cognito outputs. Deep links are
rewritten to ``/index.html`` by a CloudFront Function on the default behavior only, so an
API 403/404 reaches the app as it is. Every response carries a strict CSP, HSTS and the
other security headers; in environments with ``waf_enabled`` the distribution sits behind
the us-east-1 web ACL of the edge stack.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aws_cdk import Annotations, CfnOutput, Duration, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from stacks.config import REPO_ROOT, EnvConfig
from stacks.nag import acknowledge, acknowledge_wildcards, skip_checkov
from stacks.storage_stack import removal_policy

WEBAPP_DIST = REPO_ROOT / "webapp" / "dist"
CONFIG_FILE = "config.json"
INDEX_FILE = "index.html"
HASHED_ASSETS = "assets/*"  # Vite's content-hashed output: never changes under one name
# The entry points must never be cached: a deploy takes effect on the next page load.
NO_STORE = [s3deploy.CacheControl.no_store()]
IMMUTABLE = [
    s3deploy.CacheControl.set_public(),
    s3deploy.CacheControl.max_age(Duration.days(365)),
    s3deploy.CacheControl.immutable(),
]
OTHER_FILES = [s3deploy.CacheControl.set_public(), s3deploy.CacheControl.max_age(Duration.hours(1))]
# What CDK's BucketDeployment grants with wildcard actions (acknowledged, see _acknowledge_deployment).
DEPLOYMENT_WILDCARD_ACTIONS = ("s3:Abort*", "s3:DeleteObject*", "s3:GetBucket*", "s3:GetObject*", "s3:List*")
HSTS_MAX_AGE = Duration.days(730)
# API Gateway's integration limit is 30 s; CloudFront waits exactly that long (stated, not defaulted).
API_ORIGIN_READ_TIMEOUT = Duration.seconds(30)
PLACEHOLDER_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>receiptlake</title></head>
<body><h1>receiptlake</h1>
<p>The web app was not built when this environment was deployed.
Run <code>make webapp</code>, then deploy again.</p></body></html>
"""

# Viewer request on the default behavior: a path whose last segment has no file extension
# is an app route, served by index.html. /api is excluded although it has its own
# behavior, so a mistake in the behavior order can never turn API errors into the app.
SPA_REWRITE_JS = """\
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri === '/api' || uri.indexOf('/api/') === 0) {
    return request;
  }
  var last = uri.substring(uri.lastIndexOf('/') + 1);
  if (last.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}
"""


def content_security_policy(*, region: str, uploads_origin: str) -> str:
    """The CSP of every response.

    ``uploads_origin`` is the uploads bucket's regional endpoint, the one host outside our
    origin the browser talks to for data: it POSTs uploads there (presigned POST, so
    connect-src) and shows receipt images (img-src) and PDFs (object-src, the web app's
    ``<object type="application/pdf">``) from presigned GET URLs. Naming that one bucket
    rather than ``https://*.s3.{region}.amazonaws.com`` means injected script cannot send
    data to any other bucket. Amplify signs in against the Cognito user-pool endpoint.
    """
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:", uploads_origin],
        "connect-src": ["'self'", f"https://cognito-idp.{region}.amazonaws.com", uploads_origin],
        "object-src": [uploads_origin],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items()) + (
        "; upgrade-insecure-requests"
    )


def site_sources(site_dir: Path) -> tuple[s3deploy.ISource, bool]:
    """The built web app, or (on a fresh clone without ``make webapp``) a placeholder page
    that says so. Returns the source and whether it is the real build."""
    if (site_dir / INDEX_FILE).is_file():
        return s3deploy.Source.asset(str(site_dir)), True
    return s3deploy.Source.data(INDEX_FILE, PLACEHOLDER_HTML), False


class HostingStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: EnvConfig,
        http_api: apigwv2.IHttpApi,
        user_pool: cognito.IUserPool,
        user_pool_client: cognito.IUserPoolClient,
        access_logs_bucket: s3.IBucket,
        uploads_bucket: s3.IBucket,
        web_acl_arn: str | None = None,
        site_dir: Path = WEBAPP_DIST,
        domain_names: Sequence[str] | None = None,
        certificate: acm.ICertificate | None = None,
        price_class: cloudfront.PriceClass = cloudfront.PriceClass.PRICE_CLASS_100,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        if config.waf_enabled and web_acl_arn is None:
            raise ValueError(f"{config.name} has waf_enabled: pass the edge stack's web_acl_arn")
        if bool(domain_names) != bool(certificate):
            raise ValueError("a custom domain needs its us-east-1 ACM certificate, and the other way round")
        self.config = config

        self.site_bucket = self._site_bucket(config, access_logs_bucket)
        self.response_headers_policy = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment=f"receiptlake {config.name}: CSP, HSTS and the other security headers",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(
                        region=Stack.of(user_pool).region,
                        uploads_origin=f"https://{uploads_bucket.bucket_regional_domain_name}",
                    ),
                    override=True,
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=HSTS_MAX_AGE, include_subdomains=True, preload=True, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                    override=True,
                ),
                # The legacy XSS auditor is itself an attack surface; CSP replaces it.
                xss_protection=cloudfront.ResponseHeadersXSSProtection(protection=False, override=True),
            ),
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
                custom_headers=[
                    cloudfront.ResponseCustomHeader(
                        header="Cross-Origin-Opener-Policy", value="same-origin", override=True
                    ),
                    cloudfront.ResponseCustomHeader(
                        header="Permissions-Policy",
                        # The phone camera is used through <input capture>, not getUserMedia.
                        value="camera=(), microphone=(), geolocation=(), payment=(), usb=()",
                        override=True,
                    ),
                ]
            ),
        )
        self.spa_rewrite = cloudfront.Function(
            self,
            "SpaRewrite",
            comment="App routes (no file extension, not /api) are served by /index.html",
            code=cloudfront.FunctionCode.from_inline(SPA_REWRITE_JS),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
        )
        # Honour the Cache-Control each object was deployed with (min TTL 0, so no-store
        # really is not stored); nothing from the viewer varies what S3 returns.
        site_cache_policy = cloudfront.CachePolicy(
            self,
            "SiteCachePolicy",
            comment="Web app files: the object's own Cache-Control decides",
            min_ttl=Duration.seconds(0),
            default_ttl=Duration.days(1),
            max_ttl=Duration.days(365),
            enable_accept_encoding_gzip=True,
            enable_accept_encoding_brotli=True,
        )

        api_stack = Stack.of(http_api)
        api_origin = origins.HttpOrigin(
            # The host of http_api.api_endpoint, built from the id: CloudFormation cannot
            # split a value read from another stack's outputs.
            f"{http_api.api_id}.execute-api.{api_stack.region}.{api_stack.url_suffix}",
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
            read_timeout=API_ORIGIN_READ_TIMEOUT,
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"receiptlake {config.name}: web app and /api",
            default_root_object=INDEX_FILE,
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.site_bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=site_cache_policy,
                response_headers_policy=self.response_headers_policy,
                compress=True,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=self.spa_rewrite, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                    )
                ],
            ),
            additional_behaviors={
                "/api/*": cloudfront.BehaviorOptions(
                    origin=api_origin,
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                    allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                    cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                    origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                    response_headers_policy=self.response_headers_policy,
                    compress=True,
                )
            },
            # No error_responses: a 403/404 from /api must reach the app unchanged.
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            enable_ipv6=True,
            price_class=price_class,
            domain_names=list(domain_names) if domain_names else None,
            certificate=certificate,
            # Only effective with a custom certificate (see _acknowledge, CFR4).
            minimum_protocol_version=(
                cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 if certificate is not None else None
            ),
            enable_logging=True,
            log_bucket=access_logs_bucket,
            log_file_prefix="cloudfront/",
            web_acl_id=web_acl_arn if config.waf_enabled else None,
        )

        self._deploy_site(config, site_dir, user_pool, user_pool_client)

        domain = domain_names[0] if domain_names else self.distribution.distribution_domain_name
        self.site_url = f"https://{domain}"
        CfnOutput(
            self, "SiteUrl", value=self.site_url, description="The web app (and /api on the same origin)"
        )
        CfnOutput(self, "SiteBucketName", value=self.site_bucket.bucket_name)
        CfnOutput(self, "DistributionId", value=self.distribution.distribution_id)
        self._acknowledge(config, custom_certificate=certificate is not None)

    # ---- bucket -------------------------------------------------------------------
    def _site_bucket(self, config: EnvConfig, access_logs_bucket: s3.IBucket) -> s3.Bucket:
        # SSE-S3, not the data key: everything here is served to anyone on the internet by
        # design, so a customer key would protect nothing, while adding a key-policy grant
        # to CloudFront (a mistake there turns the whole site into 403s) and KMS calls on
        # every cache miss. Access is controlled by OAC + the bucket policy.
        return s3.Bucket(
            self,
            "Site",
            encryption=s3.BucketEncryption.S3_MANAGED,
            versioned=True,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs_bucket,
            server_access_logs_prefix="site/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-noncurrent-versions",
                    noncurrent_version_expiration=Duration.days(config.noncurrent_version_expiry_days),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
            removal_policy=removal_policy(config),
        )

    # ---- content ------------------------------------------------------------------
    def _deploy_site(
        self,
        config: EnvConfig,
        site_dir: Path,
        user_pool: cognito.IUserPool,
        user_pool_client: cognito.IUserPoolClient,
    ) -> None:
        site, built = site_sources(site_dir)
        if not built:
            # Info, not a warning: a fresh clone (tests, CI without a web build) must synth
            # clean (warnings land in the validation report); the page says what to do.
            Annotations.of(self).add_info(
                f"{site_dir} has no {INDEX_FILE}: deploying a placeholder page. "
                "Run `make webapp` before deploying."
            )
        runtime_config = s3deploy.Source.json_data(
            CONFIG_FILE,
            {
                "apiBase": "/api",
                "region": Stack.of(user_pool).region,
                "userPoolId": user_pool.user_pool_id,
                "userPoolClientId": user_pool_client.user_pool_client_id,
                "environment": config.name,
            },
        )
        # One role and one log group for the three deployments, so CDK shares one handler
        # function between them; the role gets CDK's S3 grants plus writing to that log group
        # (no AWSLambdaBasicExecutionRole).
        self.deployment_role = iam.Role(
            self,
            "DeploymentRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Copies the built web app and config.json into the site bucket",
        )
        self.deployment_logs = logs.LogGroup(
            self,
            "DeploymentLogs",
            removal_policy=removal_policy(config),
        )
        cfn_logs = self.deployment_logs.node.default_child
        assert isinstance(cfn_logs, logs.CfnLogGroup)
        cfn_logs.retention_in_days = config.log_retention_days
        self.deployment_logs.grant_write(self.deployment_role)
        common: dict[str, Any] = {
            "destination_bucket": self.site_bucket,
            "role": self.deployment_role,
            "log_group": self.deployment_logs,
            "memory_limit": 512,
            "output_object_keys": False,
        }
        # Hashed assets first and never pruned: a tab still running the previous release
        # can lazy-load its chunks after a deploy.
        assets = s3deploy.BucketDeployment(
            self,
            "DeployAssets",
            sources=[site],
            exclude=["*"],
            include=[HASHED_ASSETS],
            cache_control=IMMUTABLE,
            prune=False,
            **common,
        )
        # Other root files (favicon, robots.txt, ...): an hour; pruned when removed from the build.
        others = s3deploy.BucketDeployment(
            self,
            "DeployOtherFiles",
            sources=[site],
            exclude=[HASHED_ASSETS, INDEX_FILE, CONFIG_FILE],
            cache_control=OTHER_FILES,
            prune=True,
            **common,
        )
        # The entry points last, once everything they reference is in place.
        entry = s3deploy.BucketDeployment(
            self,
            "DeployEntryPoints",
            sources=[site, runtime_config],
            exclude=["*"],
            include=[INDEX_FILE, CONFIG_FILE],
            cache_control=NO_STORE,
            prune=False,
            **common,
        )
        others.node.add_dependency(assets)
        entry.node.add_dependency(others)
        self.deployments = (assets, others, entry)

    # ---- cdk-nag ------------------------------------------------------------------
    def _acknowledge(self, config: EnvConfig, *, custom_certificate: bool) -> None:
        acknowledge(
            self.site_bucket,
            ["NIST.800.53.R5-S3DefaultEncryptionKMS", "PCI.DSS.321-S3DefaultEncryptionKMS"],
            "The site bucket holds only the public web app and its public config.json, served to "
            "anyone through CloudFront; SSE-S3 encrypts it at rest, and a customer key would "
            "guard nothing that is not public by design.",
        )
        skip_checkov(
            self.site_bucket,
            "CKV_AWS_145",
            "Public web app files only; SSE-S3 at rest, access through CloudFront OAC.",
        )
        acknowledge(
            self.site_bucket,
            ["NIST.800.53.R5-S3BucketReplicationEnabled", "PCI.DSS.321-S3BucketReplicationEnabled"],
            "The site is rebuilt from git by any deploy; replicating a build artifact adds "
            "nothing to recovery.",
        )
        if not custom_certificate:
            reason = (
                "The distribution uses the default *.cloudfront.net certificate, for which "
                "CloudFront fixes the security policy at TLSv1 and ignores "
                "MinimumProtocolVersion. Browsers negotiate TLS 1.2/1.3 anyway; passing a "
                "custom domain and its us-east-1 ACM certificate (domain_names/certificate) "
                "applies TLSv1.2_2021 and clears this finding."
            )
            acknowledge(self.distribution, ["AwsSolutions-CFR4"], reason)
            skip_checkov(self.distribution, "CKV_AWS_174", reason)
        acknowledge(
            self.distribution,
            ["AwsSolutions-CFR1"],
            "No geo restriction: receiptlake is open to users wherever they are; abuse is "
            "handled by the WAF rate rule and Cognito sign-in, not by country.",
        )
        if not config.waf_enabled:
            reason = (
                f"WAF is off in {config.name} by configuration (waf_enabled: false, cost); "
                "staging and prod run the same distribution behind the edge stack's web ACL."
            )
            acknowledge(self.distribution, ["AwsSolutions-CFR2"], reason)
            skip_checkov(self.distribution, "CKV_AWS_68", reason)
        self._acknowledge_deployment()

    def _acknowledge_deployment(self) -> None:
        """BucketDeployment: CDK's singleton handler (Python + AWS CLI layer), its grants, logs."""
        handler = next(c for c in self.node.children if isinstance(c, lambda_.Function))
        acknowledge(
            handler,
            ["AwsSolutions-L1"],
            "CDK's BucketDeployment handler: aws-cdk-lib pins and upgrades its runtime; it "
            "cannot be set here.",
        )
        no_vpc = (
            "Deploy-time copy from the CDK asset bucket to the site bucket over the S3 API; it "
            "has no network resources to protect, and a VPC would need S3 endpoints for no gain."
        )
        acknowledge(handler, ["NIST.800.53.R5-LambdaInsideVPC", "PCI.DSS.321-LambdaInsideVPC"], no_vpc)
        skip_checkov(handler, "CKV_AWS_117", no_vpc)
        deploy_only = (
            "Invoked only by CloudFormation during a deploy of this stack: a failure fails and "
            "rolls back the deploy, so a DLQ would hold nothing anyone reads, and concurrency "
            "is bounded by the three deployments, run one after the other."
        )
        acknowledge(
            handler,
            ["NIST.800.53.R5-LambdaDLQ", "NIST.800.53.R5-LambdaConcurrency", "PCI.DSS.321-LambdaConcurrency"],
            deploy_only,
        )
        skip_checkov(handler, "CKV_AWS_116", deploy_only)
        skip_checkov(handler, "CKV_AWS_115", deploy_only)
        skip_checkov(
            handler,
            "CKV_AWS_173",
            "Its only environment variable is CDK's AWS_CA_BUNDLE path; no secret to encrypt.",
        )
        public_logs = (
            "The deployment handler logs the `aws s3 sync` of public web app files (names of "
            "public objects, no receipt or user data); CloudWatch encrypts it at rest."
        )
        acknowledge(
            self.deployment_logs,
            ["NIST.800.53.R5-CloudWatchLogGroupEncrypted", "PCI.DSS.321-CloudWatchLogGroupEncrypted"],
            public_logs,
        )
        skip_checkov(self.deployment_logs, "CKV_AWS_158", public_logs)
        policy = self.deployment_role.node.find_child("DefaultPolicy")
        assert isinstance(policy, iam.Policy)
        acknowledge(
            policy,
            ["NIST.800.53.R5-IAMNoInlinePolicy", "PCI.DSS.321-IAMNoInlinePolicy"],
            "BucketDeployment writes these grants itself (asset bucket read, site bucket "
            "sync); they serve this one role and change with aws-cdk-lib.",
        )
        acknowledge(
            policy,
            [f"AwsSolutions-IAM5[Action::{action}]" for action in DEPLOYMENT_WILDCARD_ACTIONS],
            "CDK's grantRead on the asset bucket and grantReadWrite on the site bucket: "
            "`aws s3 sync --delete` needs object reads, listing, writes, deletes and "
            "aborting multipart uploads, on these two buckets only.",
        )
        cfn_bucket = self.site_bucket.node.default_child
        assert isinstance(cfn_bucket, s3.CfnBucket)
        site_objects = f"Resource::<{Stack.of(self).get_logical_id(cfn_bucket)}.Arn>/*"

        def deployment_objects(finding: str) -> bool:
            flat = finding.removeprefix("Resource::")
            is_asset_objects = flat.startswith("arn:") and "-assets-" in flat and flat.endswith("/*")
            return finding == site_objects or (finding.startswith("Resource::") and is_asset_objects)

        acknowledge_wildcards(
            policy,
            deployment_objects,
            "Object ARNs need a wildcard: the site bucket's objects (the deployment syncs the "
            "whole site) and the CDK asset bucket's (the build's zip is read by name).",
        )
