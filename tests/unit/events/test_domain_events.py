"""Stream records to domain events, and publishing them to EventBridge without losing any (fake bus)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from slotwise import aws
from slotwise.booking.models import Booking
from slotwise.booking.store import booking_item
from slotwise.data.codec import to_item
from slotwise.events import publisher
from slotwise.events.changes import event_of
from slotwise.events.envelope import DomainEvent, UnknownEnvelope
from slotwise.payments.models import Payment, Refund
from slotwise.payments.store import payment_item, refund_item
from tests.support.catalog import make_resource
from tests.support.http import call

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
_sequence = iter(range(1, 10_000))


def record(name: str, new: dict[str, Any] | None, old: dict[str, Any] | None = None) -> dict[str, Any]:
    change: dict[str, Any] = {"SequenceNumber": str(next(_sequence)), "Keys": {}}
    if new is not None:
        change["NewImage"] = to_item(new)
    if old is not None:
        change["OldImage"] = to_item(old)
    return {"eventName": name, "dynamodb": change}


def booking_json(**changes: Any) -> dict[str, Any]:
    base = {
        "id": "b-1",
        "reference": "ABC234",
        "resourceId": "r-1",
        "resourceName": "Room",
        "resourceType": "meeting_room",
        "venueId": "v-1",
        "vendorId": "vendor-1",
        "customerId": "cust-1",
        "createdBy": "cust-1",
        "timezone": "Europe/Lisbon",
        "startTime": START.isoformat(),
        "endTime": (START + timedelta(hours=1)).isoformat(),
        "quantity": 1,
        "lockKeys": ["k"],
        "status": "confirmed",
        "version": 1,
        "price": {"amount": 1000, "currency": "EUR", "quantity": 1},
        "createdAt": START.isoformat(),
        "updatedAt": START.isoformat(),
    }
    request_id = changes.pop("requestId", None)
    base.update(changes)
    item = booking_item(Booking.model_validate(base))
    return {**item, "requestId": request_id} if request_id else item


@pytest.mark.parametrize(
    ("status", "expected"),
    [("held", "booking.held"), ("awaiting_approval", "booking.requested"), ("confirmed", "booking.confirmed")],
)
def test_a_new_booking_is_announced_by_its_status(status: str, expected: str) -> None:
    event = event_of(record("INSERT", booking_json(status=status, requestId="req-1")))
    assert event is not None
    assert (event.type, event.id, event.correlation_id) == (expected, "booking:b-1:1", "req-1")
    assert event.data["reference"] == "ABC234"
    assert "lockKeys" not in event.data and "requestId" not in event.data


@pytest.mark.parametrize("status", ["cancelled", "expired", "rejected", "completed", "no_show", "confirmed"])
def test_a_status_change_is_that_status(status: str) -> None:
    old = booking_json(status="held", version=3)
    event = event_of(record("MODIFY", booking_json(status=status, version=4), old))
    assert event is not None
    assert (event.type, event.id, event.previous) == (f"booking.{status}", "booking:b-1:4", {"status": "held"})


def test_a_move_is_a_reschedule_that_remembers_the_old_times() -> None:
    old = booking_json(version=1)
    new = booking_json(
        version=2, startTime=(START + timedelta(hours=3)).isoformat(), endTime=(START + timedelta(hours=4)).isoformat()
    )
    event = event_of(record("MODIFY", new, old))
    assert event is not None and event.type == "booking.rescheduled"
    assert event.previous["startTime"] == old["startTime"] and event.previous["endTime"] == old["endTime"]


def test_a_move_by_the_operator_is_a_schedule_change() -> None:
    old = booking_json(version=1)
    later = START + timedelta(hours=2)
    new = booking_json(
        version=2,
        startTime=later.isoformat(),
        endTime=(later + timedelta(hours=1)).isoformat(),
        history=[{"at": later.isoformat(), "by": "airline", "action": "schedule_changed", "note": "Crew rest"}],
    )
    event = event_of(record("MODIFY", new, old))
    assert event is not None and event.type == "booking.schedule_changed"
    assert event.previous["startTime"] == old["startTime"]


def test_other_changes_are_updates_and_unversioned_rewrites_are_nothing() -> None:
    old = booking_json(version=1)
    updated = event_of(record("MODIFY", booking_json(version=2, title="Board"), old))
    assert updated is not None and updated.type == "booking.updated"
    assert event_of(record("MODIFY", booking_json(version=1, title="Board"), old)) is None
    assert event_of(record("REMOVE", None, old)) is None


def test_items_that_are_not_aggregates_make_no_event() -> None:
    audit = {"PK": "AUDIT#booking:b-1", "SK": "x", "type": "audit", "version": 1}
    assert event_of(record("INSERT", audit)) is None
    assert event_of(record("INSERT", {"PK": "SLOT#r-1#k", "SK": "SLOT", "used": 1})) is None


def test_resources_announce_creation_change_and_archival(table: str) -> None:
    resource = make_resource(store=False)
    item = {"PK": f"RESOURCE#{resource.id}", "SK": "RESOURCE", "type": "resource"}
    first = {**item, **resource.model_dump(mode="json", by_alias=True)}
    second = {**first, "version": 2, "name": "Renamed"}
    third = {**second, "version": 3, "active": False}
    kinds = [
        event_of(record("INSERT", first)),
        event_of(record("MODIFY", second, first)),
        event_of(record("MODIFY", third, second)),
    ]
    assert [(e.type, e.aggregate_version) for e in kinds if e is not None] == [
        ("resource.created", 1),
        ("resource.changed", 2),
        ("resource.archived", 3),
    ]


def test_the_envelope_survives_the_bus() -> None:
    event = event_of(record("INSERT", booking_json(requestId="req-9")))
    assert event is not None
    entry = event.entry("slotwise")
    assert (entry["Source"], entry["DetailType"]) == ("slotwise", "booking.confirmed")
    assert entry["EventBusName"] == "slotwise"
    detail = json.loads(entry["Detail"])
    assert detail["metadata"]["eventId"] == "booking:b-1:1" and detail["metadata"]["version"] == 1
    assert detail["metadata"]["correlationId"] == "req-9"
    back = DomainEvent.from_sqs_body(json.dumps(event.bus_event()))
    assert back == event
    with pytest.raises(UnknownEnvelope):
        DomainEvent.from_bus_event({**event.bus_event(), "source": "someone.else"})
    newer = event.bus_event()
    newer["detail"]["metadata"]["version"] = 2
    with pytest.raises(UnknownEnvelope):
        DomainEvent.from_bus_event(newer)


class FakeBus:
    """PutEvents that refuses the entries whose event id is in `refuse` (each refusal used up once, or forever)."""

    def __init__(self, refuse: dict[str, int] | None = None) -> None:
        self.refuse = dict(refuse or {})
        self.calls: list[list[dict[str, Any]]] = []
        self.accepted: list[str] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(Entries)
        outcomes = []
        for entry in Entries:
            event_id = json.loads(entry["Detail"])["metadata"]["eventId"]
            if self.refuse.get(event_id, 0) > 0:
                self.refuse[event_id] -= 1
                outcomes.append({"ErrorCode": "InternalFailure", "ErrorMessage": "try again"})
            else:
                self.accepted.append(event_id)
                outcomes.append({"EventId": event_id})
        return {"FailedEntryCount": sum(1 for o in outcomes if "ErrorCode" in o), "Entries": outcomes}


@pytest.fixture
def bus(monkeypatch: pytest.MonkeyPatch) -> FakeBus:
    fake = FakeBus()
    monkeypatch.setattr(aws, "events", lambda: fake)
    monkeypatch.setattr(publisher.time, "sleep", lambda _: None)
    return fake


def stream_batch(count: int) -> list[dict[str, Any]]:
    return [record("INSERT", booking_json(id=f"b-{i}")) for i in range(count)]


def test_a_batch_goes_out_ten_entries_per_call(bus: FakeBus) -> None:
    assert publisher.publish_stream_batch(stream_batch(25)) == []
    assert [len(call) for call in bus.calls] == [10, 10, 5]
    assert len(bus.accepted) == 25


def test_refused_entries_are_sent_again_and_only_they(bus: FakeBus) -> None:
    bus.refuse = {"booking:b-3:1": 2}
    assert publisher.publish_stream_batch(stream_batch(5)) == []
    assert [len(call) for call in bus.calls] == [5, 1, 1]
    assert sorted(bus.accepted) == sorted(f"booking:b-{i}:1" for i in range(5))


def test_an_entry_refused_every_time_names_its_record(bus: FakeBus) -> None:
    batch = stream_batch(4)
    bus.refuse = {"booking:b-2:1": 99}
    failed = publisher.publish_stream_batch(batch)
    assert failed == [batch[2]["dynamodb"]["SequenceNumber"]]
    assert len(bus.calls) == publisher.ATTEMPTS


def test_the_publisher_function_reports_batch_item_failures(bus: FakeBus) -> None:
    from infra.local.functions import invoke

    batch = stream_batch(3)
    bus.refuse = {"booking:b-1:1": 99}
    result = invoke("publisher", {"Records": batch})
    assert result == {"batchItemFailures": [{"itemIdentifier": batch[1]["dynamodb"]["SequenceNumber"]}]}


def test_the_request_id_of_a_booking_becomes_its_events_correlation_id(table: str) -> None:
    room = make_resource()
    body = {"resourceId": room.id, "startTime": START.isoformat(), "endTime": (START + timedelta(hours=1)).isoformat()}
    created = call("POST", "/api/v1/bookings", body=body, user="cust-1").body
    stored = aws.dynamodb().get_item(TableName=table, Key=to_item({"PK": f"BOOKING#{created['id']}", "SK": "BOOKING"}))
    assert stored["Item"]["requestId"]["S"]
    assert "requestId" not in created


def test_empty_maps_as_dynamodb_local_streams_them_are_read() -> None:
    item = record("INSERT", booking_json(metadata={}))
    item["dynamodb"]["NewImage"]["metadata"] = {}  # DynamoDB Local 3.3.0 streams `{"M": {}}` as `{}`
    event = event_of(item)
    assert event is not None and event.data["metadata"] == {}


def test_the_catalogue_has_a_valid_sample_of_every_event_type() -> None:
    from events import load, names
    from slotwise.events.catalogue import EVENT_TYPES

    samples = {name.removeprefix("domain/") for name in names() if name.startswith("domain/")}
    assert samples == set(EVENT_TYPES)
    for name in samples:
        event = DomainEvent.from_bus_event(load(f"domain/{name}"))
        assert event.type == name
        assert event.id.startswith(f"{event.aggregate}:{event.aggregate_id}:{event.aggregate_version}")
        assert event.id.endswith(":reminder-60") == (name == "booking.reminder")


@pytest.mark.parametrize(
    ("name", "model", "status"),
    [
        ("payment.succeeded", Payment, "succeeded"),
        ("payment.failed", Payment, "failed"),
        ("payment.canceled", Payment, "canceled"),
        ("payment.refunded", Refund, "succeeded"),
        ("payment.refund_failed", Refund, "failed"),
        ("booking.payment_pending", Booking, "payment_pending"),
    ],
)
def test_payment_samples_are_their_aggregate_as_published(name: str, model: Any, status: str) -> None:
    """A sample's data is what consumers read back as the aggregate: it must still validate as one."""
    from events import load

    event = DomainEvent.from_bus_event(load(f"domain/{name}"))
    assert event.aggregate == {Payment: "payment", Refund: "refund", Booking: "booking"}[model]
    # The publisher leaves a booking's lock keys out (storage, not the booking); the model needs them.
    parsed = model.model_validate({"lockKeys": [], **event.data} if model is Booking else event.data)
    assert (parsed.id, parsed.version, parsed.status) == (event.aggregate_id, event.aggregate_version, status)


# --- payments and refunds ----------------------------------------------------------------------------------------


def payment_json(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "pay-1",
        "booking_id": "b-1",
        "booking_reference": "ABC234",
        "customer_id": "cust-1",
        "created_by": "cust-1",
        "vendor_id": "vendor-1",
        "resource_id": "r-1",
        "attempt": 1,
        "currency": "EUR",
        "amount": 1000,
        "wallet_amount": 0,
        "card_amount": 1000,
        "status": "requires_payment",
        "provider": "stripe",
        "events": ["evt_1"],
        "version": 1,
        "created_at": START,
        "updated_at": START,
        "expires_at": START + timedelta(minutes=15),
    }
    base.update(changes)
    return payment_item(Payment.model_validate(base))


def refund_json(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "ref-1",
        "payment_id": "pay-1",
        "booking_id": "b-1",
        "customer_id": "cust-1",
        "vendor_id": "vendor-1",
        "currency": "EUR",
        "amount": 500,
        "destination": "card",
        "status": "requested",
        "reason": "cancelled_by_customer",
        "version": 1,
        "created_at": START,
        "updated_at": START,
    }
    base.update(changes)
    return refund_item(Refund.model_validate(base))


def test_a_payment_is_announced_when_it_settles_and_only_then() -> None:
    opened = payment_json()
    processing = payment_json(status="processing", version=2)
    paid = payment_json(status="succeeded", version=3, updated_at=START + timedelta(minutes=5))
    assert event_of(record("INSERT", opened)) is None
    assert event_of(record("MODIFY", processing, opened)) is None
    event = event_of(record("MODIFY", paid, processing))
    assert event is not None
    assert (event.type, event.id, event.previous) == ("payment.succeeded", "payment:pay-1:3", {"status": "processing"})
    assert event.occurred_at == START + timedelta(minutes=5)
    assert event.data["bookingReference"] == "ABC234" and event.data["cardAmount"] == 1000
    # The index keys and the processed provider events are storage, not the payment.
    assert not {"PK", "SK", "type", "events"} & set(event.data)
    assert not any(key.startswith("GSI") for key in event.data)
    # A later change that is not a new status (a refund recorded on it) is no second `payment.succeeded`.
    refunded = payment_json(status="succeeded", version=4, amount_refunded=500)
    assert event_of(record("MODIFY", refunded, paid)) is None


@pytest.mark.parametrize(
    ("status", "expected"),
    [("failed", "payment.failed"), ("canceled", "payment.canceled"), ("refunded_unconfirmed", "payment.succeeded")],
)
def test_an_open_payment_that_ends_says_how(status: str, expected: str) -> None:
    event = event_of(record("MODIFY", payment_json(status=status, version=2), payment_json()))
    assert event is not None and event.type == expected and event.aggregate == "payment"


def test_a_wallet_refund_is_refunded_at_once_a_card_refund_when_the_provider_says() -> None:
    wallet = event_of(record("INSERT", refund_json(destination="wallet", status="succeeded")))
    assert wallet is not None
    assert (wallet.type, wallet.id, wallet.previous) == ("payment.refunded", "refund:ref-1:1", {})
    assert wallet.data["destination"] == "wallet" and wallet.data["bookingId"] == "b-1"

    requested = refund_json()
    pending = refund_json(status="pending", version=2)
    assert event_of(record("INSERT", requested)) is None
    assert event_of(record("MODIFY", pending, requested)) is None
    done = event_of(record("MODIFY", refund_json(status="succeeded", version=3), pending))
    assert done is not None and (done.type, done.aggregate, done.aggregate_version) == ("payment.refunded", "refund", 3)
    failed = event_of(record("MODIFY", refund_json(status="failed", version=3), pending))
    assert failed is not None and failed.type == "payment.refund_failed"
    # A rewrite of the same version (an index-only change) is nothing.
    final = refund_json(status="failed", version=3)
    assert event_of(record("MODIFY", final, dict(final))) is None


def test_session_events_are_named_for_what_happened() -> None:
    """Issue 15: a start is `booking.started`; a request's half-way reminder (same version) is a notice, once."""
    started = event_of(record("MODIFY", booking_json(status="in_progress", version=2), booking_json()))
    assert started is not None and started.type == "booking.started"
    assert started.previous == {"status": "confirmed"}
    waiting = {"status": "awaiting_approval", "expiresAt": (START + timedelta(days=2)).isoformat()}
    before = booking_json(**waiting, approvalReminderAt=START.isoformat())
    reminded = booking_json(**waiting, approvalReminderAt=START.isoformat(), approvalReminded=True)
    notice = event_of(record("MODIFY", reminded, before))
    assert notice is not None and notice.type == "booking.approval_reminder"
    assert notice.id == "booking:b-1:1:approval-reminder"
    assert event_of(record("MODIFY", reminded, reminded)) is None  # rewritten again: no second notice
    # While the reminder is due the holds index finds the request at its half-way moment, then at its expiry.
    assert before["GSI3SK"].startswith(f"{int(START.timestamp()):012d}#")
    assert reminded["GSI3SK"].startswith(f"{int((START + timedelta(days=2)).timestamp()):012d}#")


def payment_image(status: str, version: int) -> dict[str, Any]:
    return {
        "PK": "PAYMENT#p-1",
        "SK": "PAYMENT",
        "id": "p-1",
        "bookingId": "b-1",
        "status": status,
        "version": version,
        "updatedAt": START.isoformat(),
    }


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ("requires_payment", "authorized", "payment.authorized"),
        ("capturing", "succeeded", "payment.captured"),
        ("authorized", "succeeded", "payment.captured"),
        ("authorized", "canceled", "payment.voided"),
        ("requires_payment", "canceled", "payment.canceled"),
        ("requires_payment", "succeeded", "payment.succeeded"),
        ("authorized", "capturing", None),
    ],
)
def test_an_authorizations_payment_events(before: str, after: str, expected: str | None) -> None:
    event = event_of(record("MODIFY", payment_image(after, 2), payment_image(before, 1)))
    assert (event.type if event is not None else None) == expected


def test_the_stream_filter_lets_through_every_item_that_makes_an_event() -> None:
    """In AWS the publisher only sees records whose sort key its event source filter names (the local poller does not
    filter): an aggregate missing from the filter publishes locally and never in a deployed stack."""
    from slotwise.events import changes
    from slotwise.topology import TOPOLOGY

    (publisher,) = TOPOLOGY.stream_consumers
    assert set(changes._AGGREGATES) <= set(publisher.sort_keys)
