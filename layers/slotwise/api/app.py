"""The resolver every function uses, with the same error mapping, media-type rule and handler decorators."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.api_gateway import ResponseBuilder, Route
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext

from slotwise import errors
from slotwise.api import body, ids, problems
from slotwise.api.quota import request_quota_middleware
from slotwise.data import pagination
from slotwise.identity import keys
from slotwise.observability import logger, metrics

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Routes name it in `security=` (BEARER); the merged OpenAPI document carries it from every function's schema.
BEARER_SCHEME = "bearerAuth"
BEARER: list[dict[str, list[str]]] = [{BEARER_SCHEME: []}]
# Plain data, validated into Powertools' `HTTPBearer` model only when a document is generated: importing its OpenAPI
# models module builds several hundred pydantic models, the largest single cost of a function's cold start.
SECURITY_SCHEMES = {
    BEARER_SCHEME: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token from POST /api/v1/auth/login (or the configured OIDC provider).",
    }
}


# Query parameters a route reads from the event instead of declaring them with `Query()` (by route path).
UNDECLARED_QUERY_PARAMETERS: dict[str, frozenset[str]] = {"/api/v1/docs": frozenset({"format"})}


def unknown_query_parameters(route: Route, query: Mapping[str, str] | None) -> list[str]:
    """The query parameters the route does not declare (its Powertools dependant's query parameters, by alias)."""
    if not query:
        return []
    declared = {param.alias for param in route.dependant.query_params}
    declared |= UNDECLARED_QUERY_PARAMETERS.get(route.path, frozenset())
    return sorted(name for name in query if name not in declared)


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json"


def unsupported_media_type(event: Mapping[str, Any]) -> errors.UnsupportedMediaType | None:
    """A body that is not JSON, on a method that takes one."""
    if not _has_body(event):
        return None
    content_type = (event.get("headers") or {}).get("content-type", "")
    if _is_json(content_type):
        return None
    return errors.UnsupportedMediaType(f"Send the body as application/json (got {content_type or 'no content-type'}).")


_this_request = threading.local()


class SlotwiseResolver(APIGatewayHttpResolver):
    """Powertools' HTTP API resolver with the request rules that run before its validation, in this order: bodies
    are JSON (else 415); path ids are ids (`slotwise.api.ids`, else the missing object's 404); JSON that Powertools
    would choke on is refused as a problem (`slotwise.api.body`); repeated query parameters are joined as API
    Gateway joins them; and, once the route is known, query parameters it does not declare are 400.

    Request validation is the first middleware Powertools runs, so a form-encoded body would otherwise be
    reported as a 422 about missing fields instead of the real problem, and a body that is not UTF-8 as a 500.
    `_call_route` overrides a private Powertools method (pinned in pyproject.toml; tests/unit/api covers it).
    """

    def __init__(self, *, max_body_bytes: int | None = body.MAX_BODY_BYTES, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_body_bytes = max_body_bytes
        # Whether the per-caller request quota runs (429): the OpenAPI document says so (`infra.openapi`).
        self.request_quota = False

    # Powertools keeps the request being resolved on the `BaseRouter` class, shared by every resolver in the process:
    # two requests served at once by threads of one process (the local runtime, threaded tests) would read each
    # other's event, caller included. Each thread reads its own here (Lambda serves one request at a time anyway).
    @property  # type: ignore[override]
    def current_event(self) -> APIGatewayProxyEventV2:
        event: APIGatewayProxyEventV2 = _this_request.event
        return event

    @current_event.setter
    def current_event(self, value: APIGatewayProxyEventV2) -> None:
        _this_request.event = value

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        try:
            event = self._admitted(event)
        except errors.SlotwiseError as error:
            return self._refusal(event, error)
        self.current_event = APIGatewayProxyEventV2(dict(event))
        return super().resolve(event, context)

    def _admitted(self, event: Mapping[str, Any]) -> Mapping[str, Any]:
        error = unsupported_media_type(event)
        if error is not None:
            raise error
        ids.check_path(event.get("pathParameters"))
        headers = event.get("headers") or {}
        if "content-type" in headers:
            # Media types are case-insensitive (RFC 9110); Powertools compares them case-sensitively.
            event = {**event, "headers": {**headers, "content-type": headers["content-type"].lower()}}
        if self.max_body_bytes is not None and _has_body(event):
            event = body.checked(event, max_bytes=self.max_body_bytes)
        return _repeats_joined(event)

    def _call_route(self, route: Route, route_arguments: dict[str, str]) -> ResponseBuilder[Any]:
        """Refuse query parameters the route does not take (400 `unknown_query_parameter`), before validation."""
        # Powertools routes an unknown path through here too, on a made-up route: that stays a 404 (or 405).
        declared = any(known is route for known in (*self._static_routes, *self._dynamic_routes))
        unknown = unknown_query_parameters(route, self.current_event.query_string_parameters) if declared else []
        if unknown:
            error = errors.BadRequest(
                f"Unknown query parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}.",
                code="unknown_query_parameter",
                extra={"parameters": unknown},
            )
            refused = self._call_exception_handler(error, route)
            if refused is not None:
                return refused
        return super()._call_route(route, route_arguments)

    @staticmethod
    def _refusal(event: Mapping[str, Any], error: errors.SlotwiseError) -> dict[str, Any]:
        response = problems.problem(
            problems.status_for(error),
            error.code,
            error.detail,
            instance=event.get("rawPath"),
            request_id=event.get("requestContext", {}).get("requestId"),
        )
        return {
            "statusCode": response.status_code,
            "headers": {name: str(value) for name, value in response.headers.items()},
            "body": response.body,
            "isBase64Encoded": False,
        }


def _repeats_joined(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """`a=x&a=y` read as `a=x,y`, as API Gateway already joins them in `queryStringParameters`: Powertools reads
    repeats from `rawQueryString` and would hand a scalar parameter a list (a 422), so a list filter such as
    `amenities` takes both spellings, and a repeated scalar is refused by its own validation."""
    raw = event.get("rawQueryString") or ""
    if "&" not in raw:
        return event
    pairs = parse_qsl(raw, keep_blank_values=True)
    joined: dict[str, str] = {}
    for name, value in pairs:
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    if len(joined) == len(pairs):
        return event
    return {**event, "rawQueryString": urlencode(joined)}


def _has_body(event: Mapping[str, Any]) -> bool:
    method = event.get("requestContext", {}).get("http", {}).get("method", "")
    return method in _BODY_METHODS and bool(event.get("body"))


def create_app(
    *,
    request_quota: bool = True,
    writes_in_transaction: bool = False,
    max_body_bytes: int | None = body.MAX_BODY_BYTES,
) -> SlotwiseResolver:
    """A resolver with validation on, problem+json errors and (unless turned off) the per-caller request quota
    (`writes_in_transaction`: see `slotwise.api.quota.request_quota_middleware`). `max_body_bytes=None` leaves
    the body to the route (a signed webhook, whose raw bytes are the authentication) instead of the JSON gate."""
    app = SlotwiseResolver(enable_validation=True, max_body_bytes=max_body_bytes)
    # Cursors are signed with a key every instance of every function shares (slotwise.data.pagination).
    pagination.use_secret(keys.signing_secret)
    app.configure_openapi(security_schemes=SECURITY_SCHEMES)  # type: ignore[arg-type]
    problems.register(app)
    if request_quota:
        app.use([request_quota_middleware(writes_in_transaction=writes_in_transaction)])
        app.request_quota = True
    return app


LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def lambda_entrypoint(app: APIGatewayHttpResolver) -> LambdaHandler:
    """The fixed decorator stack of every HTTP function: correlation id from the request, EMF metrics."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(event, context)

    return cast(LambdaHandler, handler)
