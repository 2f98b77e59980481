"""The `report_aggregates` consumer through its real handler (moto): a booking event from the queue lands in the
period items; a body that is not a Slotwise event is dropped, not retried; a resource or payment event changes
nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from infra.local.functions import invoke
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
