"""An admin's notice to a role through the real outbox on DynamoDB Local: the notice item's stream records are the
`notice.page` events (one per page, none once done), each delivered twice to the notifier, and every user of the
role ends with exactly one notification."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from infra.local.functions import invoke
from infra.local.streams import StreamPoller
from slotwise import aws
from slotwise.events.envelope import DomainEvent
from slotwise.identity.models import Caller, User
from slotwise.identity.repository import put_user
from slotwise.notifications import notices, service
from slotwise.notifications import store as notification_store
from slotwise.notifications.models import NoticeInput
from slotwise.topology import StreamConsumerSpec

pytestmark = pytest.mark.dynamodb_local

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class Bus:
    def __init__(self) -> None:
        self.accepted: list[DomainEvent] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        for entry in Entries:
            bus_event = {
                "source": entry["Source"],
                "detail-type": entry["DetailType"],
                "detail": json.loads(entry["Detail"]),
            }
            self.accepted.append(DomainEvent.from_bus_event(bus_event))
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "x"} for _ in Entries]}


def test_a_role_notice_is_delivered_page_by_page_through_the_stream(
    local_table: str, dynamodb_local: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.setattr(notices, "PAGE_SIZE", 4)
    bus = Bus()
    monkeypatch.setattr(aws, "events", lambda: bus)
    advisors = [f"adv-{n:02d}" for n in range(10)]
    for advisor in advisors:
        assert put_user(User(id=advisor, email=f"{advisor}@x.test", name=advisor, role="advisor", created_at=EPOCH))
    assert put_user(User(id="cust-1", email="c@x.test", name="C", role="customer", created_at=EPOCH))
    sent = notices.send_notice(Caller("root", "admin"), NoticeInput(role="advisor", title="Hi", body="New hours"))
    streams = boto3.client("dynamodbstreams", endpoint_url=dynamodb_local)
    arn = boto3.client("dynamodb", endpoint_url=dynamodb_local).describe_table(TableName=local_table)["Table"][
        "LatestStreamArn"
    ]
    dead: list[str] = []
    stream = StreamPoller(streams, arn, StreamConsumerSpec("publisher"), invoke, dead_letter=dead.append, log=print)
    pages: list[DomainEvent] = []
    for _ in range(10):
        stream.poll_once()
        fresh = [e for e in bus.accepted if e.type == "notice.page" and e not in pages]
        if not fresh:
            break
        for event in fresh:
            pages.append(event)
            service.handle(event)
            service.handle(event)  # at-least-once delivery: the same page again changes nothing
    assert dead == []
    assert [e.aggregate_version for e in pages] == [1, 2, 3]  # 10 advisors, 4 a page
    assert all(e.aggregate_id == sent["id"] for e in pages)
    for advisor in advisors:
        inbox, _ = notification_store.list_page(advisor, unread_only=False, limit=10, start_key=None)
        assert [n.title for n in inbox] == ["Hi"] and notification_store.unread_count(advisor) == 1
    assert notification_store.list_page("cust-1", unread_only=False, limit=10, start_key=None)[0] == []
    done = notification_store.get_notice(sent["id"])
    assert done is not None and (done.status, done.delivered) == ("done", 10)
