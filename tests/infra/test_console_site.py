"""The web console's stack: a private bucket read by CloudFront through origin access control, HTTPS only,
security headers, the single-page app's deep links answered by index.html, the build and a generated config.json
naming the backend's API deployed together, and synth refusing to go on without a build."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from infra.app import build_app
from infra.components.console_site import CONFIG_OBJECT, INDEX, SPA_ERROR_STATUSES, ConsoleSite, check_dist
from infra.stacks import SlotwiseConsoleStack
from tests.infra.support import backend_stack, only, resources

API_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/"


@pytest.fixture(scope="module")
def app(app_dirs: dict[str, str], no_cdk_context: None) -> cdk.App:
    return build_app(dict(app_dirs))


@pytest.fixture(scope="module")
def console(app: cdk.App) -> SlotwiseConsoleStack:
    found = app.node.find_child("SlotwiseConsole-dev")
    assert isinstance(found, SlotwiseConsoleStack)
    return found


@pytest.fixture(scope="module")
def template(console: SlotwiseConsoleStack) -> Template:
    return Template.from_stack(console)


def _buckets(template: Template) -> dict[str, dict[str, Any]]:
    return resources(template, "AWS::S3::Bucket")


def _site_bucket_id(template: Template, console: SlotwiseConsoleStack) -> str:
    element = console.site.bucket.node.default_child
    assert isinstance(element, cdk.CfnElement)
    return console.get_logical_id(element)


def _distribution(template: Template) -> dict[str, Any]:
    _, distribution = only(template, "AWS::CloudFront::Distribution")
    config: dict[str, Any] = distribution["Properties"]["DistributionConfig"]
    return config


def test_no_bucket_is_public_and_every_bucket_refuses_plain_http(template: Template) -> None:
    buckets = _buckets(template)
    assert len(buckets) == 2  # the site and its access logs
    for logical_id, bucket in buckets.items():
        assert bucket["Properties"]["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, logical_id
        assert "WebsiteConfiguration" not in bucket["Properties"], logical_id  # served by CloudFront, not S3
    for policy in resources(template, "AWS::S3::BucketPolicy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
        )
        for statement in statements:
            if statement["Effect"] == "Allow":
                assert statement["Principal"] != {"AWS": "*"} and statement["Principal"] != "*", statement


def test_cloudfront_reads_the_site_bucket_through_origin_access_control_only(
    template: Template, console: SlotwiseConsoleStack
) -> None:
    oac_id, oac = only(template, "AWS::CloudFront::OriginAccessControl")
    assert oac["Properties"]["OriginAccessControlConfig"]["OriginAccessControlOriginType"] == "s3"
    assert oac["Properties"]["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    assert resources(template, "AWS::CloudFront::CloudFrontOriginAccessIdentity") == {}
    (origin,) = _distribution(template)["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac_id, "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    bucket_id = _site_bucket_id(template, console)
    assert origin["DomainName"] == {"Fn::GetAtt": [bucket_id, "RegionalDomainName"]}
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in resources(template, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    (read,) = [s for s in policy if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}]
    assert read["Action"] == "s3:GetObject"
    distribution_id, _ = only(template, "AWS::CloudFront::Distribution")
    assert {"Ref": distribution_id} in read["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Join"][1]


def test_the_distribution_serves_the_app_over_https_with_security_headers(template: Template) -> None:
    config = _distribution(template)
    assert config["DefaultRootObject"] == INDEX
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    headers_id, headers = only(template, "AWS::CloudFront::ResponseHeadersPolicy")
    assert behavior["ResponseHeadersPolicyId"] == {"Ref": headers_id}
    security = headers["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31_536_000
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    assert security["ContentTypeOptions"]["Override"] is True
    csp = json.dumps(security["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    for directive in ("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"):
        assert directive in csp
    assert "Logging" in config and config["Logging"]["Prefix"] == "cloudfront/"


def test_deep_links_are_answered_by_the_app(template: Template) -> None:
    responses = _distribution(template)["CustomErrorResponses"]
    assert sorted(r["ErrorCode"] for r in responses) == sorted(SPA_ERROR_STATUSES)
    for response in responses:
        assert (response["ResponseCode"], response["ResponsePagePath"]) == (200, f"/{INDEX}")
        assert response["ErrorCachingMinTTL"] == 0


def test_the_build_and_a_config_naming_the_backend_api_are_deployed(
    app: cdk.App, template: Template, console: SlotwiseConsoleStack
) -> None:
    (deployment,) = resources(template, "Custom::CDKBucketDeployment").values()
    props = deployment["Properties"]
    assert props["DestinationBucketName"] == {"Ref": _site_bucket_id(template, console)}
    assert len(props["SourceObjectKeys"]) == 2  # the build, config.json
    build_markers, config_markers = props["SourceMarkers"]
    assert build_markers == {}  # the build is copied as it is
    # config.json's apiBase is written when CloudFormation deploys: the backend stack's API, through an export.
    ((marker, value),) = config_markers.items()
    assert marker.startswith("<<marker:")
    parts = value["Fn::Join"][1]
    assert parts[0] == '"https://' and parts[-1] == '/"'  # a JSON string: the URL in quotes
    (imported,) = [part["Fn::ImportValue"] for part in parts if isinstance(part, dict) and "Fn::ImportValue" in part]
    backend = Template.from_stack(backend_stack(app)).to_json()
    (exported,) = [o["Value"] for o in backend["Outputs"].values() if o.get("Export", {}).get("Name") == imported]
    api_url_parts = backend["Outputs"]["ApiUrl"]["Value"]["Fn::Join"][1]
    assert exported in api_url_parts  # the API's id, as in the backend's own ApiUrl output
    assert props["DistributionPaths"] == [f"/{INDEX}", f"/{CONFIG_OBJECT}"]
    assert props["Prune"] is True
    assert props["DistributionId"] == {"Ref": only(template, "AWS::CloudFront::Distribution")[0]}


def test_config_json_is_the_api_base(tmp_path: Path, console_dir: Path) -> None:
    stack = cdk.Stack(cdk.App(outdir=str(tmp_path)), "Console")
    ConsoleSite(stack, "Site", dist_dir=console_dir, api_url=API_URL, removal_policy=cdk.RemovalPolicy.DESTROY)
    assembly = stack.node.root.synth()  # type: ignore[attr-defined]
    # Each source is a folder asset (zipped when published): the build's files, and config.json alone.
    found = [json.loads(path.read_text()) for path in Path(assembly.directory).glob(f"asset.*/{CONFIG_OBJECT}")]
    assert found == [{"apiBase": API_URL}]
    (build,) = [path.parent for path in Path(assembly.directory).glob(f"asset.*/{INDEX}")]
    assert (build / INDEX).read_text() == (console_dir / INDEX).read_text()


def test_the_console_url_is_an_output(template: Template) -> None:
    outputs = template.to_json()["Outputs"]
    distribution_id, _ = only(template, "AWS::CloudFront::Distribution")
    assert outputs["ConsoleUrl"]["Value"] == {
        "Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id, "DomainName"]}]]
    }


def test_synth_without_a_console_build_names_the_fix(tmp_path: Path, app_dirs: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"console build not found.*make console"):
        check_dist(tmp_path)
    with pytest.raises(ValueError, match=r"make console"):
        build_app({**app_dirs, "consoleDir": str(tmp_path / "dist")})
