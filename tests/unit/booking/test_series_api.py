"""Recurring bookings: all-or-nothing, skip-conflicts, exceptions and cancelling from a date on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from tests.support.catalog import make_resource
from tests.support.http import call

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # a Monday


def iso(value: datetime) -> str:
    return value.isoformat()


@pytest.fixture
def room(table: str) -> Any:
    return make_resource()


def series(resource_id: str, rule: str, mode: str = "all_or_nothing", user: str = "cust") -> Any:
    return call(
        "POST",
        "/api/v1/bookings/recurring",
        user=user,
        body={
            "resourceId": resource_id,
            "title": "Weekly Team Standup",
            "startTime": iso(START),
            "endTime": iso(START + timedelta(minutes=30)),
            "recurrenceRule": rule,
            "mode": mode,
        },
    )


def test_weekday_series_from_the_seed(room: Any) -> None:
    made = series(room.id, "FREQ=WEEKLY;COUNT=12;BYDAY=MO,TU,WE,TH,FR")
    assert made.status == 201
    assert len(made.body["created"]) == 12 and made.body["conflicts"] == []
    assert {b["seriesId"] for b in made.body["created"]} == {made.body["seriesId"]}
    assert made.body["created"][5]["occurrenceDate"] == "2027-03-08"


def test_all_or_nothing_books_nothing_on_conflict(table: str, room: Any) -> None:
    blocker = call(
        "POST",
        "/api/v1/bookings",
        user="x",
        body={
            "resourceId": room.id,
            "startTime": iso(START + timedelta(days=14)),
            "endTime": iso(START + timedelta(days=14, minutes=30)),
        },
    )
    before = len(boto3.client("dynamodb").scan(TableName=table)["Items"])
    refused = series(room.id, "FREQ=WEEKLY;COUNT=4")
    assert refused.status == 409 and refused.code == "slot_unavailable"
    assert [c["date"] for c in refused.body["conflicts"]] == ["2027-03-15"]
    assert blocker.body["id"] in refused.body["conflicts"][0]["conflicts"][0]["bookingIds"]
    assert len(boto3.client("dynamodb").scan(TableName=table)["Items"]) == before


def test_skip_conflicts_books_the_rest(room: Any) -> None:
    call(
        "POST",
        "/api/v1/bookings",
        user="x",
        body={
            "resourceId": room.id,
            "startTime": iso(START + timedelta(days=1)),
            "endTime": iso(START + timedelta(days=1, minutes=30)),
        },
    )
    made = series(room.id, "FREQ=DAILY;COUNT=5", mode="skip_conflicts")
    assert made.status == 201
    assert [b["occurrenceDate"] for b in made.body["created"]] == [
        "2027-03-01",
        "2027-03-03",
        "2027-03-04",
        "2027-03-05",
    ]
    assert [c["date"] for c in made.body["conflicts"]] == ["2027-03-02"]


def test_limits_and_bad_rules(table: str, room: Any) -> None:
    assert series(room.id, "FREQ=DAILY;COUNT=367").code == "invalid_recurrence_rule"
    far = make_resource(policy={"maxHorizonDays": 1100})
    assert series(far.id, "FREQ=DAILY;UNTIL=20290101").code == "too_many_occurrences"
    # Past the default 365-day horizon, and a rule that never matches: refused fast, not searched to 9999.
    assert series(room.id, "FREQ=DAILY;UNTIL=20290101").code == "beyond_horizon"
    assert series(room.id, "FREQ=MONTHLY;COUNT=3;BYDAY=5FR;BYMONTHDAY=1").code == "beyond_horizon"
    assert series(room.id, "FREQ=DAILY").code == "invalid_recurrence_rule"
    assert series(room.id, "not a rule").status == 422


def test_exceptions_cancel_and_modify_one_occurrence(room: Any) -> None:
    made = series(room.id, "FREQ=DAILY;COUNT=3").body
    series_id = made["seriesId"]
    cancelled = call(
        "POST",
        f"/api/v1/bookings/{series_id}/exceptions",
        user="cust",
        body={"exceptionType": "cancelled", "exceptionDate": "2027-03-02", "reason": "Holiday - Office Closed"},
    )
    assert cancelled.status == 201 and cancelled.body["booking"]["status"] == "cancelled"
    moved = call(
        "POST",
        f"/api/v1/bookings/{made['created'][2]['id']}/exceptions",
        user="cust",
        body={
            "exceptionType": "modified",
            "exceptionDate": "2027-03-03",
            "newTitle": "Moved standup",
            "newStartTime": iso(START + timedelta(days=2, hours=1)),
            "newEndTime": iso(START + timedelta(days=2, hours=1, minutes=30)),
        },
    )
    assert moved.status == 201
    assert moved.body["booking"]["title"] == "Moved standup"
    assert datetime.fromisoformat(moved.body["booking"]["startTime"]) == START + timedelta(days=2, hours=1)
    missing = call(
        "POST",
        f"/api/v1/bookings/{series_id}/exceptions",
        user="cust",
        body={"exceptionType": "cancelled", "exceptionDate": "2027-04-01"},
    )
    assert missing.code == "occurrence_not_found"
    assert (
        call(
            "POST",
            f"/api/v1/bookings/{series_id}/exceptions",
            user="intruder",
            body={"exceptionType": "cancelled", "exceptionDate": "2027-03-01"},
        ).code
        == "series_not_found"
    )


def test_cancel_this_and_following(room: Any) -> None:
    made = series(room.id, "FREQ=DAILY;COUNT=5").body
    third = made["created"][2]["id"]
    response = call("POST", f"/api/v1/bookings/{third}/cancel", user="cust", body={"scope": "this_and_following"})
    assert response.status == 200
    assert [b["occurrenceDate"] for b in response.body["cancelled"]] == ["2027-03-03", "2027-03-04", "2027-03-05"]
    first = call("GET", f"/api/v1/bookings/{made['created'][0]['id']}", user="cust").body
    assert first["status"] == "confirmed"


def _recurring_body(resource_id: str, rule: str = "FREQ=WEEKLY;COUNT=3", title: str = "Standup") -> dict[str, Any]:
    return {
        "resourceId": resource_id,
        "title": title,
        "startTime": iso(START),
        "endTime": iso(START + timedelta(minutes=30)),
        "recurrenceRule": rule,
    }


def test_idempotency_key_replays_the_series_and_never_books_twice(table: str, room: Any) -> None:
    key = {"Idempotency-Key": "series-try-1"}
    first = call("POST", "/api/v1/bookings/recurring", user="cust", body=_recurring_body(room.id), headers=key)
    assert first.status == 201 and "idempotent-replayed" not in first.headers
    series_id = first.body["seriesId"]
    assert first.headers["location"] == f"/api/v1/bookings/series/{series_id}"
    items = len(boto3.client("dynamodb").scan(TableName=table)["Items"])
    again = call("POST", "/api/v1/bookings/recurring", user="cust", body=_recurring_body(room.id), headers=key)
    assert again.status == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.body["seriesId"] == series_id
    assert [b["id"] for b in again.body["created"]] == [b["id"] for b in first.body["created"]]
    assert again.headers["location"] == first.headers["location"]
    assert len(boto3.client("dynamodb").scan(TableName=table)["Items"]) == items  # nothing booked twice
    other = _recurring_body(room.id, title="Another")
    reused = call("POST", "/api/v1/bookings/recurring", user="cust", body=other, headers=key)
    assert reused.status == 422 and reused.code == "idempotency_key_reused"
    # The same key from another caller is another key.
    elsewhere = call(
        "POST",
        "/api/v1/bookings/recurring",
        user="cust-2",
        body=_recurring_body(room.id, "FREQ=DAILY;COUNT=1"),
        headers=key,
    )
    assert elsewhere.status == 409  # the slot is the first series': a fresh attempt, not a replay


def test_a_refused_series_leaves_its_key_free(table: str, room: Any) -> None:
    call(
        "POST",
        "/api/v1/bookings",
        user="x",
        body={
            "resourceId": room.id,
            "startTime": iso(START + timedelta(days=7)),
            "endTime": iso(START + timedelta(days=7, minutes=30)),
        },
    )
    key = {"Idempotency-Key": "series-try-2"}
    refused = call("POST", "/api/v1/bookings/recurring", user="cust", body=_recurring_body(room.id), headers=key)
    assert refused.status == 409
    assert (
        call("POST", "/api/v1/bookings/recurring", user="cust", body=_recurring_body(room.id), headers=key).status
        == 409
    )


def test_the_series_reads_with_its_occurrences_for_its_parties_only(room: Any) -> None:
    made = call(
        "POST",
        "/api/v1/bookings/recurring",
        user="agent-1",
        role="agent",
        body={**_recurring_body(room.id), "customerId": "cust-9"},
    )
    assert made.status == 201, made.body
    path = made.headers["location"]
    for user, role in [("cust-9", "customer"), ("agent-1", "agent"), (room.owner_id, "vendor"), ("root", "admin")]:
        got = call("GET", path, user=user, role=role)
        assert got.status == 200, (user, got.body)
        assert got.body["id"] == made.body["seriesId"] and got.body["customerId"] == "cust-9"
        assert [o["id"] for o in got.body["occurrences"]] == [b["id"] for b in made.body["created"]]
        assert [o["occurrenceDate"] for o in got.body["occurrences"]] == ["2027-03-01", "2027-03-08", "2027-03-15"]
    stranger = call("GET", path, user="cust-x", role="customer")
    missing = call("GET", "/api/v1/bookings/series/no-such-series", user="cust-x", role="customer")
    assert stranger.status == missing.status == 404
    assert stranger.code == missing.code == "series_not_found"
