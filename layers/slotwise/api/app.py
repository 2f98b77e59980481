"""The resolver every function uses, with the same error mapping, media-type rule and handler decorators."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from slotwise import errors
from slotwise.api import problems
from slotwise.api.quota import request_quota_middleware
from slotwise.observability import logger, metrics

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Routes name it in `security=` (BEARER); the merged OpenAPI document carries it from every function's schema.
BEARER_SCHEME = "bearerAuth"
BEARER: list[dict[str, list[str]]] = [{BEARER_SCHEME: []}]
SECURITY_SCHEMES = {
    BEARER_SCHEME: HTTPBearer(
        bearerFormat="JWT",
        description="An access token from POST /api/v1/auth/login (or the configured OIDC provider).",
    )
}


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json"


def unsupported_media_type(event: Mapping[str, Any]) -> errors.UnsupportedMediaType | None:
    """A body that is not JSON, on a method that takes one."""
    method = event.get("requestContext", {}).get("http", {}).get("method", "")
    if method not in _BODY_METHODS or not event.get("body"):
        return None
    content_type = (event.get("headers") or {}).get("content-type", "")
    if _is_json(content_type):
        return None
    return errors.UnsupportedMediaType(f"Send the body as application/json (got {content_type or 'no content-type'}).")


class SlotwiseResolver(APIGatewayHttpResolver):
    """Powertools' HTTP API resolver with one rule added in front of validation: bodies are JSON (else 415).

    Request validation is the first middleware Powertools runs, so a form-encoded body would otherwise be
    reported as a 422 about missing fields instead of the real problem.
    """

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        error = unsupported_media_type(event)
        if error is None:
            headers = event.get("headers") or {}
            if "content-type" in headers:
                # Media types are case-insensitive (RFC 9110); Powertools compares them case-sensitively.
                event = {**event, "headers": {**headers, "content-type": headers["content-type"].lower()}}
            return super().resolve(event, context)
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


def create_app(*, request_quota: bool = True, writes_in_transaction: bool = False) -> SlotwiseResolver:
    """A resolver with validation on, problem+json errors and (unless turned off) the per-caller request quota
    (`writes_in_transaction`: see `slotwise.api.quota.request_quota_middleware`)."""
    app = SlotwiseResolver(enable_validation=True)
    app.configure_openapi(security_schemes=SECURITY_SCHEMES)  # type: ignore[arg-type]
    problems.register(app)
    if request_quota:
        app.use([request_quota_middleware(writes_in_transaction=writes_in_transaction)])
    return app


LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def lambda_entrypoint(app: APIGatewayHttpResolver) -> LambdaHandler:
    """The fixed decorator stack of every HTTP function: correlation id from the request, EMF metrics."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(event, context)

    return cast(LambdaHandler, handler)
