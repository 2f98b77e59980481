"""The web console's hosting: a private S3 bucket behind CloudFront (origin access control), the built single-page
app (`infra/console/dist`, `make console`) and a generated `config.json` naming the API the console calls.

The bucket is never public: CloudFront reads it with its service principal, signed by origin access control (OAC,
not the legacy origin access identity), and only for this distribution. HTTPS only (HTTP redirects), security
headers on every response, unknown paths answered with `index.html` so the app's own router handles deep links.
Access logs of both the bucket and the distribution go to a separate, equally private log bucket.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Aws, DefaultStackSynthesizer, Duration, RemovalPolicy
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3_deployment
from constructs import Construct

from infra.components.nag import acknowledge, arn_token

INDEX = "index.html"
CONFIG_OBJECT = "config.json"
# Errors S3 answers for a path that is no object: 403 (CloudFront may not list the bucket, so a missing key is a
# 403) and 404. Both become the app's index with 200 so a reload on /console/calendar works.
SPA_ERROR_STATUSES = (403, 404)
# The app's index and its configuration change with every deployment; hashed assets (Vite names them by content)
# may be cached for long. These two are invalidated after each upload.
INVALIDATED_PATHS = [f"/{INDEX}", f"/{CONFIG_OBJECT}"]
HSTS_MAX_AGE = Duration.days(365)
LOG_RETENTION = Duration.days(90)


def check_dist(dist_dir: Path) -> None:
    """Fail synth with the fix in the message: without the built app the deployment would upload nothing."""
    if not (dist_dir / INDEX).is_file():
        raise ValueError(
            f"console build not found: {dist_dir / INDEX} is missing. Build the console first (`make console`, "
            f"which runs Vite in infra/console), or point -c consoleDir=<folder with {INDEX}> at a build."
        )


def content_security_policy(api_url: str) -> str:
    """Scripts, styles and images from the console's own origin; API calls to the API (and its live WebSocket in
    the same region); no framing, no plugins, no foreign form targets. Inline styles are allowed: UI libraries set
    `style` attributes, and a style cannot run code."""
    execute_api = f"*.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}"
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src 'self' {api_url} wss://{execute_api}",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "object-src 'none'",
        )
    )


class ConsoleSite(Construct):
    """`dist_dir` is the built app (a folder with `index.html`); `api_url` the HTTP API's base URL, written to
    `config.json` as `{"apiBase": ...}` when CloudFormation deploys (it may be a token from another stack)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dist_dir: Path,
        api_url: str,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        check_dist(dist_dir)
        destroy = removal_policy == RemovalPolicy.DESTROY
        self.log_bucket = s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            # CloudFront's standard logs are written with an ACL; the log bucket must accept object-writer ACLs.
            object_ownership=s3.ObjectOwnership.OBJECT_WRITER,
            lifecycle_rules=[s3.LifecycleRule(expiration=LOG_RETENTION)],
            removal_policy=removal_policy,
            auto_delete_objects=destroy,
        )
        acknowledge(
            self.log_bucket,
            "AwsSolutions-S1",
            "This bucket holds the access logs of the console bucket and its distribution; logging its own "
            "accesses would log the log writes, recursively, and it holds no customer data.",
        )
        self.bucket = s3.Bucket(
            self,
            "Site",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.log_bucket,
            server_access_logs_prefix="site/",
            removal_policy=removal_policy,
            auto_delete_objects=destroy,
        )
        self.headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="Slotwise console: HSTS, CSP, no framing, no sniffing, strict referrer",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=HSTS_MAX_AGE, include_subdomains=True, override=True
                ),
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(api_url), override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override=True
                ),
                xss_protection=cloudfront.ResponseHeadersXSSProtection(protection=True, mode_block=True, override=True),
            ),
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Slotwise console",
            default_root_object=INDEX,
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers,
                compress=True,
            ),
            error_responses=[
                cloudfront.ErrorResponse(
                    http_status=status,
                    response_http_status=200,
                    response_page_path=f"/{INDEX}",
                    ttl=Duration.seconds(0),
                )
                for status in SPA_ERROR_STATUSES
            ],
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            enable_logging=True,
            log_bucket=self.log_bucket,
            log_file_prefix="cloudfront/",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "The console is a static app for vendors, staff and customers wherever they are; the API it calls "
            "enforces who may do what, so there is no country to exclude.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR2",
            "The distribution serves static files only (GET/HEAD); every write goes to the HTTP API, which has its "
            "own throttles and authorization. A WAF web ACL here would filter nothing that reaches data.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR4",
            "The default *.cloudfront.net certificate cannot be pinned to TLS 1.2 (CloudFront fixes its policy); "
            "a custom domain with an ACM certificate and TLSv1.2_2021 is the fix once the console has a domain.",
        )
        self.deployment = s3_deployment.BucketDeployment(
            self,
            "Deployment",
            destination_bucket=self.bucket,
            sources=[
                s3_deployment.Source.asset(str(dist_dir)),
                # Resolved when CloudFormation deploys: the API's URL may come from the backend stack.
                s3_deployment.Source.json_data(CONFIG_OBJECT, {"apiBase": api_url}),
            ],
            distribution=self.distribution,
            distribution_paths=INVALIDATED_PATHS,
            # Objects of an earlier build that this one no longer has are removed (prune is CDK's default).
            prune=True,
        )
        _acknowledge_deployment_handler(self.deployment, self.bucket)

    @property
    def url(self) -> str:
        return f"https://{self.distribution.distribution_domain_name}"


# The wildcards of CDK's deployment function (one per stack, written by aws_s3_deployment): the subject of each
# finding, as cdk-nag names it, and why it is acceptable here.
_HANDLER_WILDCARDS = {
    "Action::s3:GetObject*": "reads the uploaded build from CDK's asset bucket and the site bucket",
    "Action::s3:GetBucket*": "reads the location and settings of those two buckets only",
    "Action::s3:List*": "lists those two buckets to find objects to copy or prune",
    "Action::s3:DeleteObject*": "prunes files of an earlier build from the site bucket only",
    "Action::s3:Abort*": "aborts its own failed multipart uploads into the site bucket",
    "Resource::*": "creates and reads CloudFront invalidations (CDK writes them unscoped)",
}


def _acknowledge_deployment_handler(deployment: s3_deployment.BucketDeployment, bucket: s3.Bucket) -> None:
    """Acknowledge what cdk-nag finds in CDK's own deployment function (its role and its runtime), on those
    resources only; the function runs during deployments, never on a request."""
    role = deployment.handler_role
    handler = role.node.scope
    assert handler is not None
    qualifier = DefaultStackSynthesizer.DEFAULT_QUALIFIER
    wildcards = {
        **_HANDLER_WILDCARDS,
        f"Resource::{arn_token(bucket)}/*": "writes and prunes the objects of the site bucket, and only those",
        f"Resource::arn:<AWS::Partition>:s3:::cdk-{qualifier}-assets-<AWS::AccountId>-<AWS::Region>/*": (
            "reads the build CDK uploaded to its bootstrap asset bucket"
        ),
    }
    for subject, why in wildcards.items():
        acknowledge(
            role,
            f"AwsSolutions-IAM5[{subject}]",
            f"CDK's BucketDeployment function {why}; the policy is CDK's, scoped to these buckets by CDK.",
        )
    acknowledge(
        role,
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
        "CDK's BucketDeployment function logs with the managed basic execution policy; it runs only during "
        "deployments and holds no customer data.",
    )
    function = handler.node.default_child
    assert function is not None
    acknowledge(
        function,
        "AwsSolutions-L1",
        "The runtime of CDK's BucketDeployment function is chosen by aws-cdk-lib (it runs the AWS CLI layer); "
        "it moves with the aws-cdk-lib version, not with a stack edit.",
    )
