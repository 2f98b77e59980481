"""The report aggregates on AWS's engine: a random workload through the real services (bookings, payments that
succeed or fail, wallet shares, reschedules, cancellations with partial refunds to card and wallet, no-shows) on
three resources in two currencies; its booking events, read from the table's stream, applied several times each,
shuffled and concurrently; then every report figure equals a recount from the stored bookings, payments and
refunds. And the aggregator's own conditions: a replay and an older version count nothing."""

from __future__ import annotations

import random
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slotwise import errors
from slotwise.booking import create, lifecycle, reschedule
from slotwise.booking import store as booking_store
from slotwise.booking.models import Booking, BookingCreate, BookingTimes
from slotwise.catalog.models import Resource
from slotwise.events.changes import event_of
from slotwise.events.envelope import DomainEvent
from slotwise.identity.models import Caller
from slotwise.payments import processor
from slotwise.payments import service as payments
from slotwise.payments import store as payment_store
from slotwise.payments.models import PaymentCreate
from slotwise.payments.provider import use_provider
from slotwise.reports import aggregator, store
from slotwise.transaction import TransactionFailed
from tests.support.catalog import VENDOR, make_resource
from tests.support.engine import engine
from tests.support.http import call
from tests.support.payments import FakeProvider, credit, intent_event, refund_event

pytestmark = pytest.mark.dynamodb_local


@pytest.fixture(scope="module")
def dynamodb_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """This module loads thousands of bookings: an engine of its own, so the session's stays light."""
    # Why: the session's `dynamodb_local` in tests/integration/conftest.py.
    yield from engine(tmp_path_factory)


TODAY = datetime.now(UTC).date()
# Three to seven days ahead: a customer's cancellation gets 50 % or 100 % back by the default tiers.
FIRST_DAY = TODAY + timedelta(days=3)
DAYS = 5
SOLD = {"confirmed", "completed", "no_show"}
VENDOR_CALLER = Caller(VENDOR, "vendor")


@pytest.fixture(autouse=True)
def _quiet_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


def _resources() -> list[Resource]:
    departure = datetime.combine(FIRST_DAY + timedelta(days=1), time(8), tzinfo=UTC)
    return [
        make_resource(
            capacity=4,
            kind="dorm",
            policy={"unit": "night", "confirmation": "payment"},
            pricing={"currency": "EUR", "unitPrice": 2500},
        ),
        make_resource(capacity=2, policy={"confirmation": "payment"}, pricing={"currency": "EUR", "unitPrice": 900}),
        make_resource(
            capacity=30,
            kind="seat_pool",
            timezone="America/New_York",
            policy={
                "unit": "fixed",
                "confirmation": "payment",
                "fixedStart": departure.isoformat(),
                "fixedEnd": (departure + timedelta(hours=3)).isoformat(),
            },
            pricing={"currency": "USD", "unitPrice": 15000},
        ),
    ]


def _times(resource: Resource, rng: random.Random) -> BookingTimes:
    day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
    if resource.policy.unit == "night":
        return BookingTimes(checkIn=day, checkOut=day + timedelta(days=rng.randint(1, 3)))
    if resource.policy.unit == "fixed":
        return BookingTimes()
    # Any half hour of the day, up to three hours: some run past local midnight.
    start = datetime.combine(day, time(0), tzinfo=resource.zone) + timedelta(minutes=30 * rng.randrange(48))
    return BookingTimes(startTime=start, endTime=start + timedelta(minutes=30 * rng.randint(1, 6)))


def _pay(customer: Caller, booking: Booking, rng: random.Random) -> None:
    how = rng.choice(["card", "card", "card_fails", "wallet_share", "unpaid"])
    if how == "unpaid":
        return
    if how == "wallet_share":
        credit(customer.user_id or "", 700, booking.price.currency)
    wallet: Any = "max" if how == "wallet_share" else 0
    payment = payments.start_payment(customer, booking.id, PaymentCreate(walletAmount=wallet)).payment
    if payment.status == "requires_payment":
        processor.handle(intent_event("payment_failed" if how == "card_fails" else "succeeded", payment))


def _afterwards(customer: Caller, resource: Resource, booking_id: str, rng: random.Random) -> None:
    booking = booking_store.get_booking(booking_id)
    assert booking is not None
    if booking.status == "confirmed" and resource.policy.unit != "fixed" and rng.random() < 0.3:
        reschedule.reschedule(customer, booking_id, _times(resource, rng))
    if booking.status == "held":
        if rng.random() < 0.5:
            lifecycle.cancel_booking(customer, booking_id)
        return
    if booking.status != "confirmed":
        return
    end = rng.choice(["keep", "cancel_card", "cancel_wallet", "cancel_by_vendor", "no_show"])
    if end == "cancel_card":
        cancelled = lifecycle.cancel_booking(customer, booking_id, refund_to="card")
        if cancelled.payment is not None and rng.random() < 0.5:
            # The bank refuses the card refund: the money goes to the wallet instead.
            payment = payment_store.get_payment(cancelled.payment.payment_id)
            assert payment is not None
            for refund in payment_store.refunds_of(payment.id):
                if refund.destination == "card":
                    processor.handle(refund_event(refund, payment, status="failed"))
    elif end == "cancel_wallet":
        lifecycle.cancel_booking(customer, booking_id, refund_to="wallet")
    elif end == "cancel_by_vendor":
        lifecycle.cancel_booking(VENDOR_CALLER, booking_id)
    elif end == "no_show":
        current = booking_store.get_booking(booking_id)
        assert current is not None
        lifecycle.mark_no_show(VENDOR_CALLER, booking_id, now=current.end_time + timedelta(hours=1))


def _workload(resources: list[Resource], rng: random.Random, count: int) -> list[str]:
    made: list[str] = []
    prefix = uuid.uuid4().hex[:8]
    for n in range(count):
        resource = rng.choice(resources)
        # Customers of this workload only: holds left unpaid count toward a customer's cap across examples.
        customer = Caller(f"cust-{prefix}-{n % 4}", "customer")
        times = _times(resource, rng)
        data = BookingCreate(resourceId=resource.id, quantity=rng.randint(1, 2), **times.model_dump(by_alias=True))
        try:
            booking = create.create_booking(customer, data).booking
        except errors.SlotwiseError:  # full, or a rule refused it: the workload goes on
            continue
        made.append(booking.id)
        try:
            _pay(customer, booking, rng)
            _afterwards(customer, resource, booking.id, rng)
        except errors.SlotwiseError:
            pass
    return made


def _events(endpoint: str, table: str, resource_ids: set[str], booking_ids: set[str]) -> list[DomainEvent]:
    """Every booking event of these resources and every refund event of these bookings, derived from the table's
    stream as the publisher derives them."""
    arn = boto3.client("dynamodb", endpoint_url=endpoint).describe_table(TableName=table)["Table"]["LatestStreamArn"]
    streams = boto3.client("dynamodbstreams", endpoint_url=endpoint)
    found: list[DomainEvent] = []
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    for shard in shards:
        iterator: str | None = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            for record in page["Records"]:
                event = event_of(record)  # type: ignore[arg-type]
                if event is None:
                    continue
                if (event.aggregate == "booking" and event.data["resourceId"] in resource_ids) or (
                    event.aggregate == "refund" and event.data.get("bookingId") in booking_ids
                ):
                    found.append(event)
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return found


def _deliver_like_sqs(events: list[DomainEvent], rng: random.Random) -> None:
    """Each event one to three times, shuffled, in batches of ten applied by four consumers at once; a failed
    message comes back (as SQS redelivers it) until every one is handled."""
    queue = [event for event in events for _ in range(rng.randint(1, 3))]
    rng.shuffle(queue)
    lock = threading.Lock()

    def consume(batch: list[DomainEvent]) -> None:
        for event in batch:
            try:
                aggregator.handle(event)
            except (TransactionFailed, RuntimeError):
                with lock:
                    queue.append(event)

    while queue:
        batches, queue[:] = [queue[i : i + 10] for i in range(0, len(queue), 10)], []
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(consume, batches))


def _local_day(value: datetime, zone: ZoneInfo) -> date:
    return value.astimezone(zone).date()


def _recount(resources: list[Resource], booking_ids: list[str]) -> tuple[dict[Any, int], dict[Any, dict[str, int]]]:
    """From the stored bookings, payments and refunds alone: sold units per (resource, day) and money per
    (resource, day, currency)."""
    by_id = {r.id: r for r in resources}
    units: dict[Any, int] = defaultdict(int)
    money: dict[Any, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for booking_id in booking_ids:
        booking = booking_store.get_booking(booking_id)
        assert booking is not None
        resource = by_id[booking.resource_id]
        zone = resource.zone
        if booking.status in SOLD:
            if booking.check_in is not None and booking.check_out is not None:
                for night in range((booking.check_out - booking.check_in).days):
                    units[(resource.id, booking.check_in + timedelta(days=night))] += booking.quantity
            elif resource.policy.unit == "fixed":
                units[(resource.id, _local_day(booking.start_time, zone))] += booking.quantity
            else:
                minute = booking.start_time
                while minute < booking.end_time:  # minute by minute: the slow, obvious way
                    units[(resource.id, _local_day(minute, zone))] += booking.quantity
                    minute += timedelta(minutes=1)
        day = booking.check_in or _local_day(booking.start_time, zone)
        cancelled = booking.status == "cancelled" and (
            (booking.cancellation is not None and booking.cancellation.by is not None) or booking.payment is not None
        )
        figures = money[(resource.id, day, booking.price.currency)]
        figures["bookings"] += int(booking.status in SOLD or cancelled)
        figures["cancellations"] += int(cancelled)
        figures["noShows"] += int(booking.status == "no_show")
        if booking.payment is None:
            continue
        payment = payment_store.get_payment(booking.payment.payment_id)
        assert payment is not None and payment.currency == booking.price.currency
        if payment.status != "succeeded":
            continue
        # A failed card refund's money went to the wallet instead: still refunded, and a wallet credit.
        refunds = [r for r in payment_store.refunds_of(payment.id) if r.status != "canceled"]
        figures["gross"] += payment.amount
        figures["refunds"] += sum(r.amount for r in refunds)
        figures["walletCredits"] += sum(r.amount for r in refunds if r.destination == "wallet" or r.status == "failed")
    return units, money


def _report(path: str, query: dict[str, str]) -> dict[str, Any]:
    answer = call("GET", path, query=query, user=VENDOR, role="vendor")
    assert answer.status == 200, answer.body
    body: dict[str, Any] = answer.body
    return body


@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_every_report_figure_equals_a_recount_of_the_stored_bookings(
    local_table: str, dynamodb_local: str, seed: int
) -> None:
    rng = random.Random(seed)
    use_provider(FakeProvider())
    resources = _resources()
    booking_ids = _workload(resources, rng, count=14)
    events = _events(dynamodb_local, local_table, {r.id for r in resources}, set(booking_ids))
    _deliver_like_sqs(events, rng)
    units, money = _recount(resources, booking_ids)
    assert len(booking_ids) >= 7, "the workload made too few bookings to prove anything"
    span = {
        "from": (FIRST_DAY - timedelta(days=1)).isoformat(),
        "to": (FIRST_DAY + timedelta(days=DAYS + 3)).isoformat(),
    }
    for resource in resources:
        occupancy = _report("/api/v1/reports/occupancy", {"resourceId": resource.id, **span})
        (row,) = occupancy["resources"]
        for period in row["periods"]:
            expected = units.get((resource.id, date.fromisoformat(period["period"])), 0)
            if resource.policy.unit == "minutes":
                expected = round(expected / 60, 2)  # type: ignore[assignment]
            assert period["sold"] == expected, (resource.policy.unit, period)
        revenue = _report("/api/v1/reports/revenue", {"resourceId": resource.id, "groupBy": "day", **span})
        reported = {(r["group"], r["currency"]): r for r in revenue["rows"]}
        recounted = {
            (day.isoformat(), currency): figures
            for (resource_id, day, currency), figures in money.items()
            if resource_id == resource.id and any(figures.values())
        }
        assert set(reported) == set(recounted)
        for key, figures in recounted.items():
            row = reported[key]
            assert {name: row[name] for name in figures} == dict(figures), key
            assert row["net"] == figures["gross"] - figures["refunds"]
    # Per resource, every currency's totals (groupBy month) are the recount's sums.
    for resource in resources:
        sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for (resource_id, _, currency), figures in money.items():
            if resource_id == resource.id and any(figures.values()):
                for name, value in figures.items():
                    sums[currency][name] += value
        monthly = _report("/api/v1/reports/revenue", {"resourceId": resource.id, "groupBy": "month", **span})
        assert {t["currency"]: {name: t[name] for name in figures_names()} for t in monthly["totals"]} == {
            currency: {name: values.get(name, 0) for name in figures_names()} for currency, values in sums.items()
        }


def figures_names() -> tuple[str, ...]:
    return ("gross", "refunds", "walletCredits", "bookings", "cancellations", "noShows")


def test_a_replay_and_an_older_version_count_nothing_on_dynamodb_local(local_table: str) -> None:
    resource = make_resource(capacity=2, policy={"unit": "night"})
    base = {
        "id": "b-1",
        "resourceId": resource.id,
        "timezone": "Europe/Lisbon",
        "status": "confirmed",
        "quantity": 2,
        "price": {"currency": "EUR", "amount": 1, "quantity": 1},
        "checkIn": "2027-03-01",
        "checkOut": "2027-03-02",
    }

    def event(version: int, **changes: Any) -> DomainEvent:
        return DomainEvent("booking.updated", "booking", "b-1", version, datetime.now(UTC), {**base, **changes})

    assert aggregator.handle(event(3, status="cancelled", cancellation={"by": "c"}))
    assert not aggregator.handle(event(2))  # older than what is applied
    assert not aggregator.handle(event(3, status="cancelled", cancellation={"by": "c"}))  # replayed
    items = {item["SK"]: item for item in store.month_items(resource.id, "2027-03")}
    assert "UNITS" not in items  # nothing was ever sold
    assert int(items["DAY#01#EUR"]["cancellations"]) == 1
    # The state moved meanwhile (another consumer applied v3): the write conditional on v1 is refused.
    with pytest.raises(TransactionFailed):
        store.apply_change(
            booking_id="b-1",
            resource_id=resource.id,
            event_id="booking:b-1:4",
            read_version=1,
            version=4,
            contribution={"units": {}, "money": {}},
            units={"2027-03-01": 5},
            money={},
            now=datetime.now(UTC),
        )
    # The same event id twice: the marker refuses the second, even on a fresh state.
    store.apply_change(
        booking_id="b-2",
        resource_id=resource.id,
        event_id="booking:b-2:1",
        read_version=None,
        version=1,
        contribution={"units": {}, "money": {}},
        units={"2027-03-01": 1},
        money={},
        now=datetime.now(UTC),
    )
    with pytest.raises(TransactionFailed) as refused:
        store.apply_change(
            booking_id="b-3",
            resource_id=resource.id,
            event_id="booking:b-2:1",
            read_version=None,
            version=1,
            contribution={"units": {}, "money": {}},
            units={"2027-03-01": 1},
            money={},
            now=datetime.now(UTC),
        )
    assert [f.tag.key for f in refused.value.of_kind("report")] == ["event:booking:b-2:1"]
    items = {item["SK"]: item for item in store.month_items(resource.id, "2027-03")}
    assert int(items["UNITS"]["d01"]) == 1
