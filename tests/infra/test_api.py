"""The HTTP API from the app's context: JWT authorizer only in external-OIDC mode, CORS only for named origins,
per-route throttles below the stage default."""

from __future__ import annotations

import json
from fnmatch import fnmatch
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from infra.app import build_app, oidc_from, string_list_from
from infra.components.auth import OidcSettings
from infra.components.http_api import (
    PUBLIC_ROUTES,
    ROUTE_THROTTLES,
    THROTTLE,
    SlotwiseHttpApi,
    Throttle,
    collection_of,
    invocation_patterns,
)
from slotwise.api.routes import API_PREFIX, FALLBACK_GROUP, ROUTES
from tests.infra.support import (
    backend_stack,
    flat_template,
    functions_by_group,
    http_api_resources,
    invoked_function,
    only,
    only_http_api,
    resources,
)

ISSUER = "https://login.example.com/realms/slotwise"
AUDIENCE = "slotwise-api"
JWKS_URL = "https://login.example.com/realms/slotwise/protocol/openid-connect/certs"
ORIGINS = ("https://app.example.com", "http://localhost:5173")


def _template(app_dirs: dict[str, str], **context: str) -> Template:
    app = build_app({**app_dirs, **context})
    return flat_template(backend_stack(app))


@pytest.fixture(scope="module")
def plain(app_dirs: dict[str, str], no_cdk_context: None) -> Template:
    return _template(app_dirs)


@pytest.fixture(scope="module")
def oidc(app_dirs: dict[str, str], no_cdk_context: None) -> Template:
    return _template(
        app_dirs, oidcIssuer=ISSUER, oidcAudience=AUDIENCE, oidcJwksUrl=JWKS_URL, corsOrigins=",".join(ORIGINS)
    )


def _routes(template: Template) -> dict[str, dict[str, Any]]:
    return {r["Properties"]["RouteKey"]: r for r in http_api_resources(template, "AWS::ApiGatewayV2::Route").values()}


def _stage(template: Template) -> dict[str, Any]:
    _, stage = only_http_api(template, "AWS::ApiGatewayV2::Stage")
    return stage


# --- JWT authorizer ------------------------------------------------------------------------------------------------


def test_no_authorizer_without_oidc_context(plain: Template) -> None:
    assert resources(plain, "AWS::ApiGatewayV2::Authorizer") == {}
    for key, route in _routes(plain).items():
        assert route["Properties"].get("AuthorizationType", "NONE") == "NONE", key
        assert "AuthorizerId" not in route["Properties"], key


def test_oidc_context_puts_a_jwt_authorizer_on_every_route_but_the_public_ones(oidc: Template) -> None:
    authorizer_id, authorizer = only(oidc, "AWS::ApiGatewayV2::Authorizer")
    props = authorizer["Properties"]
    assert props["AuthorizerType"] == "JWT"
    assert props["JwtConfiguration"] == {"Issuer": ISSUER, "Audience": [AUDIENCE]}
    assert props["IdentitySource"] == ["$request.header.Authorization"]
    routes = _routes(oidc)
    assert set(routes) == {r.route_key for r in ROUTES} | {"$default"}
    open_routes = PUBLIC_ROUTES | {"$default"}
    for key, route in routes.items():
        if key in open_routes:
            assert route["Properties"].get("AuthorizationType", "NONE") == "NONE", key
        else:
            assert route["Properties"]["AuthorizationType"] == "JWT", key
            assert route["Properties"]["AuthorizerId"] == {"Ref": authorizer_id}, key
    assert {
        f"GET {API_PREFIX}/health",
        f"GET {API_PREFIX}/openapi.json",
        f"GET {API_PREFIX}/docs",
        f"POST {API_PREFIX}/webhooks/stripe",  # Stripe signs its calls and sends no token
    } == PUBLIC_ROUTES


def test_public_routes_are_in_the_route_table() -> None:
    assert {r.route_key for r in ROUTES} >= PUBLIC_ROUTES


@pytest.mark.parametrize(
    ("issuer", "audience", "jwks_url", "message"),
    [
        (ISSUER, None, JWKS_URL, "missing: oidcAudience"),
        (None, AUDIENCE, JWKS_URL, "missing: oidcIssuer"),
        (ISSUER, AUDIENCE, None, "missing: oidcJwksUrl"),
        (None, None, JWKS_URL, "missing: oidcIssuer, oidcAudience"),
        ("http://login.example.com", AUDIENCE, JWKS_URL, "issuer must be an https"),
        (ISSUER, AUDIENCE, "http://login.example.com/certs", "JWKS URL must be an https"),
        (ISSUER, "slotwise-api,slotwise-admin", JWKS_URL, "exactly one oidcAudience"),
    ],
)
def test_oidc_context_needs_an_https_issuer_one_audience_and_an_https_key_set(
    issuer: str | None, audience: str | None, jwks_url: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        oidc_from(issuer, audience, jwks_url)


def test_a_roles_claim_alone_is_not_oidc_mode() -> None:
    with pytest.raises(ValueError, match="missing: oidcIssuer, oidcAudience, oidcJwksUrl"):
        oidc_from(None, None, None, "cognito:groups")


def test_no_oidc_context_is_no_oidc_mode() -> None:
    assert oidc_from(None, None) is None
    assert oidc_from("", "", "", "") is None
    assert oidc_from(ISSUER, f" {AUDIENCE} ", JWKS_URL) == OidcSettings(
        issuer=ISSUER, audience=AUDIENCE, jwks_url=JWKS_URL, roles_claim="custom:role"
    )
    assert oidc_from(ISSUER, AUDIENCE, JWKS_URL, "cognito:groups") == OidcSettings(
        issuer=ISSUER, audience=AUDIENCE, jwks_url=JWKS_URL, roles_claim="cognito:groups"
    )


# --- CORS ----------------------------------------------------------------------------------------------------------


def test_no_cors_unless_origins_are_named(plain: Template) -> None:
    _, api = only_http_api(plain, "AWS::ApiGatewayV2::Api")
    assert "CorsConfiguration" not in api["Properties"]


def test_cors_allows_exactly_the_named_origins(oidc: Template) -> None:
    _, api = only_http_api(oidc, "AWS::ApiGatewayV2::Api")
    cors = api["Properties"]["CorsConfiguration"]
    assert cors["AllowOrigins"] == list(ORIGINS)
    assert set(cors["AllowMethods"]) == {"GET", "POST", "PUT", "DELETE"}
    assert {"authorization", "content-type", "idempotency-key", "if-match"} <= set(cors["AllowHeaders"])
    assert {"location", "etag"} <= set(cors["ExposeHeaders"])
    assert "AllowCredentials" not in cors or cors["AllowCredentials"] is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ()),
        ("", ()),
        ("https://a.example", ("https://a.example",)),
        ("https://a.example, https://b.example", ("https://a.example", "https://b.example")),
        ('["https://a.example"]', ("https://a.example",)),
        (["https://a.example"], ("https://a.example",)),
    ],
)
def test_context_lists(value: object, expected: tuple[str, ...]) -> None:
    assert string_list_from(value) == expected


def test_cors_origin_must_be_an_origin(app_dirs: dict[str, str], no_cdk_context: None) -> None:
    with pytest.raises(ValueError, match="not an origin"):
        build_app({**app_dirs, "corsOrigins": "app.example.com"})


# --- throttling ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [f"{API_PREFIX}/bookings", f"{API_PREFIX}/bookings/recurring"])
def test_booking_writes_are_throttled_below_reads(plain: Template, path: str) -> None:
    stage = _stage(plain)
    default = stage["Properties"]["DefaultRouteSettings"]
    assert default == {"ThrottlingRateLimit": THROTTLE.rate, "ThrottlingBurstLimit": THROTTLE.burst}
    route = stage["Properties"]["RouteSettings"][f"POST {path}"]
    assert route["ThrottlingRateLimit"] < default["ThrottlingRateLimit"]
    assert route["ThrottlingBurstLimit"] < default["ThrottlingBurstLimit"]
    assert f"GET {path}" not in stage["Properties"]["RouteSettings"]


def test_route_settings_wait_for_their_routes(plain: Template) -> None:
    route_ids = {
        logical_id: r["Properties"]["RouteKey"]
        for logical_id, r in http_api_resources(plain, "AWS::ApiGatewayV2::Route").items()
    }
    stage = _stage(plain)
    depends_on = {route_ids[d] for d in stage.get("DependsOn", []) if d in route_ids}
    assert depends_on == set(stage["Properties"]["RouteSettings"]) == set(ROUTE_THROTTLES)


@pytest.fixture
def api_scope() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Api")


def test_throttles_must_name_routes_and_stay_below_the_default(api_scope: cdk.Stack) -> None:
    kwargs: dict[str, Any] = {
        "api_name": "a",
        "routes": ROUTES,
        "functions": {},
        "fallback_group": "health",
        "removal_policy": cdk.RemovalPolicy.DESTROY,
    }
    with pytest.raises(ValueError, match="missing from the route table"):
        SlotwiseHttpApi(api_scope, "Unknown", route_throttles={"POST /nowhere": Throttle(1, 1)}, **kwargs)
    looser = Throttle(rate=THROTTLE.rate * 2, burst=THROTTLE.burst)
    with pytest.raises(ValueError, match="above the stage default"):
        SlotwiseHttpApi(api_scope, "Looser", route_throttles={f"POST {API_PREFIX}/bookings": looser}, **kwargs)


def test_access_logs_include_authorizer_errors(oidc: Template) -> None:
    assert "$context.authorizer.error" in _stage(oidc)["Properties"]["AccessLogSettings"]["Format"]


# --- invoke permissions --------------------------------------------------------------------------------------------


def _source_arn_pattern(source_arn: Any, api_id: str) -> str:
    """`{"Fn::Join": ["", ["arn:", ..., {"Ref": api}, "/*/*/api/v1/venues*"]]}` -> `*/*/api/v1/venues*` (the part
    after `<api id>/`), checking it is this API's execute-api ARN."""
    parts = source_arn["Fn::Join"][1]
    assert ":execute-api:" in parts, parts
    assert parts[-2] == {"Ref": api_id}, parts
    suffix: str = parts[-1]
    return suffix.removeprefix("/")


def _invoke_permissions(template: Template) -> dict[str, list[str]]:
    """Function logical id -> the path patterns of the HTTP API's permissions to invoke its alias."""
    api_id, _ = only_http_api(template, "AWS::ApiGatewayV2::Api")
    found: dict[str, list[str]] = {}
    for permission in resources(template, "AWS::Lambda::Permission").values():
        props = permission["Properties"]
        if props["Principal"] != "apigateway.amazonaws.com" or f'"Ref": "{api_id}"' not in json.dumps(props):
            continue
        assert props["Action"] == "lambda:InvokeFunction"
        function_id = invoked_function(template, props["FunctionName"])
        found.setdefault(function_id, []).append(_source_arn_pattern(props["SourceArn"], api_id))
    return found


def test_each_function_may_be_invoked_for_its_own_collections_only(plain: Template) -> None:
    """One permission per function and resource collection: every route's path is covered by a permission of its
    own function, and by none of a function that serves nothing in that collection (`$default` aside)."""
    permitted = _invoke_permissions(plain)
    by_group = {group: function_id for group, (function_id, _) in functions_by_group(plain).items()}
    fallback_id = by_group[FALLBACK_GROUP]
    assert permitted[fallback_id] == ["*/*"]  # unknown paths reach the fallback function through `$default`
    for route in ROUTES:
        # The method and stage are wildcards in every pattern: the source ARN API Gateway presents is
        # `<api id>/$default/<METHOD><path>`.
        source = f"$default/{route.method}{route.path}"
        allowed = {
            function_id for function_id, patterns in permitted.items() if any(fnmatch(source, p) for p in patterns)
        }
        serving = {by_group[r.group] for r in ROUTES if collection_of(r.path) == collection_of(route.path)}
        assert by_group[route.group] in allowed, route.route_key
        assert allowed == serving | {fallback_id}, route.route_key
    assert sum(len(patterns) for patterns in permitted.values()) < len(ROUTES) / 2


def test_permission_patterns_name_collections() -> None:
    assert collection_of(f"{API_PREFIX}/venues/{{venueId}}/hours") == f"{API_PREFIX}/venues"
    assert collection_of(f"{API_PREFIX}/health") == f"{API_PREFIX}/health"
    with pytest.raises(ValueError, match="not under"):
        collection_of("/v2/venues")
    patterns = invocation_patterns(ROUTES, FALLBACK_GROUP)
    assert patterns[FALLBACK_GROUP] == [""]
    assert patterns["bookings"] == [f"{API_PREFIX}/bookings*"]
    assert patterns["stripe_webhooks"] == [f"{API_PREFIX}/webhooks*"]
