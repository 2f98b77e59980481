"""The api concern: the public HTTP API, one API Gateway route per entry of the route table, everything else to
the fallback group; per-route throttling, JSON access logs, CORS for the configured origins, and in external-OIDC
mode a JWT authorizer on every route but the public ones."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import jsii
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.components.auth import OidcSettings
from infra.components.nag import acknowledge
from slotwise.api.routes import API_PREFIX, Route

DEFAULT_ROUTE_KEY = "$default"


@dataclass(frozen=True)
class Throttle:
    """Steady requests per second and the burst above it, per route across all clients (API Gateway's model)."""

    rate: float
    burst: int


# Stage default, for every route not listed below.
THROTTLE = Throttle(rate=100, burst=200)
# Writes that claim inventory cost a DynamoDB transaction each, a recurring series up to one per occurrence (366
# at most); lower limits keep one client's loop from starving everyone's reads and the table's hot slot keys.
ROUTE_THROTTLES: Mapping[str, Throttle] = {
    f"POST {API_PREFIX}/bookings": Throttle(rate=20, burst=40),
    f"POST {API_PREFIX}/bookings/recurring": Throttle(rate=2, burst=5),
}
# Routes authenticated by a signature over their body instead of a token: Stripe sends no bearer token, so a JWT
# authorizer would refuse every event; the function verifies Stripe-Signature (slotwise.payments.signatures).
SIGNED_ROUTES = frozenset({f"POST {API_PREFIX}/webhooks/stripe"})
# Routes the gateway never asks a token for, even in external-OIDC mode: load balancers and uptime checks probe
# health, the API description is public, and signed webhooks carry their own proof. `$default` (unknown paths ->
# problem+json 404/405) is open as well.
PUBLIC_ROUTES = (
    frozenset({f"GET {API_PREFIX}/health", f"GET {API_PREFIX}/openapi.json", f"GET {API_PREFIX}/docs"}) | SIGNED_ROUTES
)

# Request headers the API reads and response headers it sets that a browser would otherwise hide.
CORS_ALLOW_HEADERS = ["authorization", "content-type", "idempotency-key", "if-match"]
CORS_EXPOSE_HEADERS = ["etag", "idempotent-replayed", "location", "retry-after"]
CORS_METHODS = [
    apigwv2.CorsHttpMethod.GET,
    apigwv2.CorsHttpMethod.POST,
    apigwv2.CorsHttpMethod.PUT,
    apigwv2.CorsHttpMethod.DELETE,
]
CORS_MAX_AGE = Duration.hours(1)

# HTTP API context variables only (several REST API ones, e.g. $context.identity.caller, are empty here).
_ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "routeKey": "$context.routeKey",
        "method": "$context.httpMethod",
        "path": "$context.path",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "responseLatency": "$context.responseLatency",
        "integrationLatency": "$context.integrationLatency",
        "integrationError": "$context.integrationErrorMessage",
        "authorizerError": "$context.authorizer.error",
        "error": "$context.error.message",
    },
    separators=(",", ":"),
)

_GATEWAY_OPEN = (
    "Without the external-OIDC context the gateway does not authenticate: the function identifies the caller "
    "itself (slotwise.api.caller) and applies the per-role rules. Deploy with -c oidcIssuer=... -c "
    "oidcAudience=... -c oidcJwksUrl=... to require a JWT at the gateway (docs/deploy.md)."
)
_PUBLIC_ROUTE = (
    "Public by design in every mode: health probes, the OpenAPI document and Swagger UI carry no customer data "
    "and must answer load balancers and readers without a token."
)
_SIGNED_ROUTE = (
    "Stripe's webhook calls carry no bearer token: the function accepts only a body signed with the endpoint's "
    "secret (HMAC-SHA256 in Stripe-Signature, at most 300 s old) and refuses anything else (400) before parsing it."
)
_DEFAULT_ROUTE = (
    "The $default route only sends unknown paths to the fallback function, which answers the application's "
    "problem+json 404/405 and reaches no data; an authorizer would turn those into bare 401s."
)


class SlotwiseHttpApi(Construct):
    """Routes are declared explicitly rather than as one proxy so API Gateway metrics and logs are per route."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api_name: str,
        routes: tuple[Route, ...],
        functions: Mapping[str, lambda_.IFunction],
        fallback_group: str,
        removal_policy: RemovalPolicy,
        cors_origins: Sequence[str] = (),
        oidc: OidcSettings | None = None,
        route_throttles: Mapping[str, Throttle] = ROUTE_THROTTLES,
    ) -> None:
        super().__init__(scope, construct_id)
        _check_throttles(routes, route_throttles)
        # One integration per group: API Gateway shares it between that group's routes. And one invoke permission per
        # integration (any route of this API), not one per route: a permission per route was 111 of the stack's
        # 500-resource limit, and each new route took two resources. API Gateway still invokes a function only for
        # the routes mapped to its integration.
        self._integrations = {
            group: integrations.HttpLambdaIntegration(f"{group}-integration", fn, scope_permission_to_route=False)
            for group, fn in functions.items()
        }
        self.api = apigwv2.HttpApi(
            self,
            "Api",
            api_name=api_name,
            # Unknown paths must still reach the app so clients get its problem+json 404/405, not API Gateway's.
            default_integration=self._integration(fallback_group),
            # The auto-created stage cannot be throttled or given access logs.
            create_default_stage=False,
            # API Gateway answers preflight itself (before any authorizer) when CORS is configured.
            cors_preflight=cors_options(cors_origins),
        )
        self.authorizer = (
            authorizers.HttpJwtAuthorizer(
                # The issuer and audience the functions check too (infra.components.auth): one source for both.
                "OidcAuthorizer",
                oidc.issuer,
                jwt_audience=oidc.audiences,
                authorizer_name="oidc",
            )
            if oidc is not None
            else None
        )
        self.routes: dict[str, apigwv2.HttpRoute] = {}
        for route in routes:
            protected = self.authorizer is not None and route.route_key not in PUBLIC_ROUTES
            (added,) = self.api.add_routes(
                path=route.path,
                methods=[apigwv2.HttpMethod[route.method]],
                integration=self._integration(route.group),
                authorizer=self.authorizer if protected else None,
            )
            self.routes[route.route_key] = added
            if not protected:
                reason = _open_route_reason(route.route_key)
                acknowledge(added, "AwsSolutions-APIG4", reason)
        default_route = self.api.node.try_find_child("DefaultRoute")
        if default_route is not None:
            acknowledge(default_route, "AwsSolutions-APIG4", _DEFAULT_ROUTE)

        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=removal_policy
        )
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            stage_name=DEFAULT_ROUTE_KEY,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=THROTTLE.rate, burst_limit=THROTTLE.burst),
            access_log_settings=AccessLogSettings(self.access_logs),
        )
        self._throttle_routes(route_throttles)

    @property
    def url(self) -> str:
        url = self.stage.url
        assert url is not None, "a $default stage always has a URL"
        return url

    def _integration(self, group: str) -> integrations.HttpLambdaIntegration:
        try:
            return self._integrations[group]
        except KeyError:
            raise ValueError(f"no function for group {group!r}") from None

    def _throttle_routes(self, route_throttles: Mapping[str, Throttle]) -> None:
        """Per-route limits: the L2 stage only sets the default, so they go on the CloudFormation stage."""
        if not route_throttles:
            return
        stage = self.stage.node.default_child
        assert isinstance(stage, apigwv2.CfnStage)
        stage.route_settings = {
            key: {"ThrottlingRateLimit": limit.rate, "ThrottlingBurstLimit": limit.burst}
            for key, limit in sorted(route_throttles.items())
        }
        # A stage's RouteSettings may only name routes that already exist.
        for key in route_throttles:
            stage.node.add_dependency(self.routes[key])


def _open_route_reason(route_key: str) -> str:
    if route_key in SIGNED_ROUTES:
        return _SIGNED_ROUTE
    return _PUBLIC_ROUTE if route_key in PUBLIC_ROUTES else _GATEWAY_OPEN


def cors_options(origins: Sequence[str]) -> apigwv2.CorsPreflightOptions | None:
    """CORS for these browser origins only; none configured (the default) means no CORS headers at all."""
    if not origins:
        return None
    for origin in origins:
        if origin != "*" and not origin.startswith(("https://", "http://")):
            raise ValueError(f"CORS origin {origin!r} is not an origin (https://host[:port]) or '*'")
    return apigwv2.CorsPreflightOptions(
        allow_origins=list(origins),
        allow_methods=CORS_METHODS,
        allow_headers=CORS_ALLOW_HEADERS,
        expose_headers=CORS_EXPOSE_HEADERS,
        max_age=CORS_MAX_AGE,
    )


def _check_throttles(routes: tuple[Route, ...], route_throttles: Mapping[str, Throttle]) -> None:
    unknown = sorted(set(route_throttles) - {route.route_key for route in routes})
    if unknown:
        raise ValueError(f"throttles for routes missing from the route table: {unknown}")
    looser = sorted(k for k, t in route_throttles.items() if t.rate > THROTTLE.rate or t.burst > THROTTLE.burst)
    if looser:
        raise ValueError(f"route throttles above the stage default {THROTTLE}: {looser}")


@jsii.implements(apigwv2.IAccessLogSettings)
class AccessLogSettings:
    """JSON access logs to a log group.

    `IAccessLogSettings` is a jsii interface, not a struct: a plain dict (as in the CDK docs) fails to deserialize.
    """

    def __init__(self, log_group: logs.ILogGroup, log_format: str = _ACCESS_LOG_FORMAT) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)
        self._format = log_format

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return apigw.AccessLogFormat.custom(self._format)
