"""Requests at the edges: bodies that Powertools' validation would answer with a 500 are refused as 4xx problems before
any route runs (through the real handlers, nothing written), and ids the path pattern refuses are 404."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest

from infra.local.adapter import build_event
from slotwise.api import body as gate
from tests.support.catalog import make_resource
from tests.support.http import call

VALID = '{"resourceId": "%s", "startTime": "2027-03-01T09:00:00+00:00", "endTime": "2027-03-01T10:00:00+00:00"%s}'


def item_count(table: str) -> int:
    return len(boto3.client("dynamodb").scan(TableName=table)["Items"])


@pytest.fixture
def room(table: str) -> Any:
    return make_resource(capacity=1)


def post_booking(raw: bytes) -> Any:
    return call("POST", "/api/v1/bookings", body=raw, user="cust", role="customer")


@pytest.mark.parametrize(
    ("extra", "status", "code"),
    [
        (', "metadata": ' + "[" * 1000 + "]" * 1000, 400, "json_too_deep"),
        (', "metadata": ' + '{"a":' * 33 + "1" + "}" * 33, 400, "json_too_deep"),
        (', "guests": ' + "9" * 5000, 422, "number_out_of_range"),
        (', "metadata": {"n": 1e400}', 422, "number_out_of_range"),
        (', "metadata": {"n": 1e-200}', 422, "number_out_of_range"),
        (', "metadata": {"n": 0.12345678901234567890123456789012345678901}', 422, "number_out_of_range"),
        (', "metadata": {"n": ' + str(10**50) + "}", 422, "number_out_of_range"),
        (', "metadata": {"n": NaN}', 400, "malformed_json"),
        (', "metadata": {"n": -Infinity}', 400, "malformed_json"),
        (', "metadata": {"n": 1,}', 400, "malformed_json"),
    ],
    ids=[
        "1000-deep",
        "33-deep",
        "5000-digit-int",
        "1e400",
        "1e-200",
        "41-digits",
        "10**50",
        "NaN",
        "-Infinity",
        "trailing-comma",
    ],
)
def test_json_beyond_the_limits_is_a_problem_and_writes_nothing(
    table: str, room: Any, extra: str, status: int, code: str
) -> None:
    before = item_count(table)
    response = post_booking((VALID % (room.id, extra)).encode())
    assert (response.status, response.code) == (status, code), response.body
    assert response.headers["content-type"] == "application/problem+json"
    assert item_count(table) == before


def test_a_body_that_is_not_utf8_is_400_not_500(table: str, room: Any) -> None:
    before = item_count(table)
    for raw in (b"\xff", b'{"title": "caf\xe9"}', b"\xc0\xaf"):
        response = post_booking(raw)
        assert (response.status, response.code) == (400, "malformed_body"), (raw, response.body)
        assert response.headers["content-type"] == "application/problem+json"
    assert item_count(table) == before


def test_a_body_over_the_size_limit_is_413(table: str, room: Any) -> None:
    padding = "x" * gate.MAX_BODY_BYTES
    response = post_booking((VALID % (room.id, f', "title": "{padding}"')).encode())
    assert (response.status, response.code) == (413, "payload_too_large"), response.body


def test_the_limits_themselves_are_accepted_by_the_gate() -> None:
    nested: Any = 1
    for _ in range(gate.MAX_DEPTH - 1):
        nested = {"a": nested}
    text = json.dumps(
        {"n": nested, "big": gate.MAX_INTEGER, "small": -gate.MAX_INTEGER, "x": 1.5e125, "y": 0.0, "z": 1e-130}
    )
    event = build_event(method="POST", raw_path="/api/v1/bookings", raw_query_string="", headers=[], body=text.encode())
    assert gate.checked(event) is event


def test_a_base64_body_that_passes_is_handed_on_as_the_same_text() -> None:
    text = '{"title": "Café ☕"}'
    event = {"body": base64.b64encode(text.encode()).decode(), "isBase64Encoded": True}
    assert gate.checked(event) == {"body": text, "isBase64Encoded": False}


def test_a_body_that_is_valid_still_books(table: str, room: Any) -> None:
    response = post_booking((VALID % (room.id, ', "metadata": {"n": 12.5, "k": -3}')).encode())
    assert response.status == 201, response.body


@pytest.mark.parametrize("raw_id", ["BOOKING%23x", "x%00y", "%C0%AF", "%E2%80%AEabc", "a%2Fb"])
def test_an_id_the_path_pattern_refuses_is_404_not_405(table: str, raw_id: str) -> None:
    response = call("GET", f"/api/v1/bookings/{raw_id}", user="cust", role="customer")
    assert response.status == 404, response.body
    assert response.headers["content-type"] == "application/problem+json"


def test_a_method_no_route_takes_is_still_405_with_allow(table: str) -> None:
    response = call("PATCH", "/api/v1/bookings/abc", user="cust", role="customer")
    assert response.status == 405
    assert response.headers["allow"] == "DELETE, GET, PUT"
