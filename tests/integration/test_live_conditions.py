"""The live connection store's conditions, judged on DynamoDB Local (slotwise.live.store): the per-user cap holds
whatever the concurrency (one transaction per connect, `size(open) < cap`), closing gives a place back, pruning only
removes what was read, and a connection's subscriptions are capped and die with it."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from slotwise import errors
from slotwise.live import store
from slotwise.live.messages import booking_topic

pytestmark = pytest.mark.dynamodb_local

CAP = 10


def record(user_id: str, expires_at: int | None = None) -> store.ConnectionRecord:
    return store.ConnectionRecord(
        connection_id=f"{uuid.uuid4().hex[:15]}=",
        user_id=user_id,
        role="customer",
        status="active",
        connected_at="2026-12-06T12:00:00Z",
        expires_at=expires_at if expires_at is not None else int(time.time()) + 7200,
    )


def test_racing_connects_of_one_user_never_pass_the_cap(local_table: str) -> None:
    user = f"racer-{uuid.uuid4().hex[:8]}"
    attempts = 30
    barrier = threading.Barrier(attempts)

    def connect(_: int) -> str:
        barrier.wait()
        try:
            store.open_connection(record(user), CAP)
        except store.CapReached:
            return "refused"
        return "opened"

    with ThreadPoolExecutor(attempts) as pool:
        outcomes = list(pool.map(connect, range(attempts)))

    assert outcomes.count("opened") == CAP
    assert outcomes.count("refused") == attempts - CAP
    assert store.open_count(user) == CAP
    assert len(store.user_connections(user, int(time.time()))) == CAP


def test_closing_gives_the_place_back_and_a_closed_connection_closes_once(local_table: str) -> None:
    user = f"closer-{uuid.uuid4().hex[:8]}"
    opened = [record(user) for _ in range(CAP)]
    for one in opened:
        store.open_connection(one, CAP)
    with pytest.raises(store.CapReached) as full:
        store.open_connection(record(user), CAP)
    assert set(full.value.open_connections) == {one.connection_id for one in opened}

    assert store.close_connection(opened[0]) is True
    assert store.close_connection(opened[0]) is False
    assert store.open_count(user) == CAP - 1
    store.open_connection(record(user), CAP)
    assert store.open_count(user) == CAP


def test_the_same_connection_id_cannot_be_opened_twice(local_table: str) -> None:
    one = record(f"twice-{uuid.uuid4().hex[:8]}")
    store.open_connection(one, CAP)
    with pytest.raises(errors.Conflict):
        store.open_connection(one, CAP)
    assert store.open_count(one.user_id) == 1


def test_prune_removes_only_entries_that_still_hold_the_value_read(local_table: str) -> None:
    user = f"pruner-{uuid.uuid4().hex[:8]}"
    stale = record(user, expires_at=int(time.time()) - 60)
    fresh = record(user)
    store.open_connection(stale, CAP)
    store.open_connection(fresh, CAP)

    assert store.prune(user, {stale.connection_id: stale.expires_at + 1}) is False  # not what is stored
    assert store.open_count(user) == 2
    assert store.prune(user, {stale.connection_id: stale.expires_at}) is True
    assert store.open_count(user) == 1
    # Expired connections are not listed even before their TTL removes them.
    assert store.user_connections(user, int(time.time())) == [fresh.connection_id]


def test_subscriptions_are_capped_idempotent_and_die_with_the_connection(local_table: str) -> None:
    one = record(f"subscriber-{uuid.uuid4().hex[:8]}")
    store.open_connection(one, CAP)
    topics = [booking_topic(f"b-{n}") for n in range(3)]
    for topic in topics:
        assert store.add_subscription(one, topic, 3) is True
    assert store.add_subscription(one, booking_topic("b-extra"), 3) is False
    assert store.add_subscription(one, topics[0], 3) is True  # already followed: no new place needed
    now = int(time.time())
    assert store.subscribers(topics[0], now) == [(one.connection_id, one.user_id)]

    store.remove_subscription(one, topics[0])
    assert store.subscribers(topics[0], now) == []
    assert store.add_subscription(one, booking_topic("b-extra"), 3) is True

    current = store.get_connection(one.connection_id)
    assert current is not None
    assert current.subscriptions == {topics[1], topics[2], booking_topic("b-extra")}
    assert store.close_connection(current) is True
    assert all(store.subscribers(topic, now) == [] for topic in (*topics, booking_topic("b-extra")))
    assert store.add_subscription(current, topics[1], 3) is False  # the connection is gone
    assert store.subscribers(topics[1], now) == []
