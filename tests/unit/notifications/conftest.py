"""Booking events, SQS batches and the SES outbox (moto's backend) for the notifier's tests."""

from __future__ import annotations

import email
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from typing import Any

import boto3
import pytest

from slotwise.events.envelope import DomainEvent
from slotwise.identity.models import User
from slotwise.identity.repository import put_user
from slotwise.settings import get_settings

OCCURRED = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
BOOKING_ID = "5f0c6a1e-9d2b-4c39-8a51-2f7e0c1b7d42"


def booking_data(**changes: Any) -> dict[str, Any]:
    """A booking's public JSON, as the event's `data` carries it."""
    data: dict[str, Any] = {
        "id": BOOKING_ID,
        "reference": "K7PX2Q",
        "resourceId": "r-room-3",
        "resourceName": "Meeting room 3",
        "resourceType": "meeting_room",
        "venueId": "v-1",
        "vendorId": "vendor-7",
        "customerId": "cust-42",
        "createdBy": "cust-42",
        "timezone": "Europe/Lisbon",
        "startTime": "2027-03-01T10:00:00Z",
        "endTime": "2027-03-01T11:00:00Z",
        "quantity": 1,
        "status": "confirmed",
        "version": 2,
        "price": {"currency": "EUR", "amount": 4000, "quantity": 1, "lines": []},
        "title": "Quarterly review",
        "cancellation": None,
        "createdAt": "2026-11-22T07:00:00Z",
        "updatedAt": "2026-11-22T08:00:00Z",
    }
    data.update(changes)
    return data


def booking_event(
    kind: str = "booking.confirmed",
    *,
    version: int = 2,
    occurred: datetime = OCCURRED,
    previous: dict[str, Any] | None = None,
    qualifier: str = "",
    **changes: Any,
) -> DomainEvent:
    return DomainEvent(
        qualifier=qualifier,
        type=kind,
        aggregate="booking",
        aggregate_id=changes.get("id", BOOKING_ID),
        aggregate_version=version,
        occurred_at=occurred,
        data=booking_data(version=version, **changes),
        previous=previous or {},
    )


def sqs_batch(*bodies: str | DomainEvent) -> dict[str, Any]:
    """Lambda's SQS event; message ids are m0, m1, ..."""
    return {
        "Records": [
            {
                "messageId": f"m{i}",
                "receiptHandle": f"h{i}",
                "body": json.dumps(body.bus_event()) if isinstance(body, DomainEvent) else body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:notifications",
                "awsRegion": "us-east-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


@dataclass
class SentMail:
    source: str
    raw: str

    @property
    def message(self) -> Message:
        return email.message_from_string(self.raw)

    @property
    def to(self) -> str:
        return str(self.message["To"])

    @property
    def subject(self) -> str:
        return str(email.header.make_header(email.header.decode_header(self.message["Subject"])))

    def part(self, content_type: str) -> Message | None:
        for part in self.message.walk():
            if part.get_content_type() == content_type:
                return part
        return None

    def text(self, content_type: str = "text/plain") -> str:
        part = self.part(content_type)
        assert part is not None, f"no {content_type} part"
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        return payload.decode(part.get_content_charset() or "utf-8")


@pytest.fixture
def outbox(table: str) -> Callable[[], list[SentMail]]:
    """The notifier's sender verified in moto's SES; calling the fixture lists what SES accepted so far."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    boto3.client("ses").verify_email_identity(EmailAddress=get_settings().email_from)
    backend = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]

    def sent() -> list[SentMail]:
        return [SentMail(m.source, m.raw_data) for m in backend.sent_messages]

    return sent


def add_user(user_id: str, *, locale: str = "en", name: str = "Ana", role: str = "customer") -> User:
    user = User.model_validate(
        {
            "id": user_id,
            "email": f"{user_id}@example.test",
            "name": name,
            "role": role,
            "locale": locale,
            "createdAt": "2026-01-01T00:00:00Z",
        }
    )
    assert put_user(user)
    return user
