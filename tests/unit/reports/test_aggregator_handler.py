"""The `report_aggregates` consumer through its real handler (moto): a booking event from the queue lands in the
period items; a body that is not a Slotwise event is dropped, not retried; a resource or payment event changes
nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from infra.local.functions import invoke
from slotwise.booking import store as booking_store
from slotwise.booking.models import Booking
from slotwise.events.envelope import DomainEvent
from slotwise.reports import store
from tests.support.catalog import make_resource
from tests.unit.live.test_pusher import sqs_batch
from tests.unit.reports.test_reports_api import booking, paid

AT = datetime(2027, 3, 1, tzinfo=UTC)


def test_a_queued_booking_event_is_aggregated_and_junk_is_dropped(table: str) -> None:
    dorm = make_resource(capacity=3, policy={"unit": "night"})
    data = booking(dorm.id, quantity=2, checkIn="2027-03-04", checkOut="2027-03-05", payment=paid(4200))
    confirmed = DomainEvent("booking.confirmed", "booking", "b-1", 2, AT, data)
    other = DomainEvent("payment.succeeded", "payment", "p-1", 2, AT, {"id": "p-1", "resourceId": dorm.id})
    bodies = [json.dumps(e.bus_event()) for e in (confirmed, other, confirmed)] + ["not json"]
    assert invoke("report_aggregates", sqs_batch(*bodies)) == {"batchItemFailures": []}
    items = {item["SK"]: item for item in store.month_items(dorm.id, "2027-03")}
    assert int(items["UNITS"]["d04"]) == 2
    assert (int(items["DAY#04#EUR"]["gross"]), int(items["DAY#04#EUR"]["bookings"])) == (4200, 1)
    assert set(items) == {"UNITS", "DAY#04#EUR"}


def test_a_failed_card_refund_becomes_a_wallet_credit_once(table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    dorm = make_resource(capacity=3, policy={"unit": "night"})
    data = booking(
        dorm.id,
        status="cancelled",
        checkIn="2027-03-04",
        checkOut="2027-03-05",
        payment=paid(4000, refunded=4000),
        cancellation={"by": "cust", "at": AT.isoformat()},
    )
    cancelled = DomainEvent("booking.cancelled", "booking", "b-1", 3, AT, data)
    stored = Booking.model_validate(
        {
            **data,
            "reference": "ABC123",
            "resourceName": "Dorm",
            "resourceType": "dorm",
            "venueId": dorm.venue_id,
            "vendorId": dorm.owner_id,
            "customerId": "cust",
            "createdBy": "cust",
            "startTime": "2027-03-04T15:00:00Z",
            "endTime": "2027-03-05T11:00:00Z",
            "lockKeys": [],
            "createdAt": AT,
            "updatedAt": AT,
        }
    )
    # The aggregator reads the refund's booking (its resource, day and payment).
    monkeypatch.setattr(booking_store, "get_booking", lambda booking_id: stored if booking_id == "b-1" else None)
    refund = {"id": "r-1", "bookingId": "b-1", "paymentId": "p-1", "destination": "card", "amount": 4000}
    failed = DomainEvent("payment.refund_failed", "refund", "r-1", 3, AT, refund)
    of_top_up = DomainEvent("payment.refund_failed", "refund", "r-2", 2, AT, {**refund, "id": "r-2", "bookingId": ""})
    other_payment = DomainEvent("payment.refund_failed", "refund", "r-3", 2, AT, {**refund, "paymentId": "p-old"})
    bodies = [json.dumps(e.bus_event()) for e in (cancelled, failed, failed, of_top_up, other_payment)]
    assert invoke("report_aggregates", sqs_batch(*bodies)) == {"batchItemFailures": []}
    day = {item["SK"]: item for item in store.month_items(dorm.id, "2027-03")}["DAY#04#EUR"]
    assert (int(day["refunds"]), int(day["walletCredits"]), int(day["cancellations"])) == (4000, 4000, 1)
