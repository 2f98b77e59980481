"""Reviews through the real handlers (moto): who may review, reply and remove, what is refused, and the rating the
resource shows. Conditions and concurrency are judged on DynamoDB Local (tests/integration/test_review_conditions.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from slotwise.booking.deadlines import run_timers
from slotwise.catalog.models import Resource
from slotwise.identity.models import Caller, User
from slotwise.identity.repository import put_user
from slotwise.reviews import service
from slotwise.reviews.models import ReviewInput
from tests.support.catalog import VENDOR, make_resource
from tests.support.http import ApiResponse, call
from tests.unit.authz.world import snapshot

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
END = START + timedelta(hours=1)
API = "/api/v1"
CUSTOMER = "cust-1"


def book(room: Resource, start: datetime = START, user: str = CUSTOMER) -> dict[str, Any]:
    body = {"resourceId": room.id, "startTime": start.isoformat(), "endTime": (start + timedelta(hours=1)).isoformat()}
    created = call("POST", f"{API}/bookings", body=body, user=user, role="customer")
    assert created.status == 201, created.body
    return dict(created.body)


def review(booking_id: str, body: Any, user: str = CUSTOMER, role: str = "customer") -> ApiResponse:
    return call("POST", f"{API}/bookings/{booking_id}/review", body=body, user=user, role=role)


def rating_of(resource_id: str) -> dict[str, Any]:
    found = call("GET", f"{API}/resources/{resource_id}")
    assert found.status == 200, found.body
    return dict(found.body["rating"])


@pytest.fixture
def room(table: str) -> Resource:
    return make_resource()


@pytest.fixture
def completed(room: Resource) -> dict[str, Any]:
    made = book(room)
    assert run_timers(END + timedelta(minutes=1)) == {"complete": 1}
    return made


def test_the_customer_reviews_a_completed_booking_once(room: Resource, completed: dict[str, Any]) -> None:
    assert put_user(User(id=CUSTOMER, email="ana@x.test", name="Ana Maria Sousa", role="customer", created_at=START))
    before = call("GET", f"{API}/resources/{room.id}")
    assert before.body["rating"] == {"average": None, "count": 0}
    made = review(completed["id"], {"rating": 4, "title": "Lovely hall", "comment": "Warm staff.\nGood light."})
    assert made.status == 201, made.body
    assert made.body["rating"] == 4 and made.body["authorName"] == "Ana S."
    assert made.body["resourceId"] == room.id and made.body["vendorId"] == VENDOR and made.body["reply"] is None
    # Who booked what is not public: no booking or customer id in the review.
    assert not {"bookingId", "customerId", "status", "requestId"} & set(made.body)
    after = call("GET", f"{API}/resources/{room.id}")
    assert after.body["rating"] == {"average": 4.0, "count": 1}
    # A review is not the owner's change: the ETag a vendor edits against stays.
    assert after.headers["etag"] == before.headers["etag"]
    searched = call("GET", f"{API}/resources", query={"venueId": room.venue_id})
    assert [r["rating"] for r in searched.body["resources"]] == [{"average": 4.0, "count": 1}]
    listed = call("GET", f"{API}/resources/{room.id}/reviews")
    assert listed.status == 200 and [r["id"] for r in listed.body["reviews"]] == [made.body["id"]]
    again = review(completed["id"], {"rating": 1})
    assert (again.status, again.code) == (409, "already_reviewed")
    assert rating_of(room.id) == {"average": 4.0, "count": 1}


@pytest.mark.parametrize(
    "body",
    [
        {"rating": 0},
        {"rating": 6},
        {"rating": "5"},
        {"rating": 4.5},
        {"rating": True},
        {"rating": None},
        {},
        {"rating": 5, "title": "x" * 201},
        {"rating": 5, "title": "two\nlines"},
        {"rating": 5, "comment": "x" * 2001},
        {"rating": 5, "comment": "nul\u0000"},
        {"rating": 5, "status": "published"},
        {"rating": 5, "customerId": "cust-2"},
        {"rating": 5, "resourceId": "r-other"},
    ],
)
def test_bad_input_is_a_422_and_writes_nothing(table: str, completed: dict[str, Any], body: dict[str, Any]) -> None:
    baseline = snapshot(table)
    refused = review(completed["id"], body)
    assert refused.status == 422, refused.body
    assert refused.headers["content-type"] == "application/problem+json"
    assert snapshot(table) == baseline


def test_someone_elses_booking_is_404_and_its_vendor_gets_403(table: str, completed: dict[str, Any]) -> None:
    baseline = snapshot(table)
    stranger = review(completed["id"], {"rating": 5}, user="cust-2")
    assert (stranger.status, stranger.code) == (404, "booking_not_found")
    missing = review("no-such-booking", {"rating": 5})
    assert (missing.status, missing.code) == (404, "booking_not_found")
    # The vendor sees the booking but is not its customer; so is an admin.
    vendor = review(completed["id"], {"rating": 5}, user=VENDOR, role="vendor")
    assert (vendor.status, vendor.code) == (403, "not_the_customer")
    admin = review(completed["id"], {"rating": 5}, user="admin-1", role="admin")
    assert (admin.status, admin.code) == (403, "not_the_customer")
    anonymous = call("POST", f"{API}/bookings/{completed['id']}/review", body={"rating": 5})
    assert anonymous.status == 401
    assert snapshot(table) == baseline


def test_an_unfinished_or_cancelled_booking_is_not_reviewable(table: str, room: Resource) -> None:
    upcoming = book(room)
    baseline = snapshot(table)
    refused = review(upcoming["id"], {"rating": 5})
    assert (refused.status, refused.code) == (409, "booking_not_finished")
    assert refused.body["bookingStatus"] == "confirmed"
    assert snapshot(table) == baseline
    assert call("POST", f"{API}/bookings/{upcoming['id']}/cancel", body={}, user=CUSTOMER).status == 200
    cancelled = review(upcoming["id"], {"rating": 5})
    assert (cancelled.status, cancelled.code) == (409, "booking_not_reviewable")
    assert rating_of(room.id)["count"] == 0


def test_a_confirmed_booking_is_reviewable_once_its_end_has_passed(room: Resource) -> None:
    made = book(room)
    customer = Caller(user_id=CUSTOMER, role="customer")
    with pytest.raises(Exception, match="once it is over"):
        service.create_review(customer, made["id"], ReviewInput(rating=3), now=END - timedelta(minutes=1))
    done = service.create_review(customer, made["id"], ReviewInput(rating=3), now=END)
    assert done.booking_id == made["id"] and done.customer_id == CUSTOMER
    assert rating_of(room.id) == {"average": 3.0, "count": 1}


def test_the_vendor_replies_once_and_nobody_else_can(table: str, room: Resource, completed: dict[str, Any]) -> None:
    made = review(completed["id"], {"rating": 2, "comment": "Cold room"}).body
    path = f"{API}/reviews/{made['id']}/reply"
    baseline = snapshot(table)
    other_vendor = call("POST", path, body={"text": "Not ours"}, user="vendor-2", role="vendor")
    assert (other_vendor.status, other_vendor.code) == (404, "review_not_found")
    customer = call("POST", path, body={"text": "Me too"}, user=CUSTOMER, role="customer")
    assert (customer.status, customer.code) == (403, "permission_denied")
    too_long = call("POST", path, body={"text": "x" * 2001}, user=VENDOR, role="vendor")
    assert too_long.status == 422
    empty = call("POST", path, body={"text": ""}, user=VENDOR, role="vendor")
    assert empty.status == 422
    assert call("POST", f"{API}/reviews/nope/reply", body={"text": "?"}, user=VENDOR, role="vendor").status == 404
    assert snapshot(table) == baseline
    replied = call("POST", path, body={"text": "Sorry, the heating is fixed."}, user=VENDOR, role="vendor")
    assert replied.status == 200, replied.body
    assert replied.body["reply"]["text"] == "Sorry, the heating is fixed." and replied.body["version"] == 2
    second = call("POST", path, body={"text": "Again"}, user=VENDOR, role="vendor")
    assert (second.status, second.code) == (409, "already_replied")
    listed = call("GET", f"{API}/resources/{room.id}/reviews").body["reviews"]
    assert listed[0]["reply"]["text"] == "Sorry, the heating is fixed."


def test_an_admin_removes_a_review_audited_and_out_of_the_rating(
    table: str, room: Resource, completed: dict[str, Any]
) -> None:
    second = book(room, START + timedelta(days=1), user="cust-2")
    assert run_timers(START + timedelta(days=1, hours=2)) == {"complete": 1}
    kept = review(second["id"], {"rating": 5}, user="cust-2").body
    removed = review(completed["id"], {"rating": 2}).body
    assert rating_of(room.id) == {"average": 3.5, "count": 2}
    path = f"{API}/reviews/{removed['id']}"
    baseline = snapshot(table)
    for user, role in [(CUSTOMER, "customer"), (VENDOR, "vendor"), ("staff-1", "staff")]:
        refused = call("DELETE", path, user=user, role=role)
        assert (refused.status, refused.code) == (403, "permission_denied"), role
    assert snapshot(table) == baseline
    assert call("DELETE", path, user="admin-1", role="admin").status == 204
    assert rating_of(room.id) == {"average": 5.0, "count": 1}
    assert [r["id"] for r in call("GET", f"{API}/resources/{room.id}/reviews").body["reviews"]] == [kept["id"]]
    again = call("DELETE", path, user="admin-1", role="admin")
    assert (again.status, again.code) == (404, "review_not_found")
    # The booking stays reviewed: a removed review is not posted again.
    assert review(completed["id"], {"rating": 5}).code == "already_reviewed"
    audit = call("GET", f"{API}/admin/audit", query={"target": f"review:{removed['id']}"}, user="admin-1", role="admin")
    assert [e["action"] for e in audit.body["entries"]] == ["review.delete", "review.create"]


def test_reviews_are_listed_newest_first_with_a_cursor(room: Resource) -> None:
    ids = []
    for day in range(3):
        made = book(room, START + timedelta(days=day), user=f"cust-{day}")
        customer = Caller(user_id=f"cust-{day}", role="customer")
        done = service.create_review(customer, made["id"], ReviewInput(rating=day + 3), now=END + timedelta(days=day))
        ids.append(done.id)
    first = call("GET", f"{API}/resources/{room.id}/reviews", query={"limit": 2})
    assert [r["id"] for r in first.body["reviews"]] == [ids[2], ids[1]]
    cursor = first.body["pagination"]["nextCursor"]
    rest = call("GET", f"{API}/resources/{room.id}/reviews", query={"limit": 2, "cursor": cursor})
    assert [r["id"] for r in rest.body["reviews"]] == [ids[0]]
    assert rest.body["pagination"]["nextCursor"] is None
    assert rating_of(room.id) == {"average": 4.0, "count": 3}
    other = make_resource()
    foreign = call("GET", f"{API}/resources/{other.id}/reviews", query={"cursor": cursor})
    assert (foreign.status, foreign.code) == (422, "invalid_cursor")
    assert call("GET", f"{API}/resources/nope/reviews").code == "resource_not_found"


def test_the_owners_put_keeps_the_rating(room: Resource, completed: dict[str, Any]) -> None:
    assert review(completed["id"], {"rating": 5}).status == 201
    current = call("GET", f"{API}/resources/{room.id}")
    body = {
        "name": "Renamed room",
        "type": room.type,
        "capacity": room.capacity,
        "policy": current.body["policy"],
        "pricing": current.body["pricing"],
    }
    headers = {"if-match": current.headers["etag"]}
    replaced = call("PUT", f"{API}/resources/{room.id}", body=body, user=VENDOR, role="vendor", headers=headers)
    assert replaced.status == 200, replaced.body
    assert replaced.body["rating"] == {"average": 5.0, "count": 1}
    after = call("GET", f"{API}/resources/{room.id}").body
    assert after["name"] == "Renamed room" and after["rating"] == {"average": 5.0, "count": 1}
    # Archiving (the catalog's other replace) keeps it too.
    assert call("DELETE", f"{API}/resources/{room.id}", user=VENDOR, role="vendor").status == 204
    assert call("GET", f"{API}/resources/{room.id}", user=VENDOR, role="vendor").body["rating"]["count"] == 1
    # Reviews of an archived resource are hidden with it.
    gone = call("GET", f"{API}/resources/{room.id}/reviews")
    assert (gone.status, gone.code) == (404, "resource_not_found")
