"""The one place where errors become HTTP: RFC 9457 `application/problem+json` with a stable `code`.

Every function's resolver registers these handlers through `create_app`, so no route needs try/except and no
error is ever matched on its message text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from pydantic import ValidationError

from slotwise import errors
from slotwise.api import routes
from slotwise.observability import logger

PROBLEM_CONTENT_TYPE = "application/problem+json"

# Most specific first is not needed: the lookup walks each exception's MRO.
STATUS_BY_ERROR: dict[type[errors.SlotwiseError], HTTPStatus] = {
    errors.BadRequest: HTTPStatus.BAD_REQUEST,
    errors.AuthenticationRequired: HTTPStatus.UNAUTHORIZED,
    errors.PermissionDenied: HTTPStatus.FORBIDDEN,
    errors.NotFound: HTTPStatus.NOT_FOUND,
    errors.MethodNotAllowed: HTTPStatus.METHOD_NOT_ALLOWED,
    errors.Conflict: HTTPStatus.CONFLICT,
    errors.UnsupportedMediaType: HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    errors.PayloadTooLarge: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    errors.ValidationFailed: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.RateLimited: HTTPStatus.TOO_MANY_REQUESTS,
    errors.DependencyUnavailable: HTTPStatus.SERVICE_UNAVAILABLE,
}


def status_for(error: errors.SlotwiseError) -> HTTPStatus:
    for cls in type(error).__mro__:
        status = STATUS_BY_ERROR.get(cls)
        if status is not None:
            return status
    return HTTPStatus.INTERNAL_SERVER_ERROR


def problem(
    status: HTTPStatus,
    code: str,
    detail: str,
    *,
    instance: str | None = None,
    request_id: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    body: dict[str, Any] = {
        "type": f"urn:slotwise:problem:{code}",
        "title": status.phrase,
        "status": status.value,
        "code": code,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if request_id:
        body["requestId"] = request_id
    body.update(extra or {})
    # Powertools only serialises bodies it sends as application/json, so problem+json is encoded here.
    return Response(
        status_code=status.value,
        content_type=PROBLEM_CONTENT_TYPE,
        body=json.dumps(body, separators=(",", ":"), default=str),
        headers=headers or {},
    )


def _validation_errors(found: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Pydantic's error list in the problem's shape (Powertools and pydantic report the same fields)."""
    return [
        {
            "location": [str(part) for part in err.get("loc", ())],
            "message": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in found
    ]


class ProblemHandlers:
    """The handlers one resolver registers; they read the request from the resolver they serve."""

    def __init__(self, app: APIGatewayHttpResolver) -> None:
        self._app = app

    def _where(self) -> tuple[str, str | None]:
        event = self._app.current_event
        return event.raw_path, event.request_context.request_id

    def domain_error(self, exc: errors.SlotwiseError) -> Response[Any]:
        path, request_id = self._where()
        status = status_for(exc)
        headers: dict[str, str] = {}
        if isinstance(exc, errors.MethodNotAllowed):
            headers["Allow"] = ", ".join(exc.allowed)
        if isinstance(exc, errors.RateLimited):
            headers["Retry-After"] = str(exc.retry_after_seconds)
        if isinstance(exc, errors.AuthenticationRequired):
            # RFC 6750: a 401 names the scheme; a rejected token also says why, in the standard error code.
            headers["WWW-Authenticate"] = (
                'Bearer error="invalid_token"' if exc.code == "invalid_token" else 'Bearer realm="slotwise"'
            )
        if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            logger.warning("dependency failure", extra={"code": exc.code, "detail": exc.detail})
        return problem(
            status, exc.code, exc.detail, instance=path, request_id=request_id, extra=exc.extra, headers=headers
        )

    def invalid_request(self, exc: RequestValidationError) -> Response[Any]:
        found = _validation_errors(exc.errors())
        if any(err["type"] == "json_invalid" for err in found):
            path, request_id = self._where()
            return problem(
                HTTPStatus.BAD_REQUEST,
                "malformed_json",
                "The request body is not valid JSON.",
                instance=path,
                request_id=request_id,
            )
        return self._unprocessable(found)

    def invalid_model(self, exc: ValidationError) -> Response[Any]:
        """A model built inside a service from request data (query strings, headers) rejected it."""
        return self._unprocessable(_validation_errors(exc.errors()))

    def _unprocessable(self, found: list[dict[str, Any]]) -> Response[Any]:
        path, request_id = self._where()
        return problem(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            "validation_failed",
            "The request does not pass validation.",
            instance=path,
            request_id=request_id,
            extra={"errors": found},
        )

    def unsupported_content_type(self, _: RequestUnsupportedContentType) -> Response[Any]:
        return self.domain_error(errors.UnsupportedMediaType("Send the body as application/json."))

    def unknown_route(self, _: NotFoundError) -> Response[Any]:
        path, request_id = self._where()
        allowed = routes.allowed_methods(path)
        # The method is allowed but Powertools' path pattern refused a parameter (an id with `#`, NUL, `%`…):
        # no object has such an id, so the answer is 404, never a 405 that lists the very method used.
        if allowed and self._app.current_event.http_method not in allowed:
            detail = f"{self._app.current_event.http_method} is not allowed on {path}."
            return self.domain_error(errors.MethodNotAllowed(detail, allowed=allowed))
        return problem(
            HTTPStatus.NOT_FOUND,
            "route_not_found",
            f"No route matches {path}.",
            instance=path,
            request_id=request_id,
        )

    def unexpected(self, _: Exception) -> Response[Any]:
        path, request_id = self._where()
        logger.exception("unhandled error")
        return problem(
            HTTPStatus.INTERNAL_SERVER_ERROR,
            "internal_error",
            "An unexpected error occurred; it has been logged.",
            instance=path,
            request_id=request_id,
        )


def register(app: APIGatewayHttpResolver) -> None:
    """Attach the problem handlers to a resolver."""
    handlers = ProblemHandlers(app)
    app.exception_handler(errors.SlotwiseError)(handlers.domain_error)
    app.exception_handler(RequestValidationError)(handlers.invalid_request)
    app.exception_handler(RequestUnsupportedContentType)(handlers.unsupported_content_type)
    app.exception_handler(ValidationError)(handlers.invalid_model)
    app.not_found(handlers.unknown_route)
    app.exception_handler(Exception)(handlers.unexpected)
