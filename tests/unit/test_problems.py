"""Every failure is RFC 9457 problem+json with a stable code, mapped in one place."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from events import load
from slotwise import errors
from slotwise.api.app import create_app
from slotwise.api.problems import STATUS_BY_ERROR


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    seats: int


def make_app() -> Any:
    app = create_app()

    @app.post("/api/v1/health")  # a known path, so 404/405 logic has a real route to compare with
    def echo(body: Body) -> dict[str, Any]:
        return body.model_dump()

    @app.get("/api/v1/health")
    def fails() -> dict[str, Any]:
        raise RuntimeError("boom: secret internals")

    @app.get("/api/v1/openapi.json")
    def raises(kind: str = "") -> dict[str, Any]:  # a declared query parameter (undeclared ones are a 400)
        error_class = {cls.__name__: cls for cls in STATUS_BY_ERROR}[kind]
        if error_class is errors.MethodNotAllowed:
            raise errors.MethodNotAllowed("nope", allowed=["GET"])
        if error_class is errors.RateLimited:
            raise errors.RateLimited("slow down", retry_after_seconds=7)
        raise error_class("it went wrong", extra={"hint": 1})

    return app


def call(
    method: str, path: str, *, body: str | None = None, query: str = "", content_type: str = "application/json"
) -> tuple[int, dict[str, str], dict[str, Any]]:
    event = load("http/health_get")
    event["rawPath"] = path
    event["requestContext"]["http"].update(method=method, path=path)
    event["rawQueryString"] = query
    if query:
        event["queryStringParameters"] = dict(part.split("=") for part in query.split("&"))
    if body is not None:
        event["body"] = body
        event["headers"]["content-type"] = content_type
    response = make_app().resolve(event, None)
    headers = {k.lower(): v for k, v in response["headers"].items()}
    return response["statusCode"], headers, json.loads(response["body"]) if response["body"] else {}


@pytest.mark.parametrize(("error_name", "status"), [(cls.__name__, s.value) for cls, s in STATUS_BY_ERROR.items()])
def test_domain_errors_map_to_status_and_problem(error_name: str, status: int) -> None:
    code, headers, body = call("GET", "/api/v1/openapi.json", query=f"kind={error_name}")
    assert code == status
    assert headers["content-type"] == "application/problem+json"
    assert body["status"] == status
    assert body["code"] and body["type"] == f"urn:slotwise:problem:{body['code']}"
    assert body["instance"] == "/api/v1/openapi.json"
    assert body["requestId"] == "Jk2xbg1LIAMEVzQ="


def test_rate_limited_has_retry_after_and_405_has_allow() -> None:
    _, headers, _ = call("GET", "/api/v1/openapi.json", query="kind=RateLimited")
    assert headers["retry-after"] == "7"
    _, headers, _ = call("GET", "/api/v1/openapi.json", query="kind=MethodNotAllowed")
    assert headers["allow"] == "GET"


def test_subclass_of_domain_error_maps_through_its_base() -> None:
    class SlotTaken(errors.Conflict):
        code = "slot_taken"

    from slotwise.api.problems import status_for

    assert status_for(SlotTaken("x")) == 409


def test_unknown_route_is_404_problem() -> None:
    code, headers, body = call("GET", "/api/v1/nothing")
    assert (code, body["code"]) == (404, "route_not_found")
    assert headers["content-type"] == "application/problem+json"


def test_wrong_method_is_405_with_allow() -> None:
    code, headers, body = call("DELETE", "/api/v1/health")
    assert (code, body["code"]) == (405, "method_not_allowed")
    assert headers["allow"] == "GET"


def test_unknown_field_is_422_naming_it() -> None:
    code, _, body = call("POST", "/api/v1/health", body='{"name": "a", "seats": 2, "price": 0}')
    assert code == 422 and body["code"] == "validation_failed"
    assert any(err["location"][-1] == "price" and err["type"] == "extra_forbidden" for err in body["errors"])


def test_wrong_type_is_422() -> None:
    code, _, body = call("POST", "/api/v1/health", body='{"name": "a", "seats": "many"}')
    assert code == 422 and body["errors"][0]["location"][-1] == "seats"


def test_malformed_json_is_400() -> None:
    code, _, body = call("POST", "/api/v1/health", body='{"name": ')
    assert (code, body["code"]) == (400, "malformed_json")


def test_non_json_body_is_415() -> None:
    code, _, body = call("POST", "/api/v1/health", body="name=a", content_type="application/x-www-form-urlencoded")
    assert (code, body["code"]) == (415, "unsupported_media_type")


def test_json_with_charset_is_accepted() -> None:
    code, _, _ = call(
        "POST", "/api/v1/health", body='{"name": "a", "seats": 2}', content_type="Application/JSON; charset=utf-8"
    )
    assert code == 200


def test_unexpected_error_is_500_without_internals() -> None:
    code, _, body = call("GET", "/api/v1/health")
    assert (code, body["code"]) == (500, "internal_error")
    assert "secret" not in json.dumps(body)
