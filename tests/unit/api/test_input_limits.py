"""Bad input is a clean 4xx problem, never a 500, never accepted when wrong and never a partial write: dates beyond
the years the engine handles, periods that end before they start, ids that cannot exist, idempotency keys, loose
types, control characters and time zones that are not zones (through the real handlers, moto)."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from slotwise import aws
from slotwise.booking import claims
from slotwise.models import iso
from slotwise.transaction import InvalidWrite, Tag, Transaction
from tests.support.catalog import make_resource
from tests.support.http import ApiResponse, call

START = datetime(2027, 3, 1, 9, tzinfo=UTC)
FAR = "9999-12-31T22:00:00Z"
LONG_ID = "a" * 10_000
CUSTOMER = {"user": "cust", "role": "customer"}
ADMIN = {"user": "root", "role": "admin"}
VENDOR = {"user": "vendor-a", "role": "vendor"}


def item_count(table: str) -> int:
    return len(boto3.client("dynamodb").scan(TableName=table)["Items"])


def problem(response: ApiResponse, status: int, code: str | None = None) -> None:
    assert response.status == status, response.body
    assert response.headers["content-type"] == "application/problem+json"
    if code is not None:
        assert response.code == code, response.body


@pytest.fixture
def room(table: str) -> Any:
    return make_resource(capacity=2)


def booking(room: Any, **change: Any) -> dict[str, Any]:
    return {"resourceId": room.id, "startTime": iso(START), "endTime": iso(START + timedelta(hours=1)), **change}


# --- 1. dates beyond the years the engine handles ------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"startTime": FAR, "endTime": FAR},
        {"startTime": "2027-03-01T09:00:00Z", "endTime": FAR},
        {"startTime": "1500-01-01T09:00:00Z", "endTime": "1500-01-01T10:00:00Z"},
        {"startTime": None, "endTime": None, "checkIn": "9999-12-30", "checkOut": "9999-12-31"},
    ],
    ids=["both-far", "end-far", "long-ago", "nights-far"],
)
def test_a_booking_beyond_the_years_is_422_and_writes_nothing(table: str, room: Any, change: dict[str, Any]) -> None:
    before = item_count(table)
    body = {k: v for k, v in booking(room, **change).items() if v is not None}
    # The model refuses it (`validation_failed`), before the booking rules (a horizon) or the engine see it.
    problem(call("POST", "/api/v1/bookings", body=body, **CUSTOMER), 422, "validation_failed")
    assert item_count(table) == before


def test_far_dates_in_other_bodies_are_422(table: str, room: Any) -> None:
    before = item_count(table)
    far_window = {"startTime": FAR, "endTime": FAR}
    problem(call("POST", "/api/v1/availability/bulk", body={"resourceId": room.id, "timeSlots": [far_window]}), 422)
    recurring = booking(room, recurrenceRule="FREQ=DAILY;COUNT=2", **far_window)
    problem(call("POST", "/api/v1/bookings/recurring", body=recurring, **CUSTOMER), 422)
    venue = call(
        "POST", "/api/v1/venues", body={"name": "V", "city": "Lisbon", "timezone": "Europe/Lisbon"}, **VENDOR
    ).body
    resource = {
        "venueId": venue["id"],
        "name": "Flight",
        "type": "seat_pool",
        "capacity": 10,
        "policy": {"unit": "fixed", "fixedStart": FAR, "fixedEnd": FAR},
        "pricing": {"currency": "EUR", "unitPrice": 100},
    }
    after_venue = item_count(table)
    problem(call("POST", "/api/v1/resources", body=resource, **VENDOR), 422)
    blackout = {**resource, "policy": {"unit": "minutes", "granuleMinutes": 30, "blackoutDates": ["9999-12-31"]}}
    problem(call("POST", "/api/v1/resources", body=blackout, **VENDOR), 422)
    assert item_count(table) == after_venue > before


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/v1/bookings", {"from": FAR}),
        ("/api/v1/bookings", {"to": FAR}),
        ("/api/v1/payments", {"from": FAR}),
        ("/api/v1/admin/audit", {"target": "booking:x", "to": FAR}),
        ("/api/v1/resources", {"availableFrom": FAR, "availableTo": FAR}),
        ("/api/v1/availability", {"startTime": FAR, "endTime": FAR}),
        ("/api/v1/availability", {"checkIn": "9999-12-30", "checkOut": "9999-12-31"}),
        ("/api/v1/conflicts", {"startTime": FAR, "endTime": FAR}),
        ("/api/v1/resources/{room}/slots", {"from": FAR, "to": FAR}),
    ],
)
def test_far_dates_in_queries_are_422(table: str, room: Any, path: str, query: dict[str, str]) -> None:
    if path.endswith(("availability", "conflicts")):
        query = {"resourceId": room.id, **query}
    problem(call("GET", path.format(room=room.id), query=query, **ADMIN), 422, "validation_failed")


# --- 2. recurrence rules that run past the years -------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule", ["FREQ=DAILY;UNTIL=99991231T000000Z", "FREQ=DAILY;UNTIL=99991231", "FREQ=MONTHLY;INTERVAL=366;COUNT=300"]
)
def test_a_rule_past_the_years_is_422(table: str, room: Any, rule: str) -> None:
    before = item_count(table)
    problem(call("POST", "/api/v1/bookings/recurring", body=booking(room, recurrenceRule=rule), **CUSTOMER), 422)
    assert item_count(table) == before
    window = {"startTime": iso(START), "endTime": iso(START + timedelta(hours=1))}
    query = {"resourceId": room.id, "recurrenceRule": rule, **window}
    problem(call("GET", "/api/v1/conflicts", query=query, **CUSTOMER), 422)


# --- 3. periods that end before they start -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/v1/bookings", {"from": "2030-01-01T00:00:00Z", "to": "2020-01-01T00:00:00Z"}),
        ("/api/v1/payments", {"from": "2030-01-01T00:00:00Z", "to": "2020-01-01T00:00:00Z"}),
        ("/api/v1/admin/audit", {"target": "booking:x", "from": "2030-01-01T00:00:00Z", "to": "2020-01-01T00:00:00Z"}),
        ("/api/v1/resources", {"availableFrom": "2030-01-01T00:00:00Z", "availableTo": "2020-01-01T00:00:00Z"}),
        ("/api/v1/resources/{room}/slots", {"from": "2030-01-01T00:00:00Z", "to": "2020-01-01T00:00:00Z"}),
    ],
)
def test_a_period_that_ends_before_it_starts_is_422(table: str, room: Any, path: str, query: dict[str, str]) -> None:
    problem(call("GET", path.format(room=room.id), query=query, **ADMIN), 422, "end_before_start")


# --- 5. ids that cannot exist ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/api/v1/bookings/{id}", "booking_not_found"),
        ("/api/v1/bookings/by-reference/{id}", "booking_not_found"),
        ("/api/v1/resources/{id}", "resource_not_found"),
        ("/api/v1/resources/{id}/slots?from=2027-01-01T00:00:00Z&to=2027-01-02T00:00:00Z", "resource_not_found"),
        ("/api/v1/venues/{id}", "venue_not_found"),
        ("/api/v1/payments/{id}", "payment_not_found"),
        ("/api/v1/webhook-subscriptions/{id}", "webhook_subscription_not_found"),
    ],
)
@pytest.mark.parametrize("bad", [LONG_ID, "a*b", "a b"], ids=["10000-chars", "star", "space"])
def test_a_path_id_that_cannot_exist_is_the_missing_ones_404(
    table: str, monkeypatch: pytest.MonkeyPatch, path: str, code: str, bad: str
) -> None:
    def no_aws() -> Any:
        raise AssertionError("an id that cannot exist reached DynamoDB")

    monkeypatch.setattr(aws, "dynamodb", no_aws)
    target, _, raw_query = path.partition("?")
    query = dict(part.split("=") for part in raw_query.split("&")) if raw_query else None
    problem(call("GET", target.format(id=bad), query=query, **ADMIN), 404, code)


def test_other_path_ids_that_cannot_exist_are_404(table: str) -> None:
    problem(call("POST", f"/api/v1/admin/users/{LONG_ID}/approve", **ADMIN), 404, "user_not_found")
    problem(call("POST", f"/api/v1/notifications/{LONG_ID}/read", **CUSTOMER), 404, "notification_not_found")
    problem(call("POST", f"/api/v1/bookings/{LONG_ID}/cancel", body={}, **CUSTOMER), 404, "booking_not_found")


def test_ids_in_bodies_and_queries_are_checked(table: str, room: Any) -> None:
    before = item_count(table)
    for bad in (LONG_ID, "a*b", ""):
        problem(call("POST", "/api/v1/bookings", body=booking(room, resourceId=bad), **CUSTOMER), 422)
        problem(call("POST", "/api/v1/bookings", body=booking(room, customerId=bad), **ADMIN), 422)
    problem(call("GET", "/api/v1/bookings", query={"resourceId": LONG_ID}, **ADMIN), 422)
    problem(call("GET", "/api/v1/bookings", query={"customerId": "a*b"}, **ADMIN), 422)
    problem(call("GET", "/api/v1/resources", query={"venueId": LONG_ID}), 422)
    window = {"startTime": iso(START), "endTime": iso(START + timedelta(hours=1))}
    problem(call("GET", "/api/v1/availability", query={"resourceId": "a*b", **window}), 422)
    assert item_count(table) == before


# --- 6. idempotency keys, and writes DynamoDB refuses --------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["k" * 10_000, "k" * 256, "", "caf\u00e9", "a\tb"], ids=["10000", "256", "empty", "é", "tab"]
)
def test_a_bad_idempotency_key_is_422_at_once(table: str, room: Any, key: str) -> None:
    before = item_count(table)
    started = time.monotonic()
    response = call("POST", "/api/v1/bookings", body=booking(room), headers={"idempotency-key": key}, **CUSTOMER)
    problem(response, 422, "invalid_idempotency_key")
    assert time.monotonic() - started < 1.0
    assert item_count(table) == before


def test_the_longest_idempotency_key_is_honoured(table: str, room: Any) -> None:
    key = "~" * 255
    first = call("POST", "/api/v1/bookings", body=booking(room), headers={"idempotency-key": key}, **CUSTOMER)
    again = call("POST", "/api/v1/bookings", body=booking(room), headers={"idempotency-key": key}, **CUSTOMER)
    assert (first.status, again.status) == (201, 201), (first.body, again.body)
    assert again.headers.get("idempotent-replayed") == "true" and again.body["id"] == first.body["id"]


def test_a_transaction_cancelled_for_validation_is_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[Any] = []

    class Cancelled(Exception):
        response = {"CancellationReasons": [{"Code": "ValidationError", "Message": "key too large"}]}

    class Dynamo:
        class exceptions:
            TransactionCanceledException = Cancelled

        def transact_write_items(self, **request: Any) -> None:
            sent.append(request)
            raise Cancelled

    monkeypatch.setattr(aws, "dynamodb", Dynamo)

    def build(_: claims.ClaimState) -> Transaction:
        tx = Transaction()
        tx.put_new(Tag("idempotency", "k"), {"PK": "IDEMP#k", "SK": "IDEMP"})
        return tx

    with pytest.raises(InvalidWrite) as refused:
        claims.run(build, resource=make_resource(store=False), booking_id="b", quantity=1, capacity=1, now_epoch=0)
    assert refused.value.code == "invalid_write"
    assert len(sent) == 1


# --- 7. loose types, control characters, zones that are not zones ---------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"quantity": "1"},
        {"quantity": True},
        {"quantity": 1.0},
        {"guests": "2"},
        {"title": "a\x00b"},
        {"title": "two\nlines"},
        {"description": "bell\x07"},
        {"attendees": ["nul\x00"]},
        {"metadata": {"k": "esc\x1b"}},
        {"metadata": {"k\x00": "v"}},
    ],
    ids=[
        "qty-str",
        "qty-bool",
        "qty-float",
        "guests-str",
        "title-nul",
        "title-newline",
        "bel",
        "attendee",
        "meta",
        "key",
    ],
)
def test_loose_types_and_control_characters_are_422(table: str, room: Any, change: dict[str, Any]) -> None:
    before = item_count(table)
    problem(call("POST", "/api/v1/bookings", body=booking(room, **change), **CUSTOMER), 422)
    assert item_count(table) == before


def test_multi_line_text_keeps_tabs_and_newlines(table: str, room: Any) -> None:
    made = call("POST", "/api/v1/bookings", body=booking(room, description="a\tb\r\nc", title="ok"), **CUSTOMER)
    assert made.status == 201, made.body
    assert made.body["description"] == "a\tb\r\nc"


@pytest.mark.parametrize(
    "zone",
    ["localtime", "Factory", "posixrules", "posix/Europe/Lisbon", "right/UTC", "UCT", "Zulu", "GMT0", "Etc/GMT-0"],
)
def test_a_timezone_that_is_not_a_canonical_zone_is_422(table: str, zone: str) -> None:
    before = item_count(table)
    body = {"name": "V", "city": "Lisbon", "timezone": zone}
    problem(call("POST", "/api/v1/venues", body=body, **VENDOR), 422)
    assert item_count(table) == before


@pytest.mark.parametrize("zone", ["Europe/Lisbon", "UTC", "Etc/UTC", "America/Argentina/Buenos_Aires"])
def test_canonical_zones_are_accepted(table: str, zone: str) -> None:
    made = call("POST", "/api/v1/venues", body={"name": "V", "city": "Lisbon", "timezone": zone}, **VENDOR)
    assert made.status == 201, made.body


def test_a_venue_name_with_a_control_character_is_422(table: str) -> None:
    problem(call("POST", "/api/v1/venues", body={"name": "V\x00", "city": "L", "timezone": "UTC"}, **VENDOR), 422)


# --- 4. cursors: opaque, signed, bound to their listing -------------------------------------------------------------


def _forged(key: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


@pytest.fixture
def cursor_of_cust(room: Any) -> str:
    for hour in (9, 11):
        start = START.replace(hour=hour)
        made = call(
            "POST",
            "/api/v1/bookings",
            body=booking(room, startTime=iso(start), endTime=iso(start + timedelta(hours=1))),
            **CUSTOMER,
        )
        assert made.status == 201, made.body
    first = call("GET", "/api/v1/bookings", query={"limit": 1}, **CUSTOMER)
    assert first.status == 200 and first.body["pagination"]["nextCursor"], first.body
    return str(first.body["pagination"]["nextCursor"])


def test_a_cursor_pages_its_own_listing(cursor_of_cust: str) -> None:
    more = call("GET", "/api/v1/bookings", query={"limit": 1, "cursor": cursor_of_cust}, **CUSTOMER)
    assert more.status == 200 and len(more.body["bookings"]) == 1, more.body


def test_forged_truncated_and_foreign_cursors_are_invalid(cursor_of_cust: str) -> None:
    body, _, signature = cursor_of_cust.partition(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    for bad in (
        _forged({"PK": "BOOKING#x"}),
        _forged({"PK": "BOOKING#x", "SK": "BOOKING", "GSI1PK": "CUSTOMER#cust", "GSI1SK": "x"}),
        body,  # the key without its signature (the old, unsigned format)
        cursor_of_cust[:-4],
        f"{body}.{flipped}",
        f"{_forged({'PK': 'BOOKING#x'})}.{signature}",
        "not a cursor",
    ):
        response = call("GET", "/api/v1/bookings", query={"cursor": bad}, **CUSTOMER)
        problem(response, 422, "invalid_cursor")
    # Another caller's cursor is not a position in this caller's listing.
    problem(
        call("GET", "/api/v1/bookings", query={"cursor": cursor_of_cust}, user="other", role="customer"),
        422,
        "invalid_cursor",
    )
    problem(call("GET", "/api/v1/bookings", query={"cursor": cursor_of_cust}, **ADMIN), 422, "invalid_cursor")
    # Nor a position in another listing of the same caller.
    problem(call("GET", "/api/v1/payments", query={"cursor": cursor_of_cust}, **CUSTOMER), 422, "invalid_cursor")
    problem(call("GET", "/api/v1/notifications", query={"cursor": cursor_of_cust}, **CUSTOMER), 422, "invalid_cursor")


def test_cursors_are_signed_with_a_key_every_instance_shares(
    cursor_of_cust: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from slotwise.data import pagination
    from slotwise.identity import keys

    keys._process_secret.cache_clear()  # another process of the local stage: a new random key
    try:
        problem(call("GET", "/api/v1/bookings", query={"cursor": cursor_of_cust}, **CUSTOMER), 422, "invalid_cursor")
    finally:
        keys._process_secret.cache_clear()
    monkeypatch.setenv("SLOTWISE_JWT_SECRET", "s" * 40)
    from slotwise.settings import get_settings

    get_settings.cache_clear()
    try:
        key = {"PK": {"S": "BOOKING#b"}, "SK": {"S": "BOOKING"}}
        issued = pagination.encode_cursor(key, scope="s")
        keys._process_secret.cache_clear()  # a new instance with the same configured secret
        assert pagination.decode_cursor(issued, scope="s") == key
        with pytest.raises(Exception) as refused:
            pagination.decode_cursor(issued, scope="t")
        assert getattr(refused.value, "code", None) == "invalid_cursor"
    finally:
        get_settings.cache_clear()
