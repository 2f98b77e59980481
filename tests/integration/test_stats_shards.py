"""The platform counters' hundred shards on DynamoDB Local: concurrent changes spread over them commit and sum
exactly, the first layout's eight shards are still summed, and one BatchGetItem reads them all."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from slotwise import aws
from slotwise.audit import stats

pytestmark = pytest.mark.dynamodb_local


def _commit(seed: str, deltas: dict[str, int]) -> None:
    update = stats.update(seed, deltas)
    assert update is not None
    aws.dynamodb().transact_write_items(TransactItems=[update])


def test_concurrent_changes_spread_over_the_shards_and_sum_exactly(local_table: str) -> None:
    seeds = [f"booking:{n}" for n in range(300)]
    assert len({stats.shard_of(seed) for seed in seeds}) >= 90  # the changes really spread
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda seed: _commit(seed, {"bookings_confirmed": 1, "bookings_held": -1}), seeds))
    counted = stats.read()
    assert counted["bookings_confirmed"] == 300
    assert counted["bookings_held"] == -300


def test_the_first_layouts_shards_are_still_summed(local_table: str) -> None:
    # A counter written under the eight-shard layout sits in STATS#0-7, which are among the hundred.
    aws.dynamodb().put_item(TableName=local_table, Item={**stats.key(3), "type": {"S": "stats"}, "venues": {"N": "5"}})
    _commit("venue:new", {"venues": 1})
    assert stats.read()["venues"] == 6


def test_every_shard_is_read_in_one_call(local_table: str) -> None:
    assert stats.SHARDS <= 100  # BatchGetItem's limit: `read` sends every key at once
    calls: list[str] = []
    client = aws.dynamodb()
    client.meta.events.register("before-call.dynamodb", lambda event_name, **_: calls.append(event_name))
    stats.read()
    assert calls == ["before-call.dynamodb.BatchGetItem"]
