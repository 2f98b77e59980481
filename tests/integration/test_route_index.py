"""The route index at catalogue scale, on DynamoDB Local: 10,000 departures over 50 routes and 20 days, and one
route-day's flight search costs one Query page and one BatchGetItem — no Scan, whatever the catalogue's size."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from slotwise import aws
from slotwise.booking.flights import FlightSearch, search
from slotwise.catalog.models import Route
from slotwise.catalog.repository import _resource_item
from slotwise.data.codec import to_item
from slotwise.data.dynamo import table_name
from slotwise.identity.models import Caller
from tests.support.catalog import make_resource
from tests.support.engine import engine

pytestmark = pytest.mark.dynamodb_local


@pytest.fixture(scope="module")
def dynamodb_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """This module loads 10,000 flights: an engine of its own, so the session's stays light."""
    # Why: the session's `dynamodb_local` in tests/integration/conftest.py.
    yield from engine(tmp_path_factory)


ORIGINS = ("LIS", "OPO", "MAD", "BCN", "CDG")
DESTINATIONS = ("JFK", "EWR", "BOS", "ORD", "MIA", "LAX", "SFO", "SEA", "YYZ", "MEX")
FIRST_DAY = date.today() + timedelta(days=30)
DAYS = 20


def _catalogue() -> list[dict[str, Any]]:
    items = []
    template = make_resource(
        kind="seat_pool",
        policy={"unit": "fixed", "fixedStart": "2030-01-01T10:00:00Z", "fixedEnd": "2030-01-01T13:00:00Z"},
        store=False,
    )
    n = 0
    for day in range(DAYS):
        for origin in ORIGINS:
            for destination in DESTINATIONS:
                for hour in range(10):  # 10 departures per route-day: 20 x 50 x 10 = 10,000
                    start = datetime.combine(FIRST_DAY + timedelta(days=day), datetime.min.time(), UTC) + timedelta(
                        hours=8 + hour
                    )
                    policy = template.policy.model_copy(
                        update={"fixed_start": start, "fixed_end": start + timedelta(hours=3)}
                    )
                    cabin = template.model_copy(
                        update={
                            "id": f"cabin-{n}",
                            "policy": policy,
                            "route": Route(origin=origin, destination=destination, flight_number=f"SW{n % 9000 + 1}"),
                        }
                    )
                    items.append(_resource_item(cabin))
                    n += 1
    return items


def _load(items: list[dict[str, Any]]) -> None:
    client = aws.dynamodb()
    for i in range(0, len(items), 25):
        request = {table_name(): [{"PutRequest": {"Item": to_item(item)}} for item in items[i : i + 25]]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def test_one_route_day_is_one_query_page_in_a_10000_flight_catalogue(local_table: str) -> None:
    _load(_catalogue())
    calls: Counter[str] = Counter()

    def count(event_name: str, **_: Any) -> None:
        calls[event_name.rsplit(".", 1)[-1]] += 1

    client = aws.dynamodb()
    client.meta.events.register("before-call.dynamodb", count)
    try:
        day = FIRST_DAY + timedelta(days=7)
        found = search(
            Caller(user_id="traveller", role="customer"),
            FlightSearch(origin="MAD", destination="ORD", day=day),
            datetime.now(UTC),
        )
    finally:
        client.meta.events.unregister("before-call.dynamodb", count)
    assert len(found["flights"]) == 10
    assert all(f["departureTime"].startswith(day.isoformat()) for f in found["flights"])
    assert dict(calls) == {"Query": 1, "BatchGetItem": 1}
