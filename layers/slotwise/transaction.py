"""The TransactWriteItems builder every domain commits through (bookings, payments, series), and its one budget.

A `Transaction` is an ordered list of entries, each an item with the `Tag` that says what it is. Some items are
collected on the side and become entries only when the request is built, so that several changes of one counter
merge into one Update (a transaction may not touch an item twice):

  the change itself          what the caller added, in order
  hold counters              `USERHOLDS#<user>/HOLDS`, one Update per user whose holds it opens or closes; an
                             increase is conditional on `holds <= cap - increase`, so no user ever has more than
                             the cap, whatever the concurrency
  the stats shard            one Update of `slotwise.audit.stats` with every counter it moves
  the audit entry            `slotwise.audit.log`: committed if and only if the change is
  the request-quota token    only when the use case asked for it (`charge_quota`)

DynamoDB takes at most 100 items in one transaction. `size()` counts every item above, and `execute` refuses a
transaction over the budget with `TooManyItems` before calling DynamoDB; callers that split work into several
transactions (series chunks) ask the same `size()`.

This module sits above `slotwise.data`, `slotwise.audit` and `slotwise.ratelimit` (it carries their items) and
below every domain that writes through it.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from slotwise import aws, errors
from slotwise.audit import stats
from slotwise.data.codec import to_item
from slotwise.data.dynamo import table_name, translate_errors

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

    from slotwise.audit.log import AuditEntry

MAX_TRANSACTION_ITEMS = 100

TagKind = Literal[
    "booking",
    "reference",
    "idempotency",
    "slot",
    "stock",
    "evicted",
    "hold_cap",
    "audit",
    "stats",
    "quota",
    "payment",
    "payment_pointer",
    "refund",
    "wallet",
    "provider_event",
    "resource",
    "top_up",
    "top_up_limit",
    # the report aggregates (slotwise.reports.store): applied state, event marker, period items
    "report",
    "membership",
    "other",
]


@dataclass(frozen=True)
class Tag:
    """What one item of a transaction is, so a cancellation reason can be read back in domain terms."""

    kind: TagKind
    key: str = ""


@dataclass(frozen=True)
class Entry:
    """One item of the request and its tag, kept together so no reordering can separate them."""

    tag: Tag
    item: TransactWriteItemTypeDef


@dataclass(frozen=True)
class Failure:
    tag: Tag
    code: str
    item: dict[str, Any] | None


class TransactionFailed(Exception):
    def __init__(self, failures: list[Failure]) -> None:
        super().__init__(", ".join(f"{f.tag.kind}:{f.tag.key}={f.code}" for f in failures))
        self.failures = failures

    @property
    def only_contention(self) -> bool:
        return all(f.code == "TransactionConflict" for f in self.failures)

    def of_kind(self, kind: TagKind) -> list[Failure]:
        return [f for f in self.failures if f.tag.kind == kind and f.code == "ConditionalCheckFailed"]


class TooManyItems(errors.ValidationFailed):
    code = "too_many_items"

    def __init__(self, count: int) -> None:
        super().__init__(
            f"This change touches {count} items; DynamoDB commits at most {MAX_TRANSACTION_ITEMS} in one transaction."
        )
        self.count = count


class InvalidWrite(errors.ValidationFailed):
    """DynamoDB cancelled the transaction for a validation reason: the request built an item it cannot store."""

    code = "invalid_write"

    def __init__(self, failures: str) -> None:
        super().__init__("The request cannot be stored as sent.")
        self.failures = failures


class QuotaToken(Protocol):
    """The request's quota token (`slotwise.ratelimit.QuotaCharge`), as the transaction carries it."""

    subject: str
    committed: bool

    def transact_item(self) -> TransactWriteItemTypeDef: ...

    def refusal(self) -> errors.RateLimited: ...


def holds_key(user_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"USERHOLDS#{user_id}"}, "SK": {"S": "HOLDS"}}


@dataclass
class Transaction:
    """A TransactWriteItems request being assembled, each item tagged with what it is."""

    changes: list[Entry] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    counter_seed: str = ""
    hold_deltas: dict[str, int] = field(default_factory=dict)
    hold_caps: dict[str, int] = field(default_factory=dict)
    audit_entry: AuditEntry | None = None
    quota: QuotaToken | None = None

    def add(self, tag: Tag, item: TransactWriteItemTypeDef) -> None:
        """An item a domain's data layer built (booking, payment, wallet), committed with the rest."""
        self.changes.append(Entry(tag, item))

    def put_new(self, tag: Tag, item: dict[str, Any]) -> None:
        """Create `item`, only if nothing has its key yet."""
        put = {
            "TableName": table_name(),
            "Item": to_item(item),
            "ConditionExpression": "attribute_not_exists(PK)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        self.add(tag, {"Put": put})  # type: ignore[typeddict-item]

    def delete_key(self, tag: Tag, pk: str, sk: str) -> None:
        self.add(tag, {"Delete": {"TableName": table_name(), "Key": {"PK": {"S": pk}, "SK": {"S": sk}}}})

    # --- side items ------------------------------------------------------------------------------------------------

    def audit(self, entry: AuditEntry) -> None:
        """The audit entry of this change: committed if and only if the change is."""
        self.audit_entry = entry
        self.counter_seed = self.counter_seed or f"{entry.target_type}:{entry.target_id}"

    def count(self, name: str, delta: int) -> None:
        """Move a platform counter (`slotwise.audit.stats`) with this change."""
        self.counters[name] = self.counters.get(name, 0) + delta

    def holds(self, user_id: str, delta: int, cap: int | None = None) -> None:
        """Move a user's count of active holds; an increase is refused beyond `cap` (None: no cap)."""
        self.hold_deltas[user_id] = self.hold_deltas.get(user_id, 0) + delta
        if delta > 0 and cap is not None:
            self.hold_caps[user_id] = cap

    def charge_quota(self, token: QuotaToken | None) -> None:
        """Take the request's quota token in this transaction (None: nothing to take, e.g. a local lease paid).

        Refused (the caller is over their limit) means 429 and nothing written; committed marks the token paid.
        """
        self.quota = token if token is not None and not token.committed else None

    # --- the request -------------------------------------------------------------------------------------------

    def entries(self) -> list[Entry]:
        """Every item to send, tagged: the change itself, hold counters, the stats shard, the audit, the quota."""
        entries = list(self.changes)
        for user_id in sorted(self.hold_deltas):
            delta = self.hold_deltas[user_id]
            if delta == 0 and user_id not in self.hold_caps:
                continue
            entries.append(Entry(Tag("hold_cap", user_id), self._hold_update(user_id, delta)))
        seed = self.counter_seed or (entries[0].tag.key if entries else "")
        counters = stats.update(seed, self.counters)
        if counters is not None:
            entries.append(Entry(Tag("stats"), counters))
        if self.audit_entry is not None:
            entries.append(Entry(Tag("audit", self.audit_entry.id), self.audit_entry.put()))
        if self.quota is not None:
            entries.append(Entry(Tag("quota", self.quota.subject), self.quota.transact_item()))
        return entries

    def size(self) -> int:
        """How many items `execute` would send: the one count the 100-item budget is checked against."""
        return len(self.entries())

    def __len__(self) -> int:
        return self.size()

    def fits(self) -> bool:
        return self.size() <= MAX_TRANSACTION_ITEMS

    def check_fits(self) -> list[Entry]:
        """The entries to send, or TooManyItems when they are over DynamoDB's budget."""
        entries = self.entries()
        if len(entries) > MAX_TRANSACTION_ITEMS:
            raise TooManyItems(len(entries))
        return entries

    def _hold_update(self, user_id: str, delta: int) -> TransactWriteItemTypeDef:
        update: dict[str, Any] = {
            "TableName": table_name(),
            "Key": holds_key(user_id),
            "UpdateExpression": "SET #type = :type ADD holds :delta",
            "ExpressionAttributeNames": {"#type": "type"},
            "ExpressionAttributeValues": {":delta": {"N": str(delta)}, ":type": {"S": "user_holds"}},
        }
        cap = self.hold_caps.get(user_id)
        if cap is not None:
            limit = cap - delta
            # A missing counter is zero: it passes only if the whole increase fits under the cap.
            condition = "attribute_not_exists(holds) OR holds <= :limit" if limit >= 0 else "holds <= :limit"
            update["ConditionExpression"] = condition
            update["ExpressionAttributeValues"][":limit"] = {"N": str(limit)}
            update["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return {"Update": update}  # type: ignore[typeddict-item]


def failures_of(entries: Sequence[Entry], reasons: Sequence[Mapping[str, Any]]) -> list[Failure]:
    """The failed items, each named by its entry's tag.

    DynamoDB answers one cancellation reason per item of the request; the entries are that request, so each
    reason belongs to the entry that produced the item. A reply that does not match the request is an error, not
    something to guess at (no reasons at all: nothing to name, as for a lost race).
    """
    if reasons and len(reasons) != len(entries):
        raise errors.DependencyUnavailable(
            f"DynamoDB returned {len(reasons)} cancellation reasons for {len(entries)} items."
        )
    return [
        Failure(entry.tag, reason.get("Code", ""), dict(reason["Item"]) if "Item" in reason else None)
        for entry, reason in zip(entries, reasons, strict=True)
        if reason.get("Code") not in (None, "None")
    ]


def execute(transaction: Transaction) -> None:
    """Run the transaction once; raise TransactionFailed with the reason per item when it is cancelled.

    Over budget: TooManyItems, and DynamoDB is not called. A refused quota token: the request's 429.
    """
    entries = transaction.check_fits()
    quota = transaction.quota
    client = aws.dynamodb()
    with translate_errors("TransactWriteItems"):
        try:
            # A token per attempt makes botocore's own network retries idempotent (AWS honours it for 10 minutes).
            client.transact_write_items(
                TransactItems=[entry.item for entry in entries], ClientRequestToken=str(uuid.uuid4())
            )
        except client.exceptions.TransactionCanceledException as exc:
            failed = TransactionFailed(failures_of(entries, exc.response.get("CancellationReasons", [])))
            if any(f.code == "ValidationError" for f in failed.failures):
                # DynamoDB refused an item itself (a key or an item too large…): no retry can change that, so it
                # is never taken for a lost race.
                raise InvalidWrite(str(failed)) from exc
            if quota is not None and failed.of_kind("quota"):
                raise quota.refusal() from exc
            raise failed from exc
    if quota is not None:
        quota.committed = True


def backoff(attempt: int, base: float = 0.01, cap: float = 0.5) -> None:
    """Full-jitter exponential backoff before retrying a transaction that lost a race (never a failed condition)."""
    time.sleep(random.uniform(0, min(cap, base * 2**attempt)))  # noqa: S311 - jitter, not security
