"""The merged OpenAPI document describes what the API answers: a typed success for every operation, 201 for
creations, 204 without a body, and every error as the one `Problem` under application/problem+json.
(`tests/support/contract.py` checks every response of the suite against it.)"""

from __future__ import annotations

import json
from typing import Any

import pytest

from slotwise.api.docs import SPEC_PATH

SPEC: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
OPERATIONS = [
    (f"{method.upper()} {path}", operation) for path, ops in SPEC["paths"].items() for method, operation in ops.items()
]
PLATFORM = {"GET /api/v1/openapi.json", "GET /api/v1/docs", "GET /api/v1/health"}
CREATIONS = {
    "POST /api/v1/bookings",
    "POST /api/v1/bookings/recurring",
    "POST /api/v1/bookings/{bookingId}/exceptions",
    "POST /api/v1/bookings/{bookingId}/payment",
    "POST /api/v1/venues",
    "POST /api/v1/resources",
    "POST /api/v1/webhook-subscriptions",
    "POST /api/v1/auth/register",
    "POST /api/v1/resources/{resourceId}/addons",
    "POST /api/v1/bookings/{bookingId}/review",
    "PUT /api/v1/users/me/favourites/{resourceId}",
    "POST /api/v1/wallet/top-ups",
    "POST /api/v1/admin/users",
    "POST /api/v1/bookings/{bookingId}/messages",
    "POST /api/v1/organisations/{organisationId}/members",
}
NO_CONTENT = {
    "POST /api/v1/auth/logout",
    "DELETE /api/v1/venues/{venueId}",
    "DELETE /api/v1/resources/{resourceId}",
    "DELETE /api/v1/notifications/{notificationId}",
    "DELETE /api/v1/webhook-subscriptions/{subscriptionId}",
    "DELETE /api/v1/resources/{resourceId}/addons/{addonId}",
    "DELETE /api/v1/reviews/{reviewId}",
    "DELETE /api/v1/users/me/favourites/{resourceId}",
    "POST /api/v1/auth/password/set",
    "POST /api/v1/auth/password/reset",
    "DELETE /api/v1/bookings/{bookingId}/messages/{messageId}",
    "DELETE /api/v1/organisations/{organisationId}/members/{userId}",
}


def _response(response: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in response:
        found: dict[str, Any] = SPEC["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        return found
    return response


@pytest.mark.parametrize(("key", "operation"), OPERATIONS, ids=[key for key, _ in OPERATIONS])
def test_success_is_typed_with_the_right_code(key: str, operation: dict[str, Any]) -> None:
    successes = {code: r for code, r in operation["responses"].items() if code.startswith("2")}
    if key in NO_CONTENT:
        assert set(successes) == {"204"} and "content" not in successes["204"]
        return
    assert ("201" in successes) == (key in CREATIONS), sorted(successes)
    for response in successes.values():
        for media in response["content"].values():
            schema = media["schema"]
            assert "$ref" in schema or key in PLATFORM, f"{key}: a bare {schema}"


@pytest.mark.parametrize(("key", "operation"), OPERATIONS, ids=[key for key, _ in OPERATIONS])
def test_errors_are_problems(key: str, operation: dict[str, Any]) -> None:
    errors = {code: _response(r) for code, r in operation["responses"].items() if code[0] in "45"}
    if key not in PLATFORM:
        assert {"400", "401", "404", "422", "500"} <= set(errors)
    if "requestBody" in operation:
        assert {"413", "415"} <= set(errors)
    if "Permission `" in (operation.get("description") or "") or operation.get("security"):
        assert "403" in errors
    for code, response in errors.items():
        if key in PLATFORM:  # the health report's 503 is the report itself
            continue
        assert response["content"] == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }, code


def test_powertools_validation_schemas_are_gone() -> None:
    text = SPEC_PATH.read_text(encoding="utf-8")
    assert "HTTPValidationError" not in text
    problem = SPEC["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "code", "detail"} <= set(problem["required"])
    assert {"instance", "requestId", "errors", "conflicts", "retryAfterSeconds"} <= set(problem["properties"])
