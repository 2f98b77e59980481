"""Add-on stock on DynamoDB Local (AWS's engine): claimed in the booking's own transaction with the slots'
conditional counter, never oversold, released on cancel, expiry and rejection, moved by a reschedule, firmed by a
confirmation, and reclaimable from a lapsed hold exactly like a slot. Every condition expression of the add-on
stock and the add-on records is exercised here.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from slotwise.addons import service as addon_service
from slotwise.addons import store as addon_store
from slotwise.addons.models import AddonInput
from slotwise.booking import deadlines, lifecycle, reschedule
from slotwise.booking import store as booking_store
from slotwise.booking.create import create_booking
from slotwise.booking.models import BookingCreate, BookingTimes
from slotwise.catalog.models import Resource
from slotwise.errors import Conflict
from slotwise.identity.models import Caller
from tests.support.catalog import VENDOR, make_resource

DAY = datetime(2027, 3, 1, tzinfo=UTC)  # Lisbon is UTC+0 in March
VENDOR_CALLER = Caller(user_id=VENDOR, role="vendor", status="active")


@pytest.fixture(autouse=True)
def _quiet_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


def customer(name: str) -> Caller:
    return Caller(user_id=name, role="customer", status="active")


def new_addon(resource: Resource, **fields: Any) -> str:
    body = AddonInput.model_validate({"name": "Projector", "price": 500, **fields})
    return addon_service.create_addon(VENDOR_CALLER, resource.id, body).id


def booking_request(resource: Resource, start: datetime, addon_id: str, quantity: int = 1) -> BookingCreate:
    return BookingCreate.model_validate(
        {
            "resourceId": resource.id,
            "startTime": start.isoformat(),
            "endTime": (start + timedelta(minutes=30)).isoformat(),
            "addons": [{"addonId": addon_id, "quantity": quantity}],
        }
    )


def items(resource_id: str, prefix: str) -> dict[str, dict[str, Any]]:
    """The resource's inventory items under a sort-key prefix (`SLOT#` or `STOCK#`), by key."""
    found = boto3.client("dynamodb").query(
        TableName=_table(),
        KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
        ExpressionAttributeValues={":pk": {"S": f"RESOURCE#{resource_id}"}, ":prefix": {"S": prefix}},
        ConsistentRead=True,
    )["Items"]
    return {item["SK"]["S"].removeprefix(prefix): item for item in found}


def _table() -> str:
    from slotwise.settings import get_settings

    return get_settings().table_name


def holders(item: dict[str, Any]) -> set[str]:
    return {name[2:] for name in item if name.startswith("h_")}


def used(resource_id: str, key: str) -> int:
    item = items(resource_id, "STOCK#").get(key)
    return int(item["used"]["N"]) if item else 0


def test_50_racers_for_2_projectors_of_one_day_exactly_2_win_and_losers_leave_no_claims(local_table: str) -> None:
    """Through the booking service from 50 threads (each its own request), as concurrent Lambdas would call it."""
    room = make_resource(capacity=1, kind="hall", policy={"granuleMinutes": 15})
    projector = new_addon(room, stock=2, stockScope="per_day")
    starts = [DAY + timedelta(hours=6, minutes=15 * i) for i in range(50)]  # 50 distinct slots of one day
    assert len(set(starts)) == 50 and all(s.date() == DAY.date() for s in starts)

    def race(i: int) -> str:
        request = BookingCreate.model_validate(
            {
                "resourceId": room.id,
                "startTime": starts[i].isoformat(),
                "endTime": (starts[i] + timedelta(minutes=15)).isoformat(),
                "addons": [{"addonId": projector, "quantity": 1}],
            }
        )
        try:
            return create_booking(customer(f"u{i}"), request).booking.id
        except Conflict as lost:
            return lost.code

    with ThreadPoolExecutor(max_workers=25) as pool:
        results = list(pool.map(race, range(50)))
    outcomes = Counter(r if r in ("addon_unavailable", "slot_contended") else "won" for r in results)
    assert outcomes["won"] == 2 and outcomes["addon_unavailable"] + outcomes["slot_contended"] == 48, outcomes
    winners = {r for r in results if r not in ("addon_unavailable", "slot_contended")}
    slots = items(room.id, "SLOT#")
    # Only the winners' slots hold anyone; every loser's transaction left nothing behind.
    assert set().union(*(holders(item) for item in slots.values())) == winners
    assert sum(int(item.get("used", {"N": "0"})["N"]) for item in slots.values()) == 2
    stock = items(room.id, "STOCK#")
    key = f"A#{projector}#D#2027-03-01"
    assert set(stock) == {key} and int(stock[key]["used"]["N"]) == 2 and holders(stock[key]) == winners


def test_cancel_releases_stock_and_a_new_booking_takes_it(local_table: str) -> None:
    room = make_resource(capacity=1, kind="hall")
    projector = new_addon(room, stock=1)
    first = create_booking(customer("a"), booking_request(room, DAY + timedelta(hours=9), projector)).booking
    with pytest.raises(Conflict) as refused:
        create_booking(customer("b"), booking_request(room, DAY + timedelta(hours=11), projector))
    assert refused.value.code == "addon_unavailable"
    lifecycle.cancel_booking(customer("a"), first.id)
    assert used(room.id, f"A#{projector}#D#2027-03-01") == 0
    second = create_booking(customer("b"), booking_request(room, DAY + timedelta(hours=11), projector)).booking
    assert used(room.id, f"A#{projector}#D#2027-03-01") == 1 and second.stock_claims[0].key.endswith("2027-03-01")


def test_quantity_counts_against_stock_and_the_condition_holds_at_the_edge(local_table: str) -> None:
    room = make_resource(capacity=5, kind="seat_pool")
    chairs = new_addon(room, name="Chairs", stock=10, stockScope="per_slot")
    start = DAY + timedelta(hours=9)
    create_booking(customer("a"), booking_request(room, start, chairs, quantity=7))
    with pytest.raises(Conflict) as refused:
        create_booking(customer("b"), booking_request(room, start, chairs, quantity=4))
    assert refused.value.code == "addon_unavailable" and refused.value.extra["conflicts"][0]["available"] == 3
    create_booking(customer("b"), booking_request(room, start, chairs, quantity=3))  # exactly the stock: allowed
    # per_slot: another slot of the same day has its own stock
    create_booking(customer("c"), booking_request(room, start + timedelta(hours=1), chairs, quantity=10))
    assert used(room.id, f"A#{chairs}#T#2027-03-01T09:00Z") == 10
    assert used(room.id, f"A#{chairs}#T#2027-03-01T10:00Z") == 10


def test_expiry_releases_stock_by_the_sweeper(local_table: str) -> None:
    room = make_resource(capacity=1, kind="hall", policy={"confirmation": "payment", "holdTtlSeconds": 60})
    projector = new_addon(room, stock=1)
    now = datetime(2027, 2, 1, tzinfo=UTC)
    held = create_booking(customer("a"), booking_request(room, DAY + timedelta(hours=9), projector), now=now).booking
    assert held.status == "held"
    key = f"A#{projector}#D#2027-03-01"
    stock = items(room.id, "STOCK#")[key]
    assert stock[f"h_{held.id}"]["M"]["x"]["N"] == str(held.expires_epoch)  # lapses with the hold
    assert deadlines.expire_lapsed(now + timedelta(minutes=2)) == 1
    assert booking_store.get_booking(held.id).status == "expired"  # type: ignore[union-attr]
    assert used(room.id, key) == 0 and holders(items(room.id, "STOCK#")[key]) == set()


def test_a_lapsed_holds_stock_is_evicted_by_the_next_claimant(local_table: str) -> None:
    """No sweeper ran: the claimant's stock condition fails on the lapsed holder, which it evicts (conditioned on
    its exact expiry) while expiring its booking, in its own transaction."""
    room = make_resource(capacity=1, kind="hall", policy={"confirmation": "payment", "holdTtlSeconds": 60})
    projector = new_addon(room, stock=1)
    now = datetime(2027, 2, 1, tzinfo=UTC)
    lapsed = create_booking(customer("a"), booking_request(room, DAY + timedelta(hours=9), projector), now=now).booking
    with pytest.raises(Conflict):  # still live: the stock is taken
        create_booking(customer("b"), booking_request(room, DAY + timedelta(hours=11), projector), now=now)
    later = now + timedelta(minutes=5)
    taker = create_booking(
        customer("b"), booking_request(room, DAY + timedelta(hours=11), projector), now=later
    ).booking
    key = f"A#{projector}#D#2027-03-01"
    assert holders(items(room.id, "STOCK#")[key]) == {taker.id} and used(room.id, key) == 1
    assert booking_store.get_booking(lapsed.id).status == "expired"  # type: ignore[union-attr]
    # The lapsed hold's slot entry is evictable too; the sweeper no longer touches the expired booking.
    assert deadlines.expire_lapsed(later) == 0


def test_confirmation_firms_stock_and_rejection_releases_it(local_table: str) -> None:
    room = make_resource(capacity=1, kind="hall", policy={"confirmation": "approval", "holdTtlSeconds": 60})
    projector = new_addon(room, stock=2)
    now = datetime(2027, 2, 1, tzinfo=UTC)
    kept = create_booking(customer("a"), booking_request(room, DAY + timedelta(hours=9), projector), now=now).booking
    dropped = create_booking(
        customer("b"), booking_request(room, DAY + timedelta(hours=11), projector), now=now
    ).booking
    lifecycle.decide(VENDOR_CALLER, kept.id, approve=True, now=now)
    lifecycle.decide(VENDOR_CALLER, dropped.id, approve=False, now=now)
    key = f"A#{projector}#D#2027-03-01"
    stock = items(room.id, "STOCK#")[key]
    assert holders(stock) == {kept.id} and stock[f"h_{kept.id}"]["M"]["x"]["N"] == "0" and used(room.id, key) == 1
    # Firm: long after the hold would have lapsed, the confirmed booking's projector is not evictable.
    much_later = now + timedelta(days=1)
    create_booking(customer("c"), booking_request(room, DAY + timedelta(hours=13), projector), now=much_later)
    with pytest.raises(Conflict) as refused:
        create_booking(customer("d"), booking_request(room, DAY + timedelta(hours=15), projector), now=much_later)
    assert refused.value.code == "addon_unavailable"


def test_reschedule_moves_stock_in_its_transaction(local_table: str) -> None:
    room = make_resource(capacity=1, kind="hall")
    projector = new_addon(room, stock=1)
    moved = create_booking(customer("a"), booking_request(room, DAY + timedelta(hours=9), projector)).booking
    next_day = DAY + timedelta(days=1, hours=9)
    times = BookingTimes(start_time=next_day, end_time=next_day + timedelta(minutes=30))
    after = reschedule.reschedule(customer("a"), moved.id, times)
    assert [c.key for c in after.stock_claims] == [f"A#{projector}#D#2027-03-02"]
    assert used(room.id, f"A#{projector}#D#2027-03-01") == 0 and used(room.id, f"A#{projector}#D#2027-03-02") == 1
    # The old day is free for someone else; the new day is not.
    create_booking(customer("b"), booking_request(room, DAY + timedelta(hours=11), projector))
    blocker = create_booking(customer("c"), booking_request(room, DAY + timedelta(days=2, hours=9), projector)).booking
    target = DAY + timedelta(days=2, hours=11)
    with pytest.raises(Conflict) as refused:
        reschedule.reschedule(
            customer("a"), moved.id, BookingTimes(start_time=target, end_time=target + timedelta(minutes=30))
        )
    assert refused.value.code == "addon_unavailable"
    # Nothing moved: the refused reschedule released nothing and claimed nothing.
    assert used(room.id, f"A#{projector}#D#2027-03-02") == 1 and used(room.id, f"A#{projector}#D#2027-03-03") == 1
    assert holders(items(room.id, "STOCK#")[f"A#{projector}#D#2027-03-03"]) == {blocker.id}
    # Within the same day the claim stays put (nothing to release or claim).
    same_day = next_day + timedelta(hours=3)
    again = reschedule.reschedule(
        customer("a"), moved.id, BookingTimes(start_time=same_day, end_time=same_day + timedelta(minutes=30))
    )
    assert [c.key for c in again.stock_claims] == [f"A#{projector}#D#2027-03-02"] and used(
        room.id, f"A#{projector}#D#2027-03-02"
    ) == 1


def test_a_booking_over_several_days_claims_each_day(local_table: str) -> None:
    room = make_resource(capacity=1, kind="hall", policy={"maxUnits": 200})
    projector = new_addon(room, stock=1)
    start = DAY + timedelta(hours=20)
    request = BookingCreate.model_validate(
        {
            "resourceId": room.id,
            "startTime": start.isoformat(),
            "endTime": (start + timedelta(hours=6)).isoformat(),
            "addons": [{"addonId": projector, "quantity": 1}],
        }
    )
    made = create_booking(customer("a"), request).booking
    assert [c.key for c in made.stock_claims] == [f"A#{projector}#D#2027-03-01", f"A#{projector}#D#2027-03-02"]


def test_addon_records_are_created_once_and_replaced_on_the_version_read(local_table: str) -> None:
    room = make_resource(capacity=1, kind="hall")
    addon_id = new_addon(room)
    current = addon_store.get_addon(room.id, addon_id)
    assert current is not None
    from slotwise.audit import log as audit

    entry = audit.entry(VENDOR_CALLER, "addon.update", "addon", addon_id)
    with pytest.raises(Conflict):  # attribute_not_exists(PK): the same id is never created twice
        addon_store.save_addon(current, expected_version=None, audit=entry)
    bumped = current.model_copy(update={"version": 2, "name": "Beamer"})
    addon_store.save_addon(bumped, expected_version=1, audit=entry)
    with pytest.raises(Conflict):  # version = :expected: a stale writer loses
        addon_store.save_addon(current.model_copy(update={"name": "Stale"}), expected_version=1, audit=entry)
    assert addon_store.get_addon(room.id, addon_id).name == "Beamer"  # type: ignore[union-attr]


def test_a_series_that_runs_out_of_stock_in_a_later_chunk_rolls_back_every_stock_claim(local_table: str) -> None:
    from slotwise.booking import series
    from slotwise.booking.models import RecurringCreate

    room = make_resource(capacity=1, kind="hall", policy={"maxHorizonDays": 1000})
    projector = new_addon(room, stock=1)
    # Someone else has the projector on the 30th day: the series' later chunk fails there.
    blocker = create_booking(customer("b"), booking_request(room, DAY + timedelta(days=29, hours=15), projector))
    request = RecurringCreate.model_validate(
        {
            "resourceId": room.id,
            "startTime": (DAY + timedelta(hours=9)).isoformat(),
            "endTime": (DAY + timedelta(hours=10)).isoformat(),
            "recurrenceRule": "FREQ=DAILY;COUNT=40",
            "addons": [{"addonId": projector, "quantity": 1}],
        }
    )
    with pytest.raises(Conflict) as refused:
        series.create_series(customer("a"), request)
    assert refused.value.code == "addon_unavailable"
    stock = items(room.id, "STOCK#")
    # Only the blocker holds stock: the committed chunks were rolled back, their stock released with their slots.
    assert {key for key, item in stock.items() if holders(item)} == {f"A#{projector}#D#2027-03-30"}
    assert sum(int(item["used"]["N"]) for item in stock.values()) == 1
    assert all(
        not holders(item) for item in items(room.id, "SLOT#").values() if blocker.booking.id not in holders(item)
    )
    skipping = request.model_copy(update={"mode": "skip_conflicts"})
    made = series.create_series(customer("a"), skipping)
    assert len(made["created"]) == 39 and [c["date"] for c in made["conflicts"]] == ["2027-03-30"]
    assert sum(int(item["used"]["N"]) for item in items(room.id, "STOCK#").values()) == 40
