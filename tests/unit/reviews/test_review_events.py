"""A review's changes are its domain events: the item each write leaves, read as the stream would show it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from slotwise import aws
from slotwise.booking.deadlines import run_timers
from slotwise.data.codec import from_item, to_item
from slotwise.events.changes import event_of
from slotwise.webhooks.catalogue import event_owner
from tests.support.catalog import VENDOR, make_resource
from tests.support.http import call
from tests.unit.reviews.test_reviews_api import END, book


def stored(table: str, review_id: str) -> dict[str, Any]:
    key = to_item({"PK": f"REVIEW#{review_id}", "SK": "REVIEW"})
    return from_item(aws.dynamodb().get_item(TableName=table, Key=key)["Item"])


def record(new: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
    change = {"NewImage": to_item(new)} | ({"OldImage": to_item(old)} if old else {})
    return {"eventName": "MODIFY" if old else "INSERT", "dynamodb": change}


def test_created_replied_deleted_each_once(table: str) -> None:
    room = make_resource()
    made = book(room)
    run_timers(END + timedelta(minutes=1))
    review = call("POST", f"/api/v1/bookings/{made['id']}/review", body={"rating": 5}, user="cust-1").body
    created = stored(table, review["id"])
    event = event_of(record(created))
    assert event is not None and (event.type, event.id) == ("review.created", f"review:{review['id']}:1")
    assert event_owner(event.aggregate, event.data) == VENDOR  # a vendor's webhooks receive their reviews
    assert "customerId" not in event.data and event.correlation_id
    assert call("POST", f"/api/v1/reviews/{review['id']}/reply", body={"text": "Thanks"}, user=VENDOR, role="vendor")
    replied = stored(table, review["id"])
    event = event_of(record(replied, created))
    assert event is not None and event.type == "review.replied" and event.data["reply"]["text"] == "Thanks"
    assert call("DELETE", f"/api/v1/reviews/{review['id']}", user="admin-1", role="admin").status == 204
    removed = stored(table, review["id"])
    event = event_of(record(removed, replied))
    assert event is not None and (event.type, event.previous) == ("review.deleted", {"status": "published"})
    # An image rewritten without a new version is no event; nor is the guard item or the resource's counters.
    assert event_of(record(removed, removed)) is None
    guard = from_item(
        aws.dynamodb().get_item(TableName=table, Key=to_item({"PK": f"REVIEWED#{made['id']}", "SK": "REVIEWED"}))[
            "Item"
        ]
    )
    assert event_of(record(guard)) is None
