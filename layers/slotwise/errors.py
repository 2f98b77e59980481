"""Domain errors. They say what went wrong in domain terms; `slotwise.api.problems` maps them to HTTP."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class SlotwiseError(Exception):
    """Base of every error the domain raises on purpose. `code` is stable and machine-readable."""

    code = "internal_error"

    def __init__(self, detail: str, *, code: str | None = None, extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.extra: dict[str, Any] = dict(extra or {})


class BadRequest(SlotwiseError):
    """The request cannot be read (malformed JSON, bad encoding)."""

    code = "bad_request"


class ValidationFailed(SlotwiseError):
    """The request was read but its content breaks a rule."""

    code = "validation_failed"


class AuthenticationRequired(SlotwiseError):
    code = "authentication_required"


class PermissionDenied(SlotwiseError):
    code = "permission_denied"


class NotFound(SlotwiseError):
    code = "not_found"


class MethodNotAllowed(SlotwiseError):
    code = "method_not_allowed"

    def __init__(self, detail: str, *, allowed: list[str]) -> None:
        super().__init__(detail, extra={"allowed": allowed})
        self.allowed = allowed


class Conflict(SlotwiseError):
    code = "conflict"


class UnsupportedMediaType(SlotwiseError):
    code = "unsupported_media_type"


class PayloadTooLarge(SlotwiseError):
    """The request body is larger than the API reads (`slotwise.api.body.MAX_BODY_BYTES`)."""

    code = "payload_too_large"


class RateLimited(SlotwiseError):
    code = "rate_limited"

    def __init__(self, detail: str, *, retry_after_seconds: int) -> None:
        super().__init__(detail, extra={"retryAfterSeconds": retry_after_seconds})
        self.retry_after_seconds = retry_after_seconds


class DependencyUnavailable(SlotwiseError):
    """A backing service (DynamoDB, EventBridge…) did not answer; the caller may retry."""

    code = "dependency_unavailable"
