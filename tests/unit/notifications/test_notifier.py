"""The notifier consumer on moto: one in-app notification and one e-mail per (event, recipient), however often SQS
delivers; one bad record fails alone; unknown envelopes are dropped."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

import events
from infra.local.functions import invoke
from slotwise.catalog import repository
from slotwise.catalog.models import Resource
from slotwise.data.codec import from_item
from slotwise.notifications import mail, service, store
from slotwise.notifications.models import Notification, notification_id
from tests.support.calendar import Invitation, parse_invitation
from tests.unit.notifications.conftest import (
    OCCURRED,
    SentMail,
    add_user,
    booking_event,
    sqs_batch,
)

Outbox = Callable[[], list[SentMail]]


def notifier(event: dict[str, Any]) -> dict[str, Any]:
    """Invoke the consumer; a batch whose every record failed raises (Powertools), which Lambda and the local
    runtime treat as every record failed."""
    try:
        result: dict[str, Any] = invoke("notifier", event)
    except BatchProcessingError:
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]}
    return result


def failures(result: dict[str, Any]) -> list[str]:
    return [f["itemIdentifier"] for f in result["batchItemFailures"]]


def notifications_of(user_id: str) -> list[dict[str, Any]]:
    import boto3

    page = boto3.client("dynamodb").query(
        TableName="slotwise-test",
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": store.partition(user_id)}},
    )
    return [from_item(item) for item in page["Items"]]


def calendar_of(sent: SentMail) -> Invitation:
    """The mail's .ics, parsed with `icalendar`; its Content-Type `method` must be the calendar's METHOD."""
    part = sent.part("text/calendar")
    assert part is not None, "no .ics"
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    invitation = parse_invitation(payload)
    assert part.get_param("method") == invitation.method
    return invitation


def test_a_confirmation_makes_one_notification_and_one_email_with_an_ics(table: str, outbox: Outbox) -> None:
    add_user("cust-42", locale="pt-BR", name="Ana")
    result = notifier(sqs_batch(booking_event("booking.confirmed")))
    assert failures(result) == []

    (item,) = notifications_of("cust-42")
    assert item["eventType"] == "booking.confirmed" and item["read"] is False
    assert item["title"] == "Reserva confirmada: Meeting room 3"
    assert item["bookingId"] == booking_event().aggregate_id and item["emailStatus"] == "sent"
    assert store.unread_count("cust-42") == 1

    (sent,) = outbox()
    assert sent.to == "Ana <cust-42@example.test>"
    assert sent.subject == "Reserva confirmada: Meeting room 3"
    assert "Slotwise" in sent.source and "bookings@slotwise.example" in sent.source
    assert "Olá Ana," in sent.text() and "K7PX2Q" in sent.text("text/html")
    assert sent.message["Content-Language"] == "pt"
    invitation = calendar_of(sent)
    assert invitation.method == "REQUEST"
    assert invitation.uid == f"{booking_event().aggregate_id}@slotwise" and invitation.sequence == 2
    assert invitation.utc("DTSTART") < invitation.utc("DTEND")


def test_the_same_record_delivered_twice_notifies_once(table: str, outbox: Outbox) -> None:
    add_user("cust-42")
    event = booking_event("booking.confirmed")
    assert failures(notifier(sqs_batch(event, event))) == []  # twice in one batch
    assert failures(notifier(sqs_batch(event))) == []  # and again later
    assert len(notifications_of("cust-42")) == 1
    assert store.unread_count("cust-42") == 1
    assert len(outbox()) == 1


def test_a_reminder_is_not_mistaken_for_the_event_of_its_version(table: str, outbox: Outbox) -> None:
    add_user("cust-42")
    confirmed = booking_event("booking.confirmed")
    day = booking_event(
        "booking.reminder",
        previous={"reminderMinutes": 1440},
        qualifier="reminder-1440",
        occurred=OCCURRED + timedelta(days=90),
    )
    hour = booking_event(
        "booking.reminder",
        previous={"reminderMinutes": 60},
        qualifier="reminder-60",
        occurred=OCCURRED + timedelta(days=91),
    )
    # The same booking version, three distinct events.
    assert confirmed.aggregate_version == day.aggregate_version == hour.aggregate_version
    assert len({confirmed.id, day.id, hour.id}) == 3
    notifier(sqs_batch(confirmed, day, hour, day))
    assert len(notifications_of("cust-42")) == 3
    subjects = sorted(m.subject for m in outbox())
    assert subjects == [
        "Booking confirmed: Meeting room 3",
        "Reminder: Meeting room 3 in 1 hour",
        "Reminder: Meeting room 3 in 24 hours",
    ]
    assert all(calendar_of(m).method == "REQUEST" for m in outbox())


def test_one_bad_record_fails_alone(table: str, outbox: Outbox, monkeypatch: pytest.MonkeyPatch) -> None:
    add_user("cust-42")
    add_user("cust-bad")
    real = service.handle

    def flaky(event: Any, **kwargs: Any) -> int:
        if event.data["customerId"] == "cust-bad":
            raise RuntimeError("DynamoDB said no")
        return real(event, **kwargs)

    monkeypatch.setattr(service, "handle", flaky)
    good = booking_event("booking.confirmed")
    bad = booking_event("booking.confirmed", id="b-bad", customerId="cust-bad")
    other = booking_event("booking.cancelled", version=3)
    result = notifier(sqs_batch(good, bad, other))
    assert failures(result) == ["m1"]
    assert len(notifications_of("cust-42")) == 2
    assert notifications_of("cust-bad") == []


def test_unknown_envelopes_are_dropped_not_retried(table: str, outbox: Outbox) -> None:
    add_user("cust-42")
    foreign = json.dumps({"source": "aws.s3", "detail-type": "Object Created", "detail": {}})
    future = booking_event().bus_event()
    future["detail"]["metadata"]["version"] = 99
    result = notifier(sqs_batch("not json", foreign, json.dumps(future), booking_event()))
    assert failures(result) == []
    assert len(notifications_of("cust-42")) == 1


def test_a_failed_send_fails_the_record_and_its_retry_sends_once(
    table: str, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_user("cust-42")
    event = booking_event("booking.cancelled", version=3)
    real_send = mail.send

    def down(message: Any) -> str:
        raise RuntimeError("SES throttled")

    monkeypatch.setattr(mail, "send", down)
    assert failures(notifier(sqs_batch(event))) == ["m0"]
    (item,) = notifications_of("cust-42")
    assert item["emailStatus"] == "failed" and outbox() == []

    monkeypatch.setattr(mail, "send", real_send)
    assert failures(notifier(sqs_batch(event))) == []
    assert failures(notifier(sqs_batch(event))) == []
    (item,) = notifications_of("cust-42")
    assert item["emailStatus"] == "sent" and item["emailAttempts"] == 2
    (sent,) = outbox()
    invitation = calendar_of(sent)
    assert (invitation.method, invitation.status, invitation.sequence) == ("CANCEL", "CANCELLED", 3)
    assert store.unread_count("cust-42") == 1


def test_a_crashed_send_is_taken_over_only_after_its_lease(table: str, outbox: Outbox) -> None:
    """At least once for e-mail: a delivery that claimed the send and died leaves `sending`; a duplicate within the
    lease leaves it alone, the retry after the lease sends."""
    add_user("cust-42")
    event = booking_event("booking.confirmed")
    t0 = datetime(2026, 11, 22, 8, 0, 5, tzinfo=UTC)
    facts = service.booking_facts(event)
    (recipient,) = service.recipients(event, facts)
    # The first delivery creates the notification and claims the e-mail, then "crashes" before sending.
    note_id = notification_id(event.occurred_at, service.delivery_key(event), "cust-42")
    assert store.create(
        Notification(
            id=note_id,
            user_id="cust-42",
            event_id=event.id,
            event_type=event.type,
            title="t",
            body="b",
            created_at=event.occurred_at,
        ),
        email_pending=True,
    )
    assert store.claim_email("cust-42", note_id, now=t0, lease_seconds=service.EMAIL_LEASE_SECONDS)

    service.handle(event, now=lambda: t0 + timedelta(seconds=30))  # a duplicate, inside the lease
    assert outbox() == []
    service.handle(event, now=lambda: t0 + timedelta(seconds=service.EMAIL_LEASE_SECONDS + 1))  # the retry
    assert len(outbox()) == 1
    service.handle(event, now=lambda: t0 + timedelta(hours=1))
    assert len(outbox()) == 1
    assert recipient.user_id == "cust-42" and store.unread_count("cust-42") == 1


def test_vendor_and_advisor_are_asked_to_approve_and_told_of_cancellations(table: str, outbox: Outbox) -> None:
    add_user("cust-42")
    add_user("vendor-7", role="vendor", name="Vera")
    add_user("adv-1", role="advisor", name="Adi", locale="pt")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    repository.save_resource(
        Resource.model_validate(
            {
                "id": "r-room-3",
                "venueId": "v-1",
                "ownerId": "vendor-7",
                "name": "Meeting room 3",
                "type": "advisor",
                "capacity": 1,
                "timezone": "Europe/Lisbon",
                "city": "Lisbon",
                "attributes": {"advisorUserId": "adv-1"},
                "policy": {"unit": "minutes", "granuleMinutes": 30},
                "pricing": {"currency": "EUR", "unitPrice": 100},
                "createdAt": now,
                "updatedAt": now,
            }
        )
    )
    requested = booking_event("booking.requested", version=1, status="awaiting_approval")
    notifier(sqs_batch(requested))
    by_user = {m.to.split("<")[1].split("@")[0]: m for m in outbox()}
    assert set(by_user) == {"vendor-7", "adv-1"}  # the customer's request note is in-app only
    assert by_user["vendor-7"].subject == "Approval needed: Meeting room 3 (K7PX2Q)"
    assert by_user["adv-1"].subject == "Aprovação necessária: Meeting room 3 (K7PX2Q)"
    assert by_user["vendor-7"].part("text/calendar") is None
    assert [n["eventType"] for n in notifications_of("cust-42")] == ["booking.requested"]

    cancelled = booking_event(
        "booking.cancelled",
        version=2,
        status="cancelled",
        occurred=OCCURRED + timedelta(hours=1),
        cancellation={"reason": "plans changed", "at": "2026-11-22T09:00:00Z", "by": "vendor-7"},
    )
    notifier(sqs_batch(cancelled))
    later = outbox()[2:]
    # The vendor cancelled it: the customer and the advisor are told, not the vendor.
    assert sorted(m.to.split("<")[1].split("@")[0] for m in later) == ["adv-1", "cust-42"]
    customer_mail = next(m for m in later if "cust-42" in m.to)
    assert "Reason: plans changed" in customer_mail.text()
    assert calendar_of(customer_mail).method == "CANCEL"


def test_the_advisor_is_told_a_session_was_paid_not_of_their_own_approval(table: str, outbox: Outbox) -> None:
    add_user("cust-42")
    add_user("vendor-7", role="vendor", name="Vera")
    add_user("adv-1", role="advisor", name="Adi")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    repository.save_resource(
        Resource.model_validate(
            {
                "id": "r-room-3",
                "venueId": "v-1",
                "ownerId": "vendor-7",
                "name": "Meeting room 3",
                "type": "advisor",
                "capacity": 1,
                "timezone": "Europe/Lisbon",
                "city": "Lisbon",
                "attributes": {"advisorUserId": "adv-1"},
                "policy": {"unit": "minutes", "granuleMinutes": 30},
                "pricing": {"currency": "EUR", "unitPrice": 100},
                "createdAt": now,
                "updatedAt": now,
            }
        )
    )
    paid = booking_event("booking.confirmed", version=3, previous={"status": "held"})
    notifier(sqs_batch(paid, paid))  # delivered twice: told once
    (told,) = notifications_of("adv-1")
    assert told["eventType"] == "booking.confirmed" and told["title"] == "Booking paid: Meeting room 3 (K7PX2Q)"
    assert sorted(m.to.split("<")[1].split("@")[0] for m in outbox()) == ["adv-1", "cust-42"]
    assert notifications_of("vendor-7") == []
    # Confirmed by the advisor's own approval: only the customer hears of it.
    approved = booking_event("booking.confirmed", version=5, previous={"status": "awaiting_approval"})
    notifier(sqs_batch(approved))
    assert len(notifications_of("adv-1")) == 1


def test_users_without_a_profile_get_the_in_app_notification_only(table: str, outbox: Outbox) -> None:
    notifier(sqs_batch(booking_event("booking.confirmed")))
    (item,) = notifications_of("cust-42")
    assert "emailStatus" not in item and item["title"] == "Booking confirmed: Meeting room 3"
    assert outbox() == []


def test_in_app_only_events_send_no_email(table: str, outbox: Outbox) -> None:
    add_user("cust-42")
    for version, kind in enumerate(["booking.held", "booking.completed", "booking.no_show"], start=1):
        notifier(sqs_batch(booking_event(kind, version=version)))
    assert len(notifications_of("cust-42")) == 3 and outbox() == []
    assert store.unread_count("cust-42") == 3


@pytest.mark.parametrize("name", [n for n in events.names() if n.startswith("domain/booking.")])
def test_every_sample_booking_event_is_notified(table: str, outbox: Outbox, name: str) -> None:
    sample = events.load(name)
    # The decider's reminder of a waiting request is the vendor's (and advisor's) alone; the rest reach the customer.
    told = "vendorId" if name == "domain/booking.approval_reminder" else "customerId"
    add_user(sample["detail"]["data"][told])
    body = json.dumps(sample)
    result = notifier(sqs_batch(body, body))
    assert failures(result) == []
    assert len(notifications_of(sample["detail"]["data"][told])) == 1
    for sent in outbox():
        if sent.part("text/calendar") is not None:
            assert calendar_of(sent).sequence == sample["detail"]["data"]["version"]
