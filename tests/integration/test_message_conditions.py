"""Messages' and clearing notifications' conditions on DynamoDB Local: a message and its notification commit
together or not at all, concurrent posts keep the recipient's unread count exact, an admin's concurrent deletions
audit once, and clearing one's notifications touches only one's own and leaves the counter exact."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from slotwise import aws, errors
from slotwise.audit import log as audit
from slotwise.booking.models import Booking
from slotwise.booking.store import booking_item
from slotwise.catalog.models import Resource
from slotwise.data.codec import from_item, to_item
from slotwise.data.dynamo import table_name
from slotwise.identity.models import Caller
from slotwise.messages import service, store
from slotwise.messages.models import Message, MessageInput, new_message_id
from slotwise.notifications import service as notifications
from slotwise.notifications import store as notification_store
from slotwise.notifications.models import Notification, notification_id
from tests.support.catalog import make_resource

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
ADVISOR = "adv-1"
CUSTOMER = Caller(user_id="cust-1", role="customer")
ADMIN = Caller(user_id="admin-1", role="admin")


@pytest.fixture(autouse=True)
def _quiet_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


def stored_booking(resource: Resource, customer: str = "cust-1") -> Booking:
    booking = Booking.model_validate(
        {
            "id": f"b-{customer}",
            "reference": "R00001",
            "resourceId": resource.id,
            "resourceName": resource.name,
            "resourceType": resource.type,
            "venueId": resource.venue_id,
            "vendorId": resource.owner_id,
            "customerId": customer,
            "createdBy": customer,
            "timezone": resource.timezone,
            "startTime": START.isoformat(),
            "endTime": (START + timedelta(hours=1)).isoformat(),
            "quantity": 1,
            "lockKeys": [],
            "status": "confirmed",
            "price": {"amount": 1000, "currency": "EUR", "quantity": 1},
            "createdAt": START.isoformat(),
            "updatedAt": START.isoformat(),
        }
    )
    aws.dynamodb().put_item(TableName=table_name(), Item=to_item(booking_item(booking)))
    return booking


def everything() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": table_name()}
    while True:
        page = aws.dynamodb().scan(**request)
        items += [from_item(i) for i in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def messages_of(booking_id: str) -> list[Message]:
    found, _ = store.page(booking_id, limit=100, start_key=None)
    return found


def attempt(action: Any) -> str:
    try:
        action()
        return "ok"
    except errors.SlotwiseError as error:
        return error.code


def test_a_message_for_a_missing_booking_writes_nothing(local_table: str) -> None:
    before = everything()
    at = datetime.now(UTC)
    message = Message(
        id=new_message_id(at),
        booking_id="no-such",
        author_id="cust-1",
        author_role="customer",
        text="hi",
        created_at=at,
    )
    note = Notification(
        id=notification_id(at, f"message.posted|{message.id}", ADVISOR),
        user_id=ADVISOR,
        event_id=message.id,
        event_type="message.posted",
        title="t",
        body="b",
        created_at=at,
    )
    steps = notification_store.creation_steps(note)
    assert attempt(lambda: store.post(message, notifications=steps, charge=lambda tx: None)) == "booking_not_found"
    assert everything() == before


def test_a_taken_notification_key_cancels_the_message_too(local_table: str) -> None:
    booking = stored_booking(make_resource(kind="advisor", attributes={"advisorUserId": ADVISOR}))
    at = datetime.now(UTC)
    message = Message(
        id=new_message_id(at),
        booking_id=booking.id,
        author_id="cust-1",
        author_role="customer",
        text="hi",
        created_at=at,
    )
    note = Notification(
        id=notification_id(at, f"message.posted|{message.id}", ADVISOR),
        user_id=ADVISOR,
        event_id=message.id,
        event_type="message.posted",
        title="t",
        body="b",
        created_at=at,
    )
    assert notification_store.create(note, email_pending=False)
    steps = notification_store.creation_steps(note)
    assert attempt(lambda: store.post(message, notifications=steps, charge=lambda tx: None)) == "message_conflict"
    assert messages_of(booking.id) == []
    assert notification_store.unread_count(ADVISOR) == 1


def test_concurrent_posts_are_all_kept_and_counted_once_each(local_table: str) -> None:
    booking = stored_booking(make_resource(kind="advisor", attributes={"advisorUserId": ADVISOR}))
    gate = threading.Barrier(12, timeout=30)

    def post(n: int) -> str:
        gate.wait()
        return attempt(lambda: service.post_message(CUSTOMER, booking.id, MessageInput(text=f"message {n}")))

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = Counter(pool.map(post, range(12)))
    assert outcomes == Counter({"ok": 12})
    stored = messages_of(booking.id)
    assert sorted(m.text or "" for m in stored) == sorted(f"message {n}" for n in range(12))
    assert [m.id for m in stored] == sorted(m.id for m in stored)  # oldest first
    inbox, _ = notification_store.list_page(ADVISOR, unread_only=True, limit=100, start_key=None)
    assert len(inbox) == 12 and notification_store.unread_count(ADVISOR) == 12


def test_concurrent_deletions_tombstone_once_with_one_audit_entry(local_table: str) -> None:
    booking = stored_booking(make_resource(kind="advisor", attributes={"advisorUserId": ADVISOR}))
    message = service.post_message(CUSTOMER, booking.id, MessageInput(text="call me on 555"))
    at = datetime.now(UTC)
    gate = threading.Barrier(6, timeout=30)

    def remove(_: int) -> bool:
        gate.wait()
        entry = audit.entry(ADMIN, "message.delete", "message", message.id, at=at)
        return store.tombstone(booking.id, message.id, now=at, audit=entry)

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = Counter(pool.map(remove, range(6)))
    assert outcomes == Counter({True: 1, False: 5})
    (kept,) = messages_of(booking.id)
    assert kept.deleted and kept.text is None
    entries, _ = audit.query(target=f"message:{message.id}", actor=None, frm=None, to=None, limit=10, cursor=None)
    assert len(entries) == 1


def _notify(user: str, n: int) -> Notification:
    at = START + timedelta(seconds=n)
    note = Notification(
        id=notification_id(at, f"test|{n}", user),
        user_id=user,
        event_id=f"e-{n}",
        event_type="booking.confirmed",
        title="t",
        body="b",
        created_at=at,
    )
    assert notification_store.create(note, email_pending=False)
    return note


def test_clearing_deletes_only_the_callers_and_keeps_the_counter_exact(local_table: str) -> None:
    mine = [_notify("cust-1", n) for n in range(230)]
    theirs = [_notify("cust-2", n) for n in range(5)]
    caller = CUSTOMER
    for note in mine[:40]:
        notifications.mark_read(caller, note.id)
    assert notification_store.unread_count("cust-1") == 190
    # Notifications keep arriving while the caller clears: each is either deleted or left unread and counted.
    stop = threading.Event()
    arrived: list[Notification] = []

    def arrive() -> None:
        n = 1000
        while not stop.is_set() and n < 1030:
            arrived.append(_notify("cust-1", n))
            n += 1

    writer = threading.Thread(target=arrive)
    writer.start()
    try:
        result = notifications.delete_all(caller)
    finally:
        stop.set()
        writer.join()
    while result["more"]:
        result = notifications.delete_all(caller)
    left, _ = notification_store.list_page("cust-1", unread_only=False, limit=100, start_key=None)
    assert notification_store.unread_count("cust-1") == len(left)
    assert notifications.delete_all(caller)["more"] is False
    assert notification_store.list_page("cust-1", unread_only=False, limit=100, start_key=None)[0] == []
    assert notification_store.unread_count("cust-1") == 0
    others, _ = notification_store.list_page("cust-2", unread_only=False, limit=100, start_key=None)
    assert sorted(n.id for n in others) == sorted(n.id for n in theirs)
    assert notification_store.unread_count("cust-2") == 5


def test_a_role_notice_reaches_each_user_once_under_concurrent_redelivery(local_table: str) -> None:
    from slotwise.data.codec import to_item as plain_to_item
    from slotwise.events.changes import event_of
    from slotwise.identity.models import User
    from slotwise.identity.repository import put_user
    from slotwise.notifications import notices
    from slotwise.notifications.models import NoticeInput

    customers = [f"c-{n:03d}" for n in range(230)]
    for customer in customers:
        assert put_user(User(id=customer, email=f"{customer}@x.test", name=customer, role="customer", created_at=START))
    sent = notices.send_notice(ADMIN, NoticeInput(role="customer", title="Hello", body="All of you"))
    old: dict[str, Any] | None = None
    pages = 0
    while True:
        notice = notification_store.get_notice(sent["id"])
        assert notice is not None
        image = {"PK": f"NOTICE#{notice.id}", "SK": "NOTICE", **notice.model_dump(mode="json", by_alias=True)}
        record = {
            "eventName": "MODIFY" if old else "INSERT",
            "dynamodb": {"NewImage": plain_to_item(image), **({"OldImage": plain_to_item(old)} if old else {})},
        }
        event = event_of(record)
        if event is None:
            break
        gate = threading.Barrier(4, timeout=30)

        def deliver(_: int, event: Any = event, gate: threading.Barrier = gate) -> int:
            gate.wait()
            return notifications.handle(event)

        # The same page delivered four times at once: its notifications are made once, the notice moves once.
        with ThreadPoolExecutor(max_workers=4) as pool:
            created = sum(pool.map(deliver, range(4)))
        assert created == min(notices.PAGE_SIZE, len(customers) - pages * notices.PAGE_SIZE)
        pages += 1
        old = image
    assert pages == 3
    done = notification_store.get_notice(sent["id"])
    assert done is not None and (done.status, done.page, done.delivered) == ("done", 3, len(customers))
    for customer in customers:
        inbox, _ = notification_store.list_page(customer, unread_only=False, limit=10, start_key=None)
        assert len(inbox) == 1 and notification_store.unread_count(customer) == 1
