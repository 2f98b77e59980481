"""The HTTP front of the local runtime speaks API Gateway HTTP API payload 2.0 exactly as AWS does."""

from __future__ import annotations

import base64
import json
from typing import Any

from werkzeug.test import Client

from infra.local.adapter import HttpApiAdapter, build_event, event_for, to_http


def test_event_has_api_gateway_v2_shape() -> None:
    event = build_event(
        method="post",
        raw_path="/api/v1/health",
        raw_query_string="a=1&b=x%20y&a=2",
        headers=[
            ("Content-Type", "application/json"),
            ("X-Multi", "one"),
            ("x-multi", "two"),
            ("Cookie", "sid=abc; theme=dark"),
        ],
        body=b'{"k": 1}',
    )
    assert event["version"] == "2.0"
    assert event["rawPath"] == "/api/v1/health"
    assert event["rawQueryString"] == "a=1&b=x%20y&a=2"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x y"}
    assert event["headers"] == {"content-type": "application/json", "x-multi": "one,two"}
    assert event["cookies"] == ["sid=abc", "theme=dark"]
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["isBase64Encoded"] is False
    assert event["body"] == '{"k": 1}'
    assert "pathParameters" not in event


def test_binary_body_is_base64_encoded() -> None:
    payload = bytes(range(256))
    event = build_event(
        method="POST",
        raw_path="/x",
        raw_query_string="",
        headers=[("content-type", "application/octet-stream")],
        body=payload,
    )
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload


def test_matched_route_sets_route_key_and_path_parameters() -> None:
    group, event = event_for("GET", "/api/v1/health", raw_query_string="", headers=[], body=b"")
    assert group == "health"
    assert event["routeKey"] == "GET /api/v1/health"
    assert event["requestContext"]["routeKey"] == "GET /api/v1/health"


def test_unmatched_request_goes_to_fallback_with_default_route_key() -> None:
    group, event = event_for("GET", "/api/v1/nothing/here", raw_query_string="", headers=[], body=b"")
    assert group == "health"
    assert event["routeKey"] == "$default"


def test_path_parameters_are_extracted() -> None:
    from slotwise.api import routes

    table = (routes.Route("GET", "/api/v1/venues/{venueId}/rooms/{roomId}", "catalog"),)
    found = routes.match("GET", "/api/v1/venues/v%201/rooms/r-2", table)
    assert found is not None
    assert found.path_parameters == {"venueId": "v%201", "roomId": "r-2"}


def test_to_http_handles_cookies_base64_and_bare_values() -> None:
    status, headers, body = to_http(
        {
            "statusCode": 201,
            "headers": {"Location": "/x"},
            "cookies": ["a=1"],
            "body": base64.b64encode(b"\x00\x01").decode(),
            "isBase64Encoded": True,
        }
    )
    assert status == 201
    assert ("Location", "/x") in headers and ("set-cookie", "a=1") in headers
    assert body == b"\x00\x01"
    assert to_http({"ok": True}) == (200, [("content-type", "application/json")], b'{"ok": true}')


def test_wsgi_adapter_round_trip() -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    def invoke(group: str, event: dict[str, Any]) -> dict[str, Any]:
        seen.append((group, event))
        return {
            "statusCode": 202,
            "headers": {"content-type": "application/json", "x-echo": event["rawQueryString"]},
            "body": json.dumps({"body": event.get("body")}),
        }

    client = Client(HttpApiAdapter(invoke))
    client.set_cookie("c", "1")
    response = client.post("/api/v1/health?x=1", data='{"a": 1}', headers={"Content-Type": "application/json"})
    assert response.status_code == 202
    assert response.headers["x-echo"] == "x=1"
    assert response.get_json() == {"body": '{"a": 1}'}
    group, event = seen[0]
    assert group == "health"
    assert event["cookies"] == ["c=1"]
    assert event["headers"]["content-type"] == "application/json"
