"""The payments wiring: the Stripe webhook route needs no token even in external-OIDC mode, the ingress may send to
the stripe-events queue only and alone reads the webhook signing secret, the Stripe API key is readable by the
payment groups only, and every function runs the Stripe provider. cdk-nag stays at zero findings."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from infra.components.auth import OidcSettings
from infra.components.nag import acknowledgments
from infra.components.payments import STRIPE_API_GROUPS
from infra.components.queue_admin import ADMIN_GROUP as REDRIVER
from infra.stacks.slotwise_stack import FUNCTIONS_DIR, SlotwiseStack, function_groups
from slotwise.api import routes
from slotwise.settings import Settings
from slotwise.topology import TOPOLOGY
from tests.infra.support import (
    as_list,
    flat_template,
    functions_by_group,
    invoked_function,
    queue_by_name,
    resources,
    role_of,
    statements_of_role,
)

INGRESS = "stripe_webhooks"
WEBHOOK_ROUTE = f"POST {routes.API_PREFIX}/webhooks/stripe"
OIDC = OidcSettings(
    issuer="https://login.example.com/realms/slotwise",
    audience="slotwise-api",
    jwks_url="https://login.example.com/realms/slotwise/protocol/openid-connect/certs",
)


@pytest.fixture(scope="module")
def functions_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real functions, plus a stub for any group whose handler is not written yet (the stack needs one each)."""
    functions = tmp_path_factory.mktemp("payments-functions") / "functions"
    shutil.copytree(FUNCTIONS_DIR, functions, ignore=shutil.ignore_patterns("__pycache__"))
    for group in function_groups(TOPOLOGY, routes.ROUTES, routes.FALLBACK_GROUP):
        if not (functions / group / "handler.py").exists():
            (functions / group).mkdir(exist_ok=True)
            (functions / group / "handler.py").write_text("def lambda_handler(event, context):\n    return None\n")
    return functions


def _app(layer_dir: Path, functions_dir: Path, **kwargs: Any) -> tuple[cdk.App, SlotwiseStack]:
    app = cdk.App()
    stack = SlotwiseStack(app, "Payments", layer_dir=layer_dir, functions_dir=functions_dir, **kwargs)
    return app, stack


@pytest.fixture(scope="module")
def dev(layer_dir: Path, functions_dir: Path) -> Template:
    _, stack = _app(layer_dir, functions_dir, stage="dev")
    return flat_template(stack)


@pytest.fixture(scope="module")
def prod_oidc(layer_dir: Path, functions_dir: Path) -> tuple[cdk.App, SlotwiseStack]:
    app, stack = _app(layer_dir, functions_dir, stage="prod", oidc=OIDC)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


def _secret_id(template: Template, words: str) -> str:
    (found,) = [
        logical_id
        for logical_id, secret in resources(template, "AWS::SecretsManager::Secret").items()
        if words in secret["Properties"].get("Description", "")
    ]
    return found


def _groups_reading(template: Template, secret_id: str) -> set[str]:
    return {
        group
        for group in functions_by_group(template)
        for statement in statements_of_role(template, role_of(template, group))
        if "secretsmanager:GetSecretValue" in as_list(statement["Action"])
        and {"Ref": secret_id} in as_list(statement["Resource"])
    }


def _env(template: Template, group: str) -> dict[str, Any]:
    variables: dict[str, Any] = functions_by_group(template)[group][1]["Environment"]["Variables"]
    return variables


def test_the_ingress_knows_its_queue_and_may_send_to_it_only(dev: Template) -> None:
    queue_id, _ = queue_by_name(dev, "stripe-events-dev")
    assert _env(dev, INGRESS)["SLOTWISE_STRIPE_EVENTS_QUEUE_URL"] == {"Ref": queue_id}
    sqs_statements = [
        statement
        for statement in statements_of_role(dev, role_of(dev, INGRESS))
        if any(str(action).startswith("sqs:") for action in as_list(statement["Action"]))
    ]
    assert sqs_statements
    assert {"sqs:SendMessage"} <= {a for s in sqs_statements for a in as_list(s["Action"])}
    for statement in sqs_statements:
        assert as_list(statement["Resource"]) == [{"Fn::GetAtt": [queue_id, "Arn"]}], statement


def test_no_other_function_may_send_to_the_stripe_events_queue(dev: Template) -> None:
    queue_id, _ = queue_by_name(dev, "stripe-events-dev")
    for group in functions_by_group(dev):
        if group == INGRESS:
            continue
        for statement in statements_of_role(dev, role_of(dev, group)):
            # The admin function's dead-letter redrive moves the queue's own DLQ messages back to it, and nothing else
            # (tests/infra/test_queue_admin_infra.py).
            if "sqs:SendMessage" in as_list(statement["Action"]) and group != REDRIVER:
                assert queue_id not in str(statement["Resource"]), group
        assert "SLOTWISE_STRIPE_EVENTS_QUEUE_URL" not in _env(dev, group), group


def test_only_the_ingress_reads_the_webhook_signing_secret(dev: Template) -> None:
    secret_id = _secret_id(dev, "webhook signing")
    assert _groups_reading(dev, secret_id) == {INGRESS}
    assert _env(dev, INGRESS)["SLOTWISE_STRIPE_WEBHOOK_SECRETS_ARN"] == {"Ref": secret_id}
    others = [group for group in functions_by_group(dev) if group != INGRESS]
    assert all("SLOTWISE_STRIPE_WEBHOOK_SECRETS_ARN" not in _env(dev, group) for group in others)


def test_only_the_payment_groups_read_the_stripe_api_key(dev: Template) -> None:
    secret_id = _secret_id(dev, "API key")
    assert _groups_reading(dev, secret_id) == STRIPE_API_GROUPS
    assert set(functions_by_group(dev)) >= STRIPE_API_GROUPS


def test_every_function_runs_the_stripe_provider_with_valid_settings(dev: Template) -> None:
    key_id = _secret_id(dev, "API key")
    for group in functions_by_group(dev):
        env = _env(dev, group)
        assert env["SLOTWISE_PAYMENT_PROVIDER"] == "stripe", group
        assert env["SLOTWISE_STRIPE_SECRET_KEY_ARN"] == {"Ref": key_id}, group
        # What the function builds at its first request (references stand in as text); prod refuses `simulated`.
        values = {k: v if isinstance(v, str) else "resolved-at-deploy" for k, v in env.items()}
        settings = Settings.model_validate({**values, "SLOTWISE_STAGE": "prod"})
        assert settings.payment_provider == "stripe", group


def test_secrets_hold_only_generated_placeholders_and_their_arns_are_outputs(dev: Template) -> None:
    for words in ("webhook signing", "API key"):
        props = resources(dev, "AWS::SecretsManager::Secret")[_secret_id(dev, words)]["Properties"]
        assert "SecretString" not in props and "GenerateSecretString" in props, words
    outputs = dev.to_json()["Outputs"]
    assert outputs["StripeWebhookSecretArn"]["Value"] == {"Ref": _secret_id(dev, "webhook signing")}
    assert outputs["StripeSecretKeyArn"]["Value"] == {"Ref": _secret_id(dev, "API key")}


def test_the_webhook_route_needs_no_token_even_in_oidc_mode(prod_oidc: tuple[cdk.App, SlotwiseStack]) -> None:
    _, stack = prod_oidc
    template = flat_template(stack)
    routes_found = resources(template, "AWS::ApiGatewayV2::Route").values()
    by_key = {r["Properties"]["RouteKey"]: r["Properties"] for r in routes_found}
    assert by_key[WEBHOOK_ROUTE].get("AuthorizationType", "NONE") == "NONE"
    assert "AuthorizerId" not in by_key[WEBHOOK_ROUTE]
    assert by_key[f"POST {routes.API_PREFIX}/bookings"]["AuthorizationType"] == "JWT"  # the others still do
    (integration,) = [
        i["Properties"]
        for logical_id, i in resources(template, "AWS::ApiGatewayV2::Integration").items()
        if by_key[WEBHOOK_ROUTE]["Target"]["Fn::Join"][1][1]["Ref"] == logical_id
    ]
    assert invoked_function(template, integration["IntegrationUri"]) == functions_by_group(template)[INGRESS][0]
    route_construct = stack.http_api.routes[WEBHOOK_ROUTE]
    reasons = acknowledgments(route_construct)[route_construct.node.path]
    (reason,) = [text for rule, text in reasons.items() if rule.endswith("AwsSolutions-APIG4")]
    assert "Stripe-Signature" in reason


def test_no_unacknowledged_nag_findings(prod_oidc: tuple[cdk.App, SlotwiseStack]) -> None:
    app, _ = prod_oidc
    report = AwsSolutionsChecks(app).validate_scope(app)
    findings = [
        f"{violation.rule_name} at {resource.construct_path}"
        for violation in report.violations
        for resource in violation.violating_resources
    ]
    assert findings == []
    app.synth()  # raises "Validation failed" on any unacknowledged finding
