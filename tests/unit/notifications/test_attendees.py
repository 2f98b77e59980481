"""Attendees (e-mail addresses on the booking) get the invitation and the cancellation, unless the change said
notifyAttendees=false: at the notifier with moto's SES, and through the bookings handler into the event."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.local.functions import invoke
from slotwise.events.changes import event_of
from tests.support.calendar import parse_invitation
from tests.support.catalog import make_resource
from tests.support.http import call
from tests.unit.notifications.conftest import SentMail, add_user, booking_event, sqs_batch

Outbox = Callable[[], list[SentMail]]
ATTENDEES = ["ana@example.test", "Bruno@Example.test"]


def calendar(sent: SentMail) -> Any:
    part = sent.part("text/calendar")
    assert part is not None
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return parse_invitation(payload), payload.decode()


def to_attendees(outbox: Outbox) -> dict[str, SentMail]:
    return {m.to.strip("<> ").lower(): m for m in outbox() if "cust-42" not in m.to}


def test_attendees_are_invited_on_confirmation_and_told_of_the_cancellation(table: str, outbox: Outbox) -> None:
    add_user("cust-42")
    result = invoke("notifier", sqs_batch(booking_event("booking.confirmed", attendees=ATTENDEES)))
    assert result["batchItemFailures"] == []
    invited = to_attendees(outbox)
    assert set(invited) == {"ana@example.test", "bruno@example.test"}
    for address, sent in invited.items():
        invitation, raw = calendar(sent)
        assert invitation.method == "REQUEST" and invitation.sequence == 2
        assert invitation.uid == f"{booking_event().aggregate_id}@slotwise"
        assert f"ATTENDEE;ROLE=REQ-PARTICIPANT:mailto:{address}" in raw.replace("\r\n ", "")
    cancelled = booking_event(
        "booking.cancelled", version=3, attendees=ATTENDEES, status="cancelled", previous={"status": "confirmed"}
    )
    assert invoke("notifier", sqs_batch(cancelled))["batchItemFailures"] == []
    cancellations = [m for m in outbox() if "cust-42" not in m.to][2:]
    assert len(cancellations) == 2
    for sent in cancellations:
        invitation, _ = calendar(sent)
        assert invitation.method == "CANCEL" and invitation.sequence == 3  # supersedes the invitation
        assert invitation.uid == f"{booking_event().aggregate_id}@slotwise"


def test_no_attendee_mail_when_the_change_said_not_to(table: str, outbox: Outbox) -> None:
    add_user("cust-42")
    quiet = booking_event("booking.confirmed", attendees=ATTENDEES, notifyAttendees=False)
    assert invoke("notifier", sqs_batch(quiet))["batchItemFailures"] == []
    assert to_attendees(outbox) == {}
    assert len(outbox()) == 1  # the customer is still told


def test_a_hold_that_lapses_or_is_cancelled_never_reaches_the_attendees(table: str, outbox: Outbox) -> None:
    event = booking_event("booking.cancelled", attendees=ATTENDEES, status="cancelled", previous={"status": "held"})
    assert invoke("notifier", sqs_batch(event))["batchItemFailures"] == []
    assert to_attendees(outbox) == {}


START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def body(resource_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "resourceId": resource_id,
        "startTime": START.isoformat(),
        "endTime": (START + timedelta(hours=1)).isoformat(),
        **changes,
    }


def test_attendees_are_email_addresses_and_at_most_fifty(table: str) -> None:
    room = make_resource()
    bad = call("POST", "/api/v1/bookings", body=body(room.id, attendees=["not an address"]), user="cust-1")
    assert bad.status == 422
    many = [f"a{i}@example.test" for i in range(51)]
    assert call("POST", "/api/v1/bookings", body=body(room.id, attendees=many), user="cust-1").status == 422
    ok = call("POST", "/api/v1/bookings", body=body(room.id, attendees=[" Ana@Example.test "]), user="cust-1")
    assert ok.status == 201 and ok.body["attendees"] == ["ana@example.test"]
    assert ok.body["notifyAttendees"] is True


def test_the_flag_of_the_cancellation_reaches_the_event(table: str) -> None:
    import boto3

    room = make_resource()
    made = call("POST", "/api/v1/bookings", body=body(room.id, attendees=["ana@example.test"]), user="cust-1").body
    key = {"PK": {"S": f"BOOKING#{made['id']}"}, "SK": {"S": "BOOKING"}}
    client = boto3.client("dynamodb")
    before = client.get_item(TableName=table, Key=key).get("Item")
    cancelled = call("DELETE", f"/api/v1/bookings/{made['id']}", query={"notifyAttendees": "false"}, user="cust-1")
    assert cancelled.status == 200 and cancelled.body["notifyAttendees"] is False
    after = client.get_item(TableName=table, Key=key).get("Item")
    assert before is not None and after is not None
    event = event_of(
        {"eventName": "MODIFY", "dynamodb": {"OldImage": before, "NewImage": after, "SequenceNumber": "1"}}
    )
    assert event is not None and event.type == "booking.cancelled"
    assert event.data["notifyAttendees"] is False and event.data["attendees"] == ["ana@example.test"]
    assert event.previous["status"] == "confirmed"
