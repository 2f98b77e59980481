"""The notifier and the payment events: a refund e-mailed and notified once, in the customer's language, with the
booking's facts read from the table (a refund event does not carry them); a failed card refund and a payment that
is processing are in-app only; the bus rule routes exactly the events the notifier has a message for."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

import events
from slotwise import aws
from slotwise.booking.models import Booking
from slotwise.booking.store import booking_item
from slotwise.data.codec import to_item
from slotwise.events.catalogue import EVENT_TYPES, INTERNAL_EVENT_TYPES
from slotwise.events.envelope import DomainEvent
from slotwise.notifications import service, store
from slotwise.topology import TOPOLOGY
from tests.unit.notifications.conftest import (
    BOOKING_ID,
    OCCURRED,
    SentMail,
    add_user,
    booking_data,
    booking_event,
    sqs_batch,
)
from tests.unit.notifications.test_notifier import failures, notifications_of, notifier

Outbox = Callable[[], list[SentMail]]
REFUND_ID = "f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b"


def save_booking(data: dict[str, Any]) -> None:
    booking = Booking.model_validate({"lockKeys": ["r-room-3#slot"], **data})
    aws.dynamodb().put_item(TableName="slotwise-test", Item=to_item(booking_item(booking)))


@pytest.fixture
def booking(table: str) -> None:
    save_booking(booking_data(status="cancelled", version=4))


def refund_event(
    kind: str = "payment.refunded",
    *,
    destination: str = "card",
    amount: int = 2000,
    currency: str = "EUR",
    version: int = 3,
    **changes: Any,
) -> DomainEvent:
    """A Refund's event as the publisher makes it: the refund's fields, camelCase; no booking reference."""
    data: dict[str, Any] = {
        "id": REFUND_ID,
        "paymentId": "pay-1",
        "bookingId": BOOKING_ID,
        "customerId": "cust-42",
        "vendorId": "vendor-7",
        "currency": currency,
        "amount": amount,
        "destination": destination,
        "status": "succeeded" if kind == "payment.refunded" else "failed",
        "reason": "cancelled_by_customer",
        "attempts": 1,
        "version": version,
        "createdAt": "2026-12-01T08:00:00Z",
        "updatedAt": "2026-12-01T09:00:00Z",
        **changes,
    }
    return DomainEvent(
        type=kind,
        aggregate="refund",
        aggregate_id=str(data["id"]),
        aggregate_version=version,
        occurred_at=OCCURRED + timedelta(days=9),
        data=data,
        previous={"status": "pending"},
    )


def test_a_card_refund_is_emailed_and_notified_once(booking: None, outbox: Outbox) -> None:
    add_user("cust-42", name="Ana")
    event = refund_event(destination="card", amount=2000)
    assert failures(notifier(sqs_batch(event, event))) == []  # twice in one batch
    assert failures(notifier(sqs_batch(event))) == []  # and again later

    (item,) = notifications_of("cust-42")
    assert item["eventType"] == "payment.refunded" and item["emailStatus"] == "sent"
    # The reference is the booking's (read from the table), not the refund's id.
    assert (item["bookingId"], item["bookingReference"]) == (BOOKING_ID, "K7PX2Q")
    assert item["title"] == "Refund of EUR 20.00: Meeting room 3"
    assert item["body"] == "A refund of EUR 20.00 for your booking K7PX2Q (Meeting room 3) has been made to your card."
    assert store.unread_count("cust-42") == 1

    (sent,) = outbox()
    assert sent.to == "Ana <cust-42@example.test>"
    assert sent.subject == "Refund of EUR 20.00: Meeting room 3"
    text = sent.text()
    assert "EUR 20.00" in text and "to your card" in text and "Refunded to: Card" in text
    # The booking's own time, in its zone (Lisbon is UTC+0 in March).
    assert "When: 2027-03-01 10:00" in text and "Europe/Lisbon" in text
    assert "EUR 20.00" in sent.text("text/html")
    assert sent.part("text/calendar") is None  # money, not a change to the calendar


def test_a_wallet_refund_speaks_the_customers_language(booking: None, outbox: Outbox) -> None:
    add_user("cust-42", locale="pt-BR", name="Ana")
    assert failures(notifier(sqs_batch(refund_event(destination="wallet", amount=155050)))) == []
    (item,) = notifications_of("cust-42")
    assert item["title"] == "Reembolso de EUR 1.550,50: Meeting room 3"
    assert "para a sua carteira" in item["body"] and item["locale"] == "pt"
    (sent,) = outbox()
    assert sent.message["Content-Language"] == "pt"
    assert "Olá Ana," in sent.text() and "Reembolsado para: Carteira" in sent.text()


def test_a_zero_decimal_currency_gets_no_decimals(booking: None, outbox: Outbox) -> None:
    add_user("cust-42")
    notifier(sqs_batch(refund_event(currency="JPY", amount=2000)))
    (item,) = notifications_of("cust-42")
    assert item["title"] == "Refund of JPY 2,000: Meeting room 3"


def test_a_failed_card_refund_is_an_in_app_notice_only(booking: None, outbox: Outbox) -> None:
    add_user("cust-42")
    event = refund_event("payment.refund_failed", failureReason="expired_or_canceled_card")
    assert failures(notifier(sqs_batch(event, event))) == []
    (item,) = notifications_of("cust-42")
    assert item["eventType"] == "payment.refund_failed" and "emailStatus" not in item
    assert "could not be made; the amount was credited to your wallet" in item["body"]
    assert "EUR 20.00" in item["body"] and "K7PX2Q" in item["body"]
    assert outbox() == [] and store.unread_count("cust-42") == 1


def test_a_processing_payment_is_an_in_app_notice_only(table: str, outbox: Outbox) -> None:
    add_user("cust-42", locale="pt")
    event = booking_event("booking.payment_pending", status="payment_pending", previous={"status": "held"})
    assert failures(notifier(sqs_batch(event, event))) == []
    (item,) = notifications_of("cust-42")
    assert item["title"] == "Pagamento em processamento: Meeting room 3"
    assert "o seu horário continua reservado" in item["body"]
    assert "emailStatus" not in item and outbox() == []
    assert store.unread_count("cust-42") == 1


def test_a_refund_whose_booking_is_missing_is_dropped_not_retried(table: str, outbox: Outbox) -> None:
    add_user("cust-42")
    assert failures(notifier(sqs_batch(refund_event()))) == []
    assert notifications_of("cust-42") == [] and outbox() == []


@pytest.mark.parametrize(("field", "value"), [("destination", "bank"), ("amount", "lots"), ("bookingId", None)])
def test_a_malformed_refund_is_dropped(booking: None, outbox: Outbox, field: str, value: Any) -> None:
    add_user("cust-42")
    data = {**refund_event().data, field: value}
    if value is None:
        del data[field]
    assert service.handle(replace(refund_event(), data=data)) == 0
    assert notifications_of("cust-42") == []


def test_payment_events_the_customer_is_not_told_of_are_ignored(booking: None, outbox: Outbox) -> None:
    add_user("cust-42")
    sample = DomainEvent.from_bus_event(events.load("domain/payment.succeeded"))
    assert service.handle(sample) == 0
    # A refund-typed event of another aggregate is not read as a refund.
    assert service.handle(replace(refund_event(), aggregate="payment")) == 0
    assert notifications_of("cust-42") == [] and outbox() == []


def test_the_sample_refund_is_notified(table: str, outbox: Outbox) -> None:
    confirmed = events.load("domain/booking.confirmed")["detail"]["data"]
    save_booking(confirmed)
    sample = events.load("domain/payment.refunded")
    assert sample["detail"]["data"]["bookingId"] == confirmed["id"]
    add_user(sample["detail"]["data"]["customerId"])
    body = json.dumps(sample)
    assert failures(notifier(sqs_batch(body, body))) == []
    (item,) = notifications_of(sample["detail"]["data"]["customerId"])
    assert item["bookingReference"] == confirmed["reference"]
    (sent,) = outbox()
    assert "EUR 30.00" in sent.subject


def test_the_rule_routes_exactly_the_events_the_notifier_has_a_message_for() -> None:
    (rule,) = [r for r in TOPOLOGY.rules if r.target_queue == "notifications"]
    routed = set(rule.detail_types)
    # Internal events (an admin's notice to a role, page by page) go to the notifier too, never to webhooks.
    assert routed == set(service.CUSTOMER_PLANS) | set(service.PROVIDER_PLANS) | set(INTERNAL_EVENT_TYPES)
    assert routed <= set(EVENT_TYPES) | set(INTERNAL_EVENT_TYPES)
    assert {"payment.refunded", "payment.refund_failed", "booking.payment_pending"} <= routed
    assert len(rule.detail_types) == len(routed)
