"""One auth configuration from the app's context for the edge and the functions: in external-OIDC mode API Gateway's
JWT authorizer and every function's environment name the same issuer and audience (and the functions the JWKS URL);
without that context every function runs the own issuer under the stack's issuer and audience."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Template

from infra.app import build_app
from infra.components.auth import OidcSettings, OwnIssuerSettings, check_settings
from slotwise.settings import Settings
from tests.infra.support import backend_stack, flat_template, functions_by_group, only, resources

ISSUER = "https://idp.example.com/tenant-1/"
AUDIENCE = "slotwise-api-client"
JWKS_URL = "https://idp.example.com/tenant-1/.well-known/jwks.json"
OIDC_CONTEXT = {"oidcIssuer": ISSUER, "oidcAudience": AUDIENCE, "oidcJwksUrl": JWKS_URL}
OIDC_VARIABLES = (
    "SLOTWISE_OIDC_ISSUER",
    "SLOTWISE_OIDC_AUDIENCE",
    "SLOTWISE_OIDC_JWKS_URL",
    "SLOTWISE_OIDC_ROLES_CLAIM",
)
OWN_VARIABLES = ("SLOTWISE_JWT_ISSUER", "SLOTWISE_JWT_AUDIENCE")


def _template(app_dirs: dict[str, str], **context: str) -> Template:
    app = build_app({**app_dirs, **context})
    return flat_template(backend_stack(app))


def _environments(template: Template) -> dict[str, dict[str, Any]]:
    environments = {
        group: props["Environment"]["Variables"] for group, (_, props) in functions_by_group(template).items()
    }
    assert environments
    return environments


def _settings(environment: dict[str, Any]) -> Settings:
    """The settings a function builds from this environment (CloudFormation references stand in as text)."""
    return Settings.model_validate(
        {k: v if isinstance(v, str) else "resolved-at-deploy" for k, v in environment.items()}
    )


@pytest.fixture(scope="module")
def oidc(app_dirs: dict[str, str], no_cdk_context: None) -> Template:
    return _template(app_dirs, stage="prod", oidcRolesClaim="cognito:groups", **OIDC_CONTEXT)


@pytest.fixture(scope="module")
def own(app_dirs: dict[str, str], no_cdk_context: None) -> Template:
    return _template(app_dirs)


def test_oidc_context_puts_every_function_in_oidc_mode_with_the_providers_settings(oidc: Template) -> None:
    for group, environment in _environments(oidc).items():
        assert environment["SLOTWISE_AUTH_MODE"] == "oidc", group
        assert environment["SLOTWISE_OIDC_ISSUER"] == ISSUER, group
        assert environment["SLOTWISE_OIDC_AUDIENCE"] == AUDIENCE, group
        assert environment["SLOTWISE_OIDC_JWKS_URL"] == JWKS_URL, group
        assert environment["SLOTWISE_OIDC_ROLES_CLAIM"] == "cognito:groups", group
        assert not set(OWN_VARIABLES) & set(environment), group
        settings = _settings(environment)
        assert (settings.stage, settings.auth_mode) == ("prod", "oidc")
        assert (settings.oidc_issuer, settings.oidc_audience, settings.oidc_jwks_url) == (ISSUER, AUDIENCE, JWKS_URL)


def test_the_authorizer_checks_the_issuer_and_audience_the_functions_check(oidc: Template) -> None:
    _, authorizer = only(oidc, "AWS::ApiGatewayV2::Authorizer")
    configuration = authorizer["Properties"]["JwtConfiguration"]
    for group, environment in _environments(oidc).items():
        assert configuration["Issuer"] == environment["SLOTWISE_OIDC_ISSUER"], group
        assert configuration["Audience"] == [environment["SLOTWISE_OIDC_AUDIENCE"]], group


def test_without_oidc_context_every_function_runs_the_own_issuer_and_the_gateway_no_authorizer(own: Template) -> None:
    assert resources(own, "AWS::ApiGatewayV2::Authorizer") == {}
    for group, environment in _environments(own).items():
        assert environment["SLOTWISE_AUTH_MODE"] == "own", group
        assert environment["SLOTWISE_JWT_ISSUER"] == "slotwise-dev", group
        assert environment["SLOTWISE_JWT_AUDIENCE"] == "slotwise-api", group
        assert "SLOTWISE_JWT_SECRET_ARN" in environment, group
        assert not set(OIDC_VARIABLES) & set(environment), group
        settings = _settings(environment)
        assert (settings.auth_mode, settings.jwt_issuer, settings.jwt_audience) == (
            "own",
            "slotwise-dev",
            "slotwise-api",
        )


def test_without_a_roles_claim_the_functions_read_the_settings_default(
    app_dirs: dict[str, str], no_cdk_context: None
) -> None:
    environments = _environments(_template(app_dirs, **OIDC_CONTEXT))
    assert {env["SLOTWISE_OIDC_ROLES_CLAIM"] for env in environments.values()} == {
        Settings.model_fields["oidc_roles_claim"].default
    }


def test_the_own_issuer_carries_the_stage() -> None:
    assert OwnIssuerSettings.for_stage("prod") == OwnIssuerSettings(issuer="slotwise-prod", audience="slotwise-api")


def test_the_functions_settings_are_checked_at_synth() -> None:
    check_settings(OwnIssuerSettings.for_stage("dev"), "dev")
    check_settings(OidcSettings(issuer=ISSUER, audience=AUDIENCE, jwks_url=JWKS_URL), "prod")
    with pytest.raises(ValueError, match="stage"):
        check_settings(OwnIssuerSettings.for_stage("staging"), "staging")
