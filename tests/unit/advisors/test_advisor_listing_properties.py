"""Property: an advisor's merged `GET /bookings` equals a brute-force sort of their resources' bookings, whatever
the bookings' times (ties across resources included), the number of resources and the page size; every page
reads each booking once and nothing of another advisor. And the profile lists parse to clean tags."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slotwise import aws
from slotwise.booking import queries
from slotwise.booking.models import Booking
from slotwise.booking.store import booking_item
from slotwise.catalog.models import profile_tags
from slotwise.data.codec import to_item
from slotwise.data.dynamo import table_name
from slotwise.identity.models import Caller
from tests.support.catalog import make_resource

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def stored(resource_id: str, half_hours: int, status: str) -> Booking:
    start = START + timedelta(minutes=30 * half_hours)
    booking = Booking.model_validate(
        {
            "id": str(uuid.uuid4()),
            "reference": "R00001",
            "resourceId": resource_id,
            "resourceName": "Session",
            "resourceType": "advisor",
            "venueId": "v-1",
            "vendorId": "vendor-1",
            "customerId": "cust-1",
            "createdBy": "cust-1",
            "timezone": "UTC",
            "startTime": start.isoformat(),
            "endTime": (start + timedelta(minutes=30)).isoformat(),
            "quantity": 1,
            "lockKeys": [],
            "status": status,
            "price": {"amount": 1000, "currency": "EUR", "quantity": 1},
            "createdAt": START.isoformat(),
            "updatedAt": START.isoformat(),
        }
    )
    aws.dynamodb().put_item(TableName=table_name(), Item=to_item(booking_item(booking)))
    return booking


bookings_spec = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=3),  # which resource (3: another advisor's)
        st.integers(min_value=0, max_value=6),  # start, in half hours (ties across resources on purpose)
        st.sampled_from(["confirmed", "cancelled", "awaiting_approval"]),
    ),
    max_size=14,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=bookings_spec, resources=st.integers(min_value=1, max_value=3), size=st.integers(min_value=1, max_value=5))
def test_the_merged_listing_is_the_sorted_union_paged_once(
    table: str, specs: list[tuple[int, int, str]], resources: int, size: int
) -> None:
    advisor = f"adv-{uuid.uuid4().hex[:8]}"
    mine = [make_resource(kind="advisor", attributes={"advisorUserId": advisor}) for _ in range(resources)]
    other = make_resource(kind="advisor", attributes={"advisorUserId": f"{advisor}-other"})
    expected: list[Booking] = []
    for which, half_hours, status in specs:
        target = mine[which] if which < resources else other
        made = stored(target.id, half_hours, status)
        if target is not other:
            expected.append(made)
    expected.sort(key=lambda b: (b.start_time, b.id))
    caller = Caller(advisor, "advisor")
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(len(specs) + 2):
        found, cursor = queries.list_bookings(caller, limit=size, cursor=cursor)
        assert len(found) <= size
        seen += [b.id for b in found]
        if cursor is None:
            break
    assert cursor is None
    assert seen == [b.id for b in expected]
    # A status filter keeps the order and drops only the other statuses.
    cancelled, _ = queries.list_bookings(caller, status="cancelled", limit=100)
    assert [b.id for b in cancelled] == [b.id for b in expected if b.status == "cancelled"]


@given(st.lists(st.text(alphabet="abcXYZ -,", max_size=8), max_size=6))
def test_profile_tags_are_trimmed_lower_case_and_distinct(parts: list[str]) -> None:
    tags = profile_tags(",".join(parts))
    assert tags == list(dict.fromkeys(tags))
    assert all(tag and tag == tag.strip().casefold() and "," not in tag for tag in tags)
    assert profile_tags(", ".join(tags)) == tags
