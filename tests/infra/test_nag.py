"""cdk-nag's AwsSolutions checks pass with zero unacknowledged findings, and every acknowledgment says why.

cdk-nag 3 is a CDK policy-validation plugin: `Validations.of(app).add_plugins(AwsSolutionsChecks(app))` runs it
on `app.synth()`, which fails ("Validation failed") on any finding nobody acknowledged. `validate_scope` returns
the same report without synthesizing, which names the findings when a test fails.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sqs as sqs
from cdk_nag import AwsSolutionsChecks

from infra.app import build_app
from infra.components.nag import MIN_REASON_LENGTH, acknowledge, acknowledgments
from infra.stacks.slotwise_stack import SlotwiseStack
from tests.infra.support import EXTENDED

CONTEXTS = {
    "dev": {},
    "prod-oidc-cors": {
        "stage": "prod",
        "oidcIssuer": "https://login.example.com",
        "oidcAudience": "slotwise-api",
        "oidcJwksUrl": "https://login.example.com/.well-known/jwks.json",
        "corsOrigins": "https://app.example.com",
        "alarmEmail": "oncall@example.com",
    },
}


# Acknowledgments aws-cdk-lib writes itself, not this project: a bucket that receives server access logs through the
# LogDeliveryWrite ACL (the console's log bucket, which CloudFront's standard logs need ACLs on) is marked with
# CloudFormation's own AccessControl deprecation warning.
CDK_OWN_ACKNOWLEDGMENTS = frozenset({"CloudFormation-Validate::W3045"})


def _findings(app: cdk.App) -> list[str]:
    report = AwsSolutionsChecks(app).validate_scope(app)
    return [
        f"{violation.rule_name} at {resource.construct_path}"
        for violation in report.violations
        for resource in violation.violating_resources
    ]


@pytest.fixture(scope="module", params=sorted(CONTEXTS))
def app(request: pytest.FixtureRequest, app_dirs: dict[str, str], no_cdk_context: None) -> cdk.App:
    return build_app({**app_dirs, **CONTEXTS[request.param]})


@pytest.fixture(scope="module")
def extended_app(layer_dir: Path, extended_functions_dir: Path) -> cdk.App:
    app = cdk.App()
    SlotwiseStack(
        app, "Extended", stage="dev", layer_dir=layer_dir, topology=EXTENDED, functions_dir=extended_functions_dir
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def test_app_has_no_unacknowledged_findings(app: cdk.App) -> None:
    assert _findings(app) == []


def test_app_synthesizes_with_the_checks_on(app: cdk.App) -> None:
    assembly = app.synth()  # raises "Validation failed" on any unacknowledged finding
    assert [stack.stack_name for stack in assembly.stacks] == [
        s.stack_name for s in app.node.children if isinstance(s, cdk.Stack)
    ]


def test_queues_rules_and_jobs_have_no_unacknowledged_findings(extended_app: cdk.App) -> None:
    assert _findings(extended_app) == []
    extended_app.synth()


def test_every_acknowledgment_is_specific_and_says_why(app: cdk.App, extended_app: cdk.App) -> None:
    for scope in (app, extended_app):
        found = acknowledgments(scope)
        assert found
        for path, rules in found.items():
            # On resources, never blanket on the app or a whole stack.
            assert path.count("/") >= 2, path
            for rule_id, reason in rules.items():
                if rule_id in CDK_OWN_ACKNOWLEDGMENTS:
                    continue
                assert rule_id.removeprefix("Annotation::").startswith("AwsSolutions-"), (path, rule_id)
                assert len(reason.strip()) >= MIN_REASON_LENGTH, (path, rule_id)


def test_the_checks_do_fail_synth_on_a_finding(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Careless")
    sqs.Queue(stack, "Plain")  # no DLQ, no SSL enforcement
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    assert any(finding.startswith("AwsSolutions-SQS3 ") for finding in _findings(app))
    with pytest.raises(RuntimeError, match=r"ValidationFailed[\s\S]*AwsSolutions-SQS4"):
        app.synth()


def test_an_acknowledgment_needs_a_reason() -> None:
    stack = cdk.Stack(cdk.App(), "Terse")
    with pytest.raises(ValueError, match="written reason"):
        acknowledge(stack, "AwsSolutions-SQS3", "ok")
