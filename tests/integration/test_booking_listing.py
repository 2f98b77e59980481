"""Listing bookings through the sparse creator index (GSI4) on DynamoDB Local."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest

from slotwise.booking import create, queries
from slotwise.booking.models import Booking, BookingCreate
from slotwise.identity.models import Caller
from tests.support.catalog import make_resource

START = datetime(2027, 5, 3, 9, 0, tzinfo=UTC)
AGENT = Caller("agent-1", "agent")


@pytest.fixture(autouse=True)
def _quiet_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


def made(caller: Caller, resource_id: str, hours: int, customer: str | None = None) -> Booking:
    start = START + timedelta(hours=hours)
    data = BookingCreate.model_validate(
        {"resourceId": resource_id, "startTime": start, "endTime": start + timedelta(hours=1), "customerId": customer}
    )
    return create.create_booking(caller, data).booking


def test_the_creator_index_pages_an_agents_bookings_in_start_order(local_table: str) -> None:
    room = make_resource(capacity=1)
    # Made out of start order, for several customers; one for the agent themself and one by another agent.
    hours = [6, 0, 4, 2, 8]
    mine = {h: made(AGENT, room.id, h, customer=f"cust-{h}") for h in hours}
    made(AGENT, room.id, 10)
    made(Caller("agent-2", "agent"), room.id, 12, customer="cust-0")

    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        found, cursor = queries.list_bookings(AGENT, limit=2, cursor=cursor)
        pages.append([b.id for b in found])
        if cursor is None:
            break
    assert [i for page in pages for i in page] == [mine[h].id for h in sorted(hours)]
    assert [len(page) for page in pages] == [2, 2, 1]

    window, _ = queries.list_bookings(
        AGENT, created_by="me", frm=START + timedelta(hours=2), to=START + timedelta(hours=6)
    )
    assert [b.id for b in window] == [mine[h].id for h in (2, 4, 6)]

    # The index is sparse: only the bookings made for someone else are in it.
    items = boto3.client("dynamodb").scan(TableName=local_table, IndexName="GSI4")["Items"]
    assert sorted(i["GSI4PK"]["S"] for i in items) == ["CREATOR#agent-1"] * 5 + ["CREATOR#agent-2"]
