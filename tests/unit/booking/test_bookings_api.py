"""The booking endpoints through their real handlers (moto, single-threaded; races are judged on DynamoDB Local)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from tests.support.catalog import VENDOR, make_resource
from tests.support.http import ApiResponse, call

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # 09:00 Lisbon (UTC+0 in March before DST)


def iso(value: datetime) -> str:
    return value.isoformat()


def book(
    resource_id: str,
    start: datetime = START,
    minutes: int = 60,
    user: str = "cust",
    role: str = "customer",
    **extra: Any,
) -> ApiResponse:
    body = {
        "resourceId": resource_id,
        "startTime": iso(start),
        "endTime": iso(start + timedelta(minutes=minutes)),
        **extra,
    }
    return call("POST", "/api/v1/bookings", body=body, user=user, role=role)


def item_count(table: str) -> int:
    return len(boto3.client("dynamodb").scan(TableName=table)["Items"])


@pytest.fixture
def room(table: str) -> Any:
    return make_resource(capacity=1, policy={"bufferAfterMinutes": 30})


def test_create_get_and_find_by_reference(room: Any) -> None:
    created = book(room.id, title="Quarterly review", attendees=["a@x.test"], metadata={"priority": "high"})
    assert created.status == 201
    body = created.body
    assert created.headers["location"] == f"/api/v1/bookings/{body['id']}"
    assert body["status"] == "confirmed" and body["customerId"] == "cust" and body["vendorId"] == VENDOR
    assert body["price"] == {"currency": "EUR", "amount": 2000, "quantity": 1, "lines": body["price"]["lines"]}
    assert len(body["reference"]) == 6 and "lockKeys" not in body
    assert call("GET", f"/api/v1/bookings/{body['id']}", user="cust").body["id"] == body["id"]
    found = call("GET", f"/api/v1/bookings/by-reference/{body['reference'].lower()}", user="cust")
    assert found.status == 200 and found.body["id"] == body["id"]


def test_conflict_names_the_slot_and_booking_and_buffer_counts(room: Any) -> None:
    first = book(room.id).body
    clash = book(room.id, start=START + timedelta(minutes=60), user="other")  # inside the 30-min buffer
    assert clash.status == 409 and clash.code == "slot_unavailable"
    assert clash.body["conflicts"][0]["bookingIds"] == [first["id"]]
    # Named in the room's time (Lisbon, UTC+0 in March): the first booking's buffer 10:00-10:30, never a storage key.
    assert clash.body["conflicts"][0]["startTime"] == "2027-03-01T10:00:00+00:00"
    assert clash.body["conflicts"][0]["endTime"] == "2027-03-01T10:30:00+00:00"
    assert "2027-03-01 10:00 to 10:30 Europe/Lisbon time" in clash.body["detail"]
    assert "#" not in str(clash.body)
    assert book(room.id, start=START + timedelta(minutes=90), user="other").status == 201


def test_other_users_cannot_see_or_touch_a_booking(room: Any) -> None:
    booking = book(room.id).body
    path = f"/api/v1/bookings/{booking['id']}"
    for method, suffix, body in [
        ("GET", "", None),
        ("PUT", "", {"title": "x"}),
        ("DELETE", "", None),
        ("POST", "/cancel", {}),
        ("POST", "/reschedule", {"startTime": iso(START), "endTime": iso(START)}),
    ]:
        response = call(method, path + suffix, body=body, user="intruder")
        assert response.status == 404 and response.code == "booking_not_found", (method, suffix)
    assert call("GET", f"/api/v1/bookings/by-reference/{booking['reference']}", user="intruder").status == 404
    assert call("GET", path, user=VENDOR, role="vendor").status == 200
    assert call("GET", path, user="boss", role="admin").status == 200


def test_anonymous_cannot_book(room: Any) -> None:
    response = call(
        "POST",
        "/api/v1/bookings",
        body={"resourceId": room.id, "startTime": iso(START), "endTime": iso(START + timedelta(hours=1))},
    )
    assert response.status == 401


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"resourceId": "nope"}, 404, "resource_not_found"),
        ({"endTime": iso(START)}, 422, "end_before_start"),
        ({"startTime": iso(START + timedelta(minutes=10))}, 422, "misaligned"),
        ({"quantity": 0}, 422, "validation_failed"),
        ({"quantity": 2}, 422, "invalid_quantity"),
        ({"price": 0}, 422, "validation_failed"),
        ({"status": "confirmed"}, 422, "validation_failed"),
        ({"vendorId": "me"}, 422, "validation_failed"),
        ({"startTime": "2027-03-01T09:00:00"}, 422, "validation_failed"),
        (
            {"startTime": iso(START - timedelta(days=3650)), "endTime": iso(START - timedelta(days=3650, hours=-1))},
            422,
            "in_the_past",
        ),
        (
            {"startTime": iso(START + timedelta(days=800)), "endTime": iso(START + timedelta(days=800, hours=1))},
            422,
            "beyond_horizon",
        ),
        ({"endTime": iso(START + timedelta(days=3))}, 422, "too_long"),
        ({"createdBy": "someone-else"}, 403, "cannot_act_as_other_user"),
        ({"customerId": "someone-else"}, 403, "cannot_act_as_other_user"),
    ],
)
def test_bad_input_is_a_problem_and_writes_nothing(
    table: str, room: Any, change: dict[str, Any], status: int, code: str
) -> None:
    before = item_count(table)
    body = {"resourceId": room.id, "startTime": iso(START), "endTime": iso(START + timedelta(hours=1)), **change}
    response = call("POST", "/api/v1/bookings", body=body, user="cust", role="customer")
    assert (response.status, response.code) == (status, code), response.body
    assert response.headers["content-type"] == "application/problem+json"
    assert item_count(table) == before


def test_outside_opening_hours(table: str) -> None:
    hours = {"mon": [{"start": "09:00", "end": "17:00"}]}
    office = make_resource(policy={"openingHours": hours})
    assert book(office.id, start=START.replace(hour=16), minutes=120).code == "outside_opening_hours"
    assert book(office.id, start=START.replace(hour=15), minutes=120).status == 201


def test_agent_books_for_a_customer_and_both_see_it(room: Any) -> None:
    made = book(room.id, user="agent-7", role="agent", customerId="cust-9")
    assert made.status == 201 and made.body["customerId"] == "cust-9" and made.body["createdBy"] == "agent-7"
    assert call("GET", f"/api/v1/bookings/{made.body['id']}", user="cust-9").status == 200
    listed = call("GET", "/api/v1/bookings", user="cust-9").body["bookings"]
    assert [b["id"] for b in listed] == [made.body["id"]]


def listed_ids(query: dict[str, Any] | None = None, **who: Any) -> list[str]:
    response = call("GET", "/api/v1/bookings", query=query, **who)
    assert response.status == 200, response.body
    return [b["id"] for b in response.body["bookings"]]


def stored_item(table: str, booking_id: str) -> dict[str, Any]:
    key = {"PK": {"S": f"BOOKING#{booking_id}"}, "SK": {"S": "BOOKING"}}
    return dict(boto3.client("dynamodb").get_item(TableName=table, Key=key)["Item"])


def test_an_agent_lists_the_bookings_they_made(room: Any) -> None:
    agent = {"user": "agent-7", "role": "agent"}
    later = book(room.id, start=START + timedelta(hours=2), customerId="cust-9", **agent).body
    first = book(room.id, start=START, customerId="cust-8", **agent).body
    theirs = book(room.id, start=START + timedelta(hours=4), user="agent-8", role="agent", customerId="cust-9").body
    own = book(room.id, start=START + timedelta(hours=6), **agent).body  # the agent as a customer

    # The agent's default listing is what they made for others, by start time; "me" and their id say the same.
    assert listed_ids(**agent) == [first["id"], later["id"]]
    assert listed_ids({"createdBy": "me"}, **agent) == [first["id"], later["id"]]
    assert listed_ids({"createdBy": "agent-7"}, **agent) == [first["id"], later["id"]]
    # Their own booking as a customer is still theirs to list.
    assert listed_ids({"customerId": "agent-7"}, **agent) == [own["id"]]
    # The customers see the bookings made for them; the other agent sees only theirs.
    assert listed_ids(user="cust-9") == [later["id"], theirs["id"]]
    assert listed_ids(user="agent-8", role="agent") == [theirs["id"]]
    # Paging, the window and the status filter work on this index as on the others.
    page = call("GET", "/api/v1/bookings", query={"limit": 1}, **agent).body
    assert [b["id"] for b in page["bookings"]] == [first["id"]]
    rest = {"limit": 1, "cursor": page["pagination"]["nextCursor"]}
    assert listed_ids(rest, **agent) == [later["id"]]
    window = {"from": iso(START + timedelta(hours=1)), "to": iso(START + timedelta(hours=3))}
    assert listed_ids(window, **agent) == [later["id"]]
    assert listed_ids({"status": "cancelled"}, **agent) == []
    # Only admins list what someone else made.
    for user, role in [("agent-8", "agent"), ("cust-9", "customer"), (VENDOR, "vendor"), ("staff-1", "staff")]:
        refused = call("GET", "/api/v1/bookings", query={"createdBy": "agent-7"}, user=user, role=role)
        assert (refused.status, refused.code) == (403, "permission_denied"), role
    assert listed_ids({"createdBy": "agent-7"}, user="root", role="admin") == [first["id"], later["id"]]
    assert call("GET", "/api/v1/bookings", query={"createdBy": "agent-7"}).status == 401
    mixed = call("GET", "/api/v1/bookings", query={"createdBy": "me", "customerId": "cust-9"}, **agent)
    assert (mixed.status, mixed.code) == (422, "conflicting_filters")


def test_only_a_booking_made_for_someone_else_carries_the_creator_index(table: str, room: Any) -> None:
    mine = book(room.id, user="cust").body
    assert not {"GSI4PK", "GSI4SK"} & set(stored_item(table, mine["id"]))
    made = book(room.id, start=START + timedelta(hours=2), user="agent-7", role="agent", customerId="cust-9").body
    item = stored_item(table, made["id"])
    assert item["GSI4PK"] == {"S": "CREATOR#agent-7"}
    assert item["GSI4SK"] == item["GSI1SK"] == {"S": f"2027-03-01T11:00:00Z#{made['id']}"}
    # A move keeps it and re-sorts it by the new start.
    new_start = START + timedelta(hours=4)
    moved = call(
        "POST",
        f"/api/v1/bookings/{made['id']}/reschedule",
        user="agent-7",
        role="agent",
        body={"startTime": iso(new_start), "endTime": iso(new_start + timedelta(hours=1))},
    )
    assert moved.status == 200, moved.body
    assert stored_item(table, made["id"])["GSI4SK"] == {"S": f"2027-03-01T13:00:00Z#{made['id']}"}


def test_idempotency_key_replays_and_refuses_a_different_body(table: str, room: Any) -> None:
    headers = {"Idempotency-Key": "k-123"}
    body = {"resourceId": room.id, "startTime": iso(START), "endTime": iso(START + timedelta(hours=1))}
    first = call("POST", "/api/v1/bookings", body=body, user="cust", headers=headers)
    again = call("POST", "/api/v1/bookings", body=body, user="cust", headers=headers)
    assert first.status == again.status == 201
    assert again.body["id"] == first.body["id"] and again.headers["idempotent-replayed"] == "true"
    changed = call("POST", "/api/v1/bookings", body={**body, "title": "other"}, user="cust", headers=headers)
    assert (changed.status, changed.code) == (422, "idempotency_key_reused")
    other_user = call("POST", "/api/v1/bookings", body=body, user="cust2", headers=headers)
    assert other_user.status == 409  # a different caller's key space: a new booking, which conflicts


def test_cancel_releases_and_delete_is_cancel(room: Any) -> None:
    first = book(room.id).body
    cancelled = call("POST", f"/api/v1/bookings/{first['id']}/cancel", body={"reason": "sick"}, user="cust")
    assert cancelled.status == 200 and cancelled.body["cancelled"][0]["status"] == "cancelled"
    assert cancelled.body["cancelled"][0]["cancellation"]["reason"] == "sick"
    second = book(room.id, user="other").body
    deleted = call("DELETE", f"/api/v1/bookings/{second['id']}", query={"reason": "plans changed"}, user="other")
    assert deleted.status == 200 and deleted.body["status"] == "cancelled"
    again = call("DELETE", f"/api/v1/bookings/{second['id']}", user="other")
    assert (again.status, again.code) == (409, "invalid_transition")
    assert again.body["status"] == 409 and again.body["bookingStatus"] == "cancelled"


def test_reschedule_moves_in_one_transaction_and_keeps_history(room: Any) -> None:
    booking = book(room.id).body
    blocker = book(room.id, start=START + timedelta(hours=3), user="other").body
    moved = call(
        "POST",
        f"/api/v1/bookings/{booking['id']}/reschedule",
        user="cust",
        body={"startTime": iso(START + timedelta(minutes=30)), "endTime": iso(START + timedelta(hours=2))},
    )
    assert moved.status == 200 and moved.body["version"] == 2
    assert moved.body["history"][-1]["action"] == "rescheduled"
    refused = call(
        "POST",
        f"/api/v1/bookings/{booking['id']}/reschedule",
        user="cust",
        body={"startTime": iso(START + timedelta(hours=3)), "endTime": iso(START + timedelta(hours=4))},
    )
    assert refused.status == 409 and refused.body["conflicts"][0]["bookingIds"] == [blocker["id"]]
    # The old window is free again; the refused move changed nothing.
    assert book(room.id, start=START - timedelta(hours=1), minutes=60, user="third").status == 201
    assert call("GET", f"/api/v1/bookings/{booking['id']}", user="cust").body["version"] == 2


def test_update_details_only(room: Any) -> None:
    booking = book(room.id).body
    updated = call("PUT", f"/api/v1/bookings/{booking['id']}", user="cust", body={"title": "Renamed", "guests": 3})
    assert updated.status == 200 and (updated.body["title"], updated.body["guests"]) == ("Renamed", 3)
    sneaky = call("PUT", f"/api/v1/bookings/{booking['id']}", user="cust", body={"startTime": iso(START)})
    assert sneaky.status == 422


def test_approval_flow_and_who_decides(table: str) -> None:
    advisor = make_resource(kind="advisor", policy={"confirmation": "approval"}, attributes={"advisorUserId": "adv-1"})
    pending = book(advisor.id).body
    assert pending["status"] == "awaiting_approval" and pending["expiresAt"]
    path = f"/api/v1/bookings/{pending['id']}"
    assert call("POST", f"{path}/confirm", body={}, user="cust").status == 403
    assert call("POST", f"{path}/confirm", body={}, user="adv-2", role="advisor").status == 404  # not their resource
    # The advisor who is the resource (attributes.advisorUserId) sees and decides its requests.
    assert call("GET", path, user="adv-1", role="advisor").status == 200
    confirmed = call("POST", f"{path}/confirm", body={}, user="adv-1", role="advisor")
    assert confirmed.status == 200 and confirmed.body["status"] == "confirmed" and confirmed.body["expiresAt"] is None
    assert call("POST", f"{path}/reject", body={}, user=VENDOR, role="vendor").code == "invalid_transition"
    other = book(advisor.id, start=START + timedelta(hours=2)).body
    rejected = call(
        "POST", f"/api/v1/bookings/{other['id']}/reject", body={"reason": "busy"}, user=VENDOR, role="vendor"
    )
    assert rejected.body["status"] == "rejected"
    assert book(advisor.id, start=START + timedelta(hours=2), user="next").status == 201


def test_night_and_fixed_units(table: str) -> None:
    dorm = make_resource(
        capacity=2,
        kind="dorm",
        policy={"unit": "night", "maxUnits": 14},
        pricing={"currency": "EUR", "unitPrice": 2500},
    )
    stay = {"resourceId": dorm.id, "checkIn": "2027-03-10", "checkOut": "2027-03-13", "quantity": 2}
    made = call("POST", "/api/v1/bookings", body=stay, user="g1")
    assert made.status == 201 and made.body["price"]["amount"] == 3 * 2500 * 2
    assert (
        call(
            "POST",
            "/api/v1/bookings",
            body={**stay, "quantity": 1, "checkIn": "2027-03-12", "checkOut": "2027-03-14"},
            user="g2",
        ).status
        == 409
    )
    assert (
        call(
            "POST",
            "/api/v1/bookings",
            body={**stay, "quantity": 2, "checkIn": "2027-03-13", "checkOut": "2027-03-14"},
            user="g2",
        ).status
        == 201
    )

    departure = START + timedelta(days=20)
    flight = make_resource(
        capacity=3,
        kind="seat_pool",
        policy={"unit": "fixed", "fixedStart": iso(departure), "fixedEnd": iso(departure + timedelta(hours=7))},
    )
    seats = call("POST", "/api/v1/bookings", body={"resourceId": flight.id, "quantity": 2}, user="p1")
    assert seats.status == 201
    assert datetime.fromisoformat(seats.body["startTime"]) == departure
    assert call("POST", "/api/v1/bookings", body={"resourceId": flight.id, "quantity": 2}, user="p2").status == 409
    assert call("POST", "/api/v1/bookings", body={"resourceId": flight.id, "quantity": 1}, user="p2").status == 201


def test_list_bookings_by_resource_for_vendor_only(room: Any) -> None:
    for hour in range(3):
        book(room.id, start=START + timedelta(hours=2 * hour), user=f"u{hour}")
    listed = call("GET", "/api/v1/bookings", query={"resourceId": room.id, "limit": 2}, user=VENDOR, role="vendor")
    assert listed.status == 200 and len(listed.body["bookings"]) == 2
    rest = call(
        "GET",
        "/api/v1/bookings",
        query={"resourceId": room.id, "cursor": listed.body["pagination"]["nextCursor"]},
        user=VENDOR,
        role="vendor",
    )
    assert len(rest.body["bookings"]) == 1
    assert call("GET", "/api/v1/bookings", query={"resourceId": room.id}, user="u0").status == 404
    assert call("GET", "/api/v1/bookings", query={"cursor": "garbage!"}, user="u0").code == "invalid_cursor"
