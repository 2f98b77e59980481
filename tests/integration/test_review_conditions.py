"""Reviews' and favourites' conditions on DynamoDB Local: one review per booking, one reply per review, the
resource's rating exact under concurrency (and kept by the owner's replace), removal, and the favourites cap."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from slotwise import aws, errors
from slotwise.audit import log as audit
from slotwise.booking.models import Booking
from slotwise.booking.store import booking_item
from slotwise.catalog import repository
from slotwise.catalog import service as catalog
from slotwise.catalog.models import Resource, ResourceUpdate
from slotwise.data.codec import from_item, to_item
from slotwise.favourites import service as favourites
from slotwise.favourites import store as favourite_store
from slotwise.identity.models import Caller
from slotwise.reviews import service, store
from slotwise.reviews.models import ReplyInput, Review, ReviewInput
from tests.support.catalog import VENDOR, make_resource

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
AFTER = START + timedelta(days=400)
ADMIN = Caller(user_id="admin-1", role="admin")
OWNER = Caller(user_id=VENDOR, role="vendor")


@pytest.fixture(autouse=True)
def _quiet_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


def stored_booking(resource: Resource, customer: str, *, status: str = "completed", day: int = 0) -> Booking:
    """A booking as the engine leaves it after its end (written directly: the engine is not what is tested)."""
    start = START + timedelta(hours=day)
    booking = Booking.model_validate(
        {
            "id": f"b-{customer}-{day}",
            "reference": f"R{day:05d}",
            "resourceId": resource.id,
            "resourceName": resource.name,
            "resourceType": resource.type,
            "venueId": resource.venue_id,
            "vendorId": resource.owner_id,
            "customerId": customer,
            "createdBy": customer,
            "timezone": resource.timezone,
            "startTime": start.isoformat(),
            "endTime": (start + timedelta(hours=1)).isoformat(),
            "quantity": 1,
            "lockKeys": [],
            "status": status,
            "price": {"amount": 1000, "currency": "EUR", "quantity": 1},
            "createdAt": START.isoformat(),
            "updatedAt": START.isoformat(),
        }
    )
    aws.dynamodb().put_item(TableName=_table(), Item=to_item(booking_item(booking)))
    return booking


def _table() -> str:
    from slotwise.data.dynamo import table_name

    return table_name()


def raw_resource(resource_id: str) -> dict[str, Any]:
    key = {"PK": {"S": f"RESOURCE#{resource_id}"}, "SK": {"S": "RESOURCE"}}
    return from_item(aws.dynamodb().get_item(TableName=_table(), Key=key, ConsistentRead=True)["Item"])


def stored_reviews(resource_id: str) -> list[Review]:
    found: list[Review] = []
    cursor = None
    while True:
        page, cursor = store.page(resource_id, limit=100, cursor=cursor)
        found += page
        if cursor is None:
            return found


def attempt(action: Any) -> str:
    try:
        action()
        return "ok"
    except errors.SlotwiseError as error:
        return error.code


def test_ten_concurrent_reviews_of_one_booking_store_exactly_one(local_table: str) -> None:
    room = make_resource()
    booking = stored_booking(room, "cust-1")
    customer = Caller(user_id="cust-1", role="customer")
    gate = threading.Barrier(10, timeout=30)

    def post(rating: int) -> str:
        gate.wait()
        return attempt(lambda: service.create_review(customer, booking.id, ReviewInput(rating=rating), now=AFTER))

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = Counter(pool.map(post, [1 + n % 5 for n in range(10)]))
    assert outcomes == Counter({"ok": 1, "already_reviewed": 9})
    (kept,) = stored_reviews(room.id)
    counters = raw_resource(room.id)
    assert (counters["ratingCount"], counters["ratingSum"]) == (1, kept.rating)


def test_two_hundred_concurrent_reviews_of_one_resource_keep_its_rating_exact(local_table: str) -> None:
    room = make_resource()
    bookings = [stored_booking(room, f"cust-{n}", day=n) for n in range(200)]
    ratings = [random.Random(n).randint(1, 5) for n in range(200)]
    gate = threading.Barrier(50, timeout=60)

    def post(n: int) -> str:
        if n < 50:
            gate.wait()
        customer = Caller(user_id=f"cust-{n}", role="customer")
        return attempt(
            lambda: service.create_review(customer, bookings[n].id, ReviewInput(rating=ratings[n]), now=AFTER)
        )

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = Counter(pool.map(post, range(200)))
    elapsed = time.monotonic() - began
    assert outcomes == Counter({"ok": 200}), outcomes
    reviews = stored_reviews(room.id)
    assert len(reviews) == 200 and sorted(r.rating for r in reviews) == sorted(ratings)
    shown = catalog.get_resource(ADMIN, room.id).rating
    assert shown.count == 200
    assert shown.average == round(sum(r.rating for r in reviews) / 200, 2)
    assert raw_resource(room.id)["ratingSum"] == sum(ratings)
    # The reviews never moved the resource's version (its ETag): vendors' edits are not refused because of them.
    assert raw_resource(room.id)["version"] == 1
    print(f"200 concurrent reviews of one resource: {elapsed:.1f} s")


def test_a_booking_that_changed_after_the_read_is_not_reviewed(local_table: str) -> None:
    room = make_resource()
    booking = stored_booking(room, "cust-1")
    customer = Caller(user_id="cust-1", role="customer")
    stored_booking(room, "cust-1", status="no_show")  # the vendor marks a no-show meanwhile (same id)
    review = Review(
        id="rev-1",
        resource_id=room.id,
        venue_id=room.venue_id,
        vendor_id=VENDOR,
        booking_id=booking.id,
        customer_id="cust-1",
        rating=5,
        created_at=AFTER,
        updated_at=AFTER,
    )
    entry = audit.entry(customer, "review.create", "review", review.id, at=AFTER)
    with pytest.raises(errors.Conflict) as refused:
        store.create(review, audit=entry, charge=lambda tx: None)
    assert refused.value.code == "booking_not_reviewable"
    assert store.get("rev-1") is None and "ratingCount" not in raw_resource(room.id)


def test_a_review_of_a_missing_resource_writes_nothing(local_table: str) -> None:
    room = make_resource()
    booking = stored_booking(room, "cust-1")
    review = Review(
        id="rev-2",
        resource_id="gone",
        venue_id=room.venue_id,
        vendor_id=VENDOR,
        booking_id=booking.id,
        customer_id="cust-1",
        rating=4,
        created_at=AFTER,
        updated_at=AFTER,
    )
    entry = audit.entry(Caller(user_id="cust-1", role="customer"), "review.create", "review", "rev-2", at=AFTER)
    with pytest.raises(errors.NotFound):
        store.create(review, audit=entry, charge=lambda tx: None)
    assert store.get("rev-2") is None


def test_one_reply_of_many_concurrent_ones(local_table: str) -> None:
    room = make_resource()
    booking = stored_booking(room, "cust-1")
    made = service.create_review(
        Caller(user_id="cust-1", role="customer"), booking.id, ReviewInput(rating=3), now=AFTER
    )
    gate = threading.Barrier(8, timeout=30)

    def reply(n: int) -> str:
        gate.wait()
        return attempt(lambda: service.reply(OWNER, made.id, ReplyInput(text=f"Thanks {n}"), now=AFTER))

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = Counter(pool.map(reply, range(8)))
    assert outcomes["ok"] == 1 and outcomes["already_replied"] == 7, outcomes
    kept = store.get(made.id)
    assert kept is not None and kept.reply is not None and kept.version == 2


def test_removal_subtracts_once_even_when_two_admins_race(local_table: str) -> None:
    room = make_resource()
    made = [
        service.create_review(
            Caller(user_id=f"cust-{n}", role="customer"),
            stored_booking(room, f"cust-{n}", day=n).id,
            ReviewInput(rating=rating),
            now=AFTER,
        )
        for n, rating in enumerate([5, 1, 3])
    ]
    gate = threading.Barrier(2, timeout=30)

    def remove(_: int) -> str:
        gate.wait()
        return attempt(lambda: service.delete_review(ADMIN, made[1].id, now=AFTER))

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = Counter(pool.map(remove, range(2)))
    assert outcomes["ok"] == 1 and outcomes["review_not_found"] + outcomes["version_conflict"] == 1, outcomes
    counters = raw_resource(room.id)
    assert (counters["ratingCount"], counters["ratingSum"]) == (2, 8)
    # (all three were written at the same instant, so the listing's order among them is the ids')
    assert {r.id for r in stored_reviews(room.id)} == {made[2].id, made[0].id}
    removed = store.get(made[1].id)
    assert removed is not None and removed.status == "removed" and removed.removed_by == "admin-1"
    # A subtraction from nothing is refused by its condition (never a negative count).
    for review in made[::2]:
        service.delete_review(ADMIN, review.id, now=AFTER)
    assert (raw_resource(room.id)["ratingCount"], raw_resource(room.id)["ratingSum"]) == (0, 0)
    with pytest.raises(errors.NotFound):
        service.delete_review(ADMIN, made[0].id, now=AFTER)


def test_the_owners_replace_keeps_the_counters_and_its_version_condition(local_table: str) -> None:
    room = make_resource()
    service.create_review(
        Caller(user_id="cust-1", role="customer"), stored_booking(room, "cust-1").id, ReviewInput(rating=4), now=AFTER
    )
    current = repository.get_resource(room.id)
    assert current is not None and current.rating.count == 1
    update = ResourceUpdate.model_validate(
        {
            "name": "Renamed",
            "type": room.type,
            "policy": current.policy.model_dump(by_alias=True),
            "pricing": current.pricing.model_dump(by_alias=True),
        }
    )
    # A review that lands between the owner's read and write is kept: the replace does not carry the counters.
    read = repository.get_resource

    def read_then_review(resource_id: str) -> Resource | None:
        found = read(resource_id)
        if found is not None and found.rating.count == 1:
            service.create_review(
                Caller(user_id="cust-2", role="customer"),
                stored_booking(room, "cust-2", day=1).id,
                ReviewInput(rating=2),
                now=AFTER,
            )
        return found

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(repository, "get_resource", read_then_review)
        catalog.update_resource(OWNER, room.id, update, if_match='"1"')
    after = raw_resource(room.id)
    assert (after["name"], after["version"], after["ratingCount"], after["ratingSum"]) == ("Renamed", 2, 2, 6)
    # The replace is still conditional on the version read: a stale one is refused.
    stale = current.model_copy(update={"name": "Stale", "version": 2})
    with pytest.raises(errors.Conflict):
        repository.replace_resource(stale, 1, 0)
    # And it never creates a resource that is not there.
    ghost = current.model_copy(update={"id": "ghost", "version": 2})
    with pytest.raises(errors.Conflict):
        repository.replace_resource(ghost, 1, 0)
    assert repository.get_resource("ghost") is None


def test_the_favourites_cap_holds_under_concurrency(local_table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(favourites, "MAX_FAVOURITES", 3)
    rooms = [make_resource() for _ in range(10)]
    user = Caller(user_id="cust-1", role="customer")
    gate = threading.Barrier(10, timeout=30)

    def add(room: Resource) -> str:
        gate.wait()
        return attempt(lambda: favourites.add_favourite(user, room.id))

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = Counter(pool.map(add, rooms))
    assert outcomes["ok"] == 3 and outcomes["too_many_favourites"] + outcomes["favourites_contended"] == 7, outcomes
    items, _ = favourite_store.page("cust-1", limit=100, cursor=None)
    assert len(items) == 3


def test_saving_and_removing_one_favourite_concurrently_keeps_the_count(local_table: str) -> None:
    room = make_resource()
    user = Caller(user_id="cust-1", role="customer")
    gate = threading.Barrier(8, timeout=30)

    def save(_: int) -> bool:
        gate.wait()
        return favourites.add_favourite(user, room.id)[1]

    with ThreadPoolExecutor(max_workers=8) as pool:
        created = list(pool.map(save, range(8)))
    assert created.count(True) == 1
    count_key = {"PK": {"S": "FAV#cust-1"}, "SK": {"S": "COUNT"}}
    assert aws.dynamodb().get_item(TableName=_table(), Key=count_key)["Item"]["count"] == {"N": "1"}

    def remove(_: int) -> bool:
        gate.wait()
        return favourite_store.remove("cust-1", room.id, audit=audit.entry(user, "favourite.remove", "user", "cust-1"))

    with ThreadPoolExecutor(max_workers=8) as pool:
        removed = list(pool.map(remove, range(8)))
    assert removed.count(True) == 1
    assert aws.dynamodb().get_item(TableName=_table(), Key=count_key)["Item"]["count"] == {"N": "0"}
