"""The notifier's conditions on DynamoDB Local: concurrent deliveries of one event make one notification, one
count and one e-mail; concurrent reads, read-alls and deletes keep the unread counter equal to the truth."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import boto3
import pytest

from slotwise.data.codec import from_item
from slotwise.events.envelope import DomainEvent
from slotwise.identity.models import Caller, User
from slotwise.identity.repository import put_user
from slotwise.notifications import mail, service, store
from slotwise.settings import get_settings

pytestmark = pytest.mark.dynamodb_local

T = TypeVar("T")
OCCURRED = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
ME = Caller(user_id="cust-42", role="customer")


def together(count: int, action: Callable[[int], T]) -> list[T]:
    barrier = threading.Barrier(count)

    def run(i: int) -> T:
        barrier.wait()
        return action(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def event(kind: str = "booking.confirmed", version: int = 2) -> DomainEvent:
    return DomainEvent(
        type=kind,
        aggregate="booking",
        aggregate_id="b-1",
        aggregate_version=version,
        occurred_at=OCCURRED + timedelta(seconds=version),
        data={
            "id": "b-1",
            "reference": "K7PX2Q",
            "resourceId": "r-1",
            "resourceName": "Room 1",
            "vendorId": "vendor-7",
            "customerId": "cust-42",
            "timezone": "Europe/Lisbon",
            "startTime": "2027-03-01T10:00:00Z",
            "endTime": "2027-03-01T11:00:00Z",
            "status": "confirmed",
            "version": version,
        },
    )


def stored(table: str) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb", endpoint_url=_endpoint())
    page = client.query(
        TableName=table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": store.partition("cust-42")}},
        ConsistentRead=True,
    )
    return [from_item(item) for item in page["Items"]]


def _endpoint() -> str:
    import os

    return os.environ["AWS_ENDPOINT_URL_DYNAMODB"]


def test_concurrent_deliveries_of_one_event_notify_once(local_table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert put_user(
        User(id="cust-42", email="ana@example.test", name="Ana", role="customer", created_at=OCCURRED, locale="pt")
    )
    sent: list[str] = []
    lock = threading.Lock()

    def fake_send(message: Any) -> str:
        time.sleep(0.05)  # a slow SES call widens the window for a second sender
        with lock:
            sent.append(str(message["To"]))
        return f"msg-{len(sent)}"

    monkeypatch.setattr(mail, "send", fake_send)
    get_settings.cache_clear()
    created = together(16, lambda _: service.handle(event()))
    assert sum(created) == 1
    (item,) = stored(local_table)
    assert item["emailStatus"] == "sent"
    assert sent == ["Ana <ana@example.test>"]
    assert store.unread_count("cust-42") == 1


def test_the_unread_count_stays_exact_under_racing_reads_and_deletes(local_table: str) -> None:
    for version in range(1, 21):
        service.handle(event("booking.held", version))
    ids = sorted(item["id"] for item in stored(local_table))
    assert len(ids) == 20 and store.unread_count("cust-42") == 20
    # Three racing reads of each of the first ten, two racing deletes of each of the next five, five untouched.
    work = [("read", ids[i]) for i in range(10) for _ in range(3)] + [
        ("delete", ids[i]) for i in range(10, 15) for _ in range(2)
    ]

    def act(i: int) -> str:
        what, target = work[i]
        try:
            if what == "read":
                service.mark_read(ME, target)
            else:
                service.delete(ME, target)
        except Exception as exc:  # the delete that lost to the other delete finds nothing
            return str(getattr(exc, "code", exc))
        return "ok"

    outcomes = together(len(work), act)
    assert outcomes.count("notification_not_found") == 5 and outcomes.count("ok") == len(work) - 5
    assert store.unread_count("cust-42") == 5
    truth = [i for i in stored(local_table) if not i.get("deleted") and not i["read"]]
    assert sorted(i["id"] for i in truth) == ids[15:]

    marked = together(4, lambda _: service.mark_all_read(ME)["marked"])
    assert sum(marked) == 5 and store.unread_count("cust-42") == 0
    # Redelivering every event changes nothing, deleted ones included.
    for version in range(1, 21):
        assert service.handle(event("booking.held", version)) == 0
    assert store.unread_count("cust-42") == 0


def test_a_new_notification_is_born_with_its_email_claimed(local_table: str) -> None:
    """The create transaction takes the e-mail claim: a duplicate finds it fresh (no second sender), a delivery
    that crashed after creating it is taken over once the lease lapsed, and a second create changes nothing."""
    t0 = OCCURRED + timedelta(minutes=1)
    note = _customer_note("e-1", "booking.confirmed", "Confirmed", "Your booking is confirmed.")
    assert store.create(note, email_pending=True, claimed_at=t0)
    (item,) = stored(local_table)
    assert (item["emailStatus"], item["emailSendingSince"], item["emailAttempts"]) == (
        "sending",
        int(t0.timestamp()),
        1,
    )
    assert not store.create(note, email_pending=True, claimed_at=t0)
    assert store.unread_count("cust-42") == 1
    lease = service.EMAIL_LEASE_SECONDS
    assert not store.claim_email("cust-42", note.id, now=t0 + timedelta(seconds=lease - 1), lease_seconds=lease)
    assert store.claim_email("cust-42", note.id, now=t0 + timedelta(seconds=lease + 1), lease_seconds=lease)
    (item,) = stored(local_table)
    assert item["emailAttempts"] == 2


def test_without_an_email_the_claim_is_not_taken(local_table: str) -> None:
    note = _customer_note("e-2", "booking.held", "Held", "Held.")
    assert store.create(note, email_pending=False, claimed_at=OCCURRED)
    (item,) = stored(local_table)
    assert item.get("emailStatus") is None and "emailSendingSince" not in item
    assert not store.claim_email("cust-42", note.id, now=OCCURRED, lease_seconds=service.EMAIL_LEASE_SECONDS)


def _customer_note(event_id: str, event_type: str, title: str, body: str) -> Any:
    """Customer cust-42's notification of one event about booking b-1."""
    from slotwise.notifications.models import Notification, notification_id

    return Notification(
        id=notification_id(OCCURRED, f"{event_type}|{event_id}", "cust-42"),
        user_id="cust-42",
        event_id=event_id,
        event_type=event_type,
        booking_id="b-1",
        booking_reference="K7PX2Q",
        title=title,
        body=body,
        locale="en",
        created_at=OCCURRED,
    )
