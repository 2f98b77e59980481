"""The transaction builder: one count of every item it sends (side items included) against DynamoDB's 100, the
quota token only when asked for, and cancellation reasons named by each item's tag."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from slotwise import aws, errors
from slotwise.audit import log as audit
from slotwise.transaction import (
    MAX_TRANSACTION_ITEMS,
    Tag,
    TooManyItems,
    Transaction,
    TransactionFailed,
    execute,
)

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


class Canceled(Exception):
    def __init__(self, reasons: list[dict[str, Any]]) -> None:
        super().__init__("cancelled")
        self.response = {"CancellationReasons": reasons}


class FakeDynamo:
    """Records each TransactWriteItems; `answer` may cancel it with reasons per item."""

    class exceptions:
        TransactionCanceledException = Canceled

    def __init__(self, answer: Callable[[list[Any]], list[dict[str, Any]] | None] | None = None) -> None:
        self.sent: list[list[Any]] = []
        self.answer = answer

    def transact_write_items(self, *, TransactItems: list[Any], ClientRequestToken: str) -> dict[str, Any]:
        self.sent.append(TransactItems)
        reasons = self.answer(TransactItems) if self.answer else None
        if reasons is not None:
            raise Canceled(reasons)
        return {}


@dataclass
class Token:
    """A request-quota token as `slotwise.ratelimit.QuotaCharge` presents it to the transaction."""

    subject: str = "user-1"
    committed: bool = False

    def transact_item(self) -> Any:
        return {"Update": {"TableName": "t", "Key": {"PK": {"S": f"QUOTA#{self.subject}"}, "SK": {"S": "W"}}}}

    def refusal(self) -> errors.RateLimited:
        return errors.RateLimited("Too many requests.", retry_after_seconds=7)


@pytest.fixture
def dynamo(monkeypatch: pytest.MonkeyPatch) -> FakeDynamo:
    fake = FakeDynamo()
    monkeypatch.setattr(aws, "dynamodb", lambda: fake)
    return fake


def _with_every_side_item(changes: int, token: Token | None = None) -> Transaction:
    """`changes` items of its own, plus a hold counter, the stats shard, the audit entry and the quota token."""
    tx = Transaction()
    for n in range(changes):
        tx.put_new(Tag("other", str(n)), {"PK": f"THING#{n}", "SK": "THING"})
    tx.holds("user-1", 1, cap=3)
    tx.count("bookings_held", 1)
    tx.audit(audit.system_entry("test", "thing.create", "thing", "t1", at=NOW))
    tx.charge_quota(token or Token())
    return tx


def test_side_items_count_toward_the_budget() -> None:
    tx = _with_every_side_item(10)
    kinds = [entry.tag.kind for entry in tx.entries()]
    assert kinds[-4:] == ["hold_cap", "stats", "audit", "quota"]
    assert tx.size() == len(tx) == 14


def test_exactly_100_items_are_sent(dynamo: FakeDynamo) -> None:
    tx = _with_every_side_item(MAX_TRANSACTION_ITEMS - 4)
    assert tx.size() == MAX_TRANSACTION_ITEMS and tx.fits()
    execute(tx)
    assert [len(items) for items in dynamo.sent] == [MAX_TRANSACTION_ITEMS]


def test_101_items_are_refused_before_dynamodb_is_called(dynamo: FakeDynamo) -> None:
    tx = _with_every_side_item(MAX_TRANSACTION_ITEMS - 3)
    assert tx.size() == MAX_TRANSACTION_ITEMS + 1 and not tx.fits()
    with pytest.raises(TooManyItems) as refused:
        execute(tx)
    assert refused.value.count == MAX_TRANSACTION_ITEMS + 1
    assert refused.value.code == "too_many_items"
    assert dynamo.sent == []


def test_the_quota_token_rides_only_when_charged(dynamo: FakeDynamo) -> None:
    plain = Transaction()
    plain.put_new(Tag("other", "a"), {"PK": "A", "SK": "A"})
    execute(plain)
    charged = Transaction()
    charged.put_new(Tag("other", "b"), {"PK": "B", "SK": "B"})
    token = Token()
    charged.charge_quota(token)
    execute(charged)
    assert [len(items) for items in dynamo.sent] == [1, 2]
    assert token.committed
    # A paid token is not taken again by a later transaction of the same request.
    again = Transaction()
    again.charge_quota(token)
    assert again.quota is None


def _failing(kind: str) -> Callable[[list[Any]], list[dict[str, Any]]]:
    """Cancel with ConditionalCheckFailed on the item the tag `kind` names, wherever it is in the request."""

    def answer(items: list[Any]) -> list[dict[str, Any]]:
        keys = [next(iter(item.values())).get("Key") or next(iter(item.values())).get("Item") for item in items]
        return [{"Code": "ConditionalCheckFailed"} if str(kind) in str(key) else {"Code": "None"} for key in keys]

    return answer


def test_a_refused_quota_token_is_the_requests_429(dynamo: FakeDynamo) -> None:
    dynamo.answer = _failing("QUOTA#")
    token = Token()
    with pytest.raises(errors.RateLimited):
        execute(_with_every_side_item(3, token))
    assert not token.committed


def test_cancellation_reasons_are_named_by_each_items_tag(dynamo: FakeDynamo) -> None:
    dynamo.answer = _failing("USERHOLDS#")
    tx = _with_every_side_item(3)
    # However the request is ordered, each reason is read back through the entry that produced its item.
    tx.changes.reverse()
    with pytest.raises(TransactionFailed) as failed:
        execute(tx)
    assert [(f.tag, f.code) for f in failed.value.failures] == [(Tag("hold_cap", "user-1"), "ConditionalCheckFailed")]
    assert failed.value.of_kind("hold_cap") and not failed.value.of_kind("other")


def test_a_reply_that_does_not_match_the_request_is_not_guessed_at(dynamo: FakeDynamo) -> None:
    dynamo.answer = lambda items: [{"Code": "ConditionalCheckFailed"}]
    with pytest.raises(errors.DependencyUnavailable):
        execute(_with_every_side_item(3))
