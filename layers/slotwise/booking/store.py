"""Bookings and inventory in the single table, and the transactions that make double-booking impossible.

  BOOKING#<id>   / BOOKING        the booking    GSI1 USER#<customer>/<start>#<id>
                                                 GSI2 RESBOOK#<resource>/<start>#<id>
                                                 GSI3 HOLDS#<shard>/<expires>#<id>  (only while a hold can lapse)
                                                      TIMER#<shard>/<due>#<id>  (a confirmed booking's next
                                                      reminder or completion: slotwise.booking.timers)
                                                 GSI4 CREATOR#<created by>/<start>#<id>  (only when made for
                                                      someone else: the bookings an agent made)
  REF#<code>     / REF            reference -> booking id (its uniqueness is a condition in the same transaction)
  IDEMP#<caller>#<key> / IDEMP    Idempotency-Key -> booking id + request hash (same transaction, TTL 24 h)
  RESOURCE#<id>  / SLOT#<lockkey> inventory: `used` and one `h_<bookingId>` = {q: quantity, x: expiry epoch, 0 = firm,
                                 and for a hold that can lapse u: who made it, s: its status}
  USERHOLDS#<user> / HOLDS        how many bookings this user made are in held/awaiting_approval (the hold cap)

A claim is an Update per lock key conditioned on `used <= capacity - quantity` (plus the removal of holders
seen expired, conditioned on their exact expiry), in the same TransactWriteItems as the booking's
`attribute_not_exists` Put. Nothing is ever checked first and written later.

Every state-changing transaction also carries, added last by `execute`: the audit entry of the change
(`slotwise.audit.log`), the platform counters it moves (`slotwise.audit.stats`, one shard item) and the hold
counters of the users whose holds it opens or closes (one Update per user; an increase is conditional on
`holds <= cap - increase`, so no user ever has more than the cap, whatever the concurrency).
"""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from slotwise import aws, errors, ratelimit
from slotwise.audit import stats
from slotwise.audit.log import AuditEntry
from slotwise.booking import timers
from slotwise.booking.models import EXPIRING, Booking
from slotwise.data.codec import from_item, to_item
from slotwise.data.dynamo import index_page, table_name, translate_errors

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

HOLD_SHARDS = 8
MAX_TRANSACTION_ITEMS = 100

TagKind = Literal[
    "booking",
    "reference",
    "idempotency",
    "slot",
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
    "other",
]


@dataclass(frozen=True)
class Tag:
    """What one item of a transaction is, so a cancellation reason can be read back in domain terms."""

    kind: TagKind
    key: str = ""


@dataclass(frozen=True)
class Holder:
    booking_id: str
    quantity: int
    expires_epoch: int
    # Recorded on holds that can lapse, so whoever evicts one can close its hold count and status counter.
    user: str | None = None
    status: str | None = None

    def live(self, now_epoch: int) -> bool:
        return self.expires_epoch == 0 or self.expires_epoch > now_epoch


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


def holder_attribute(booking_id: str) -> str:
    return f"h_{booking_id}"


def holders_of(slot_item: dict[str, Any] | None) -> list[Holder]:
    if not slot_item:
        return []
    plain = from_item(slot_item)
    return [
        Holder(
            booking_id=name[2:],
            quantity=int(value["q"]),
            expires_epoch=int(value["x"]),
            user=value.get("u"),
            status=value.get("s"),
        )
        for name, value in plain.items()
        if name.startswith("h_") and isinstance(value, dict)
    ]


def holds_key(user_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"USERHOLDS#{user_id}"}, "SK": {"S": "HOLDS"}}


def opens_hold(booking: Booking) -> bool:
    """Bookings in these states count toward their creator's active holds."""
    return booking.status in EXPIRING


def booking_key(booking_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"BOOKING#{booking_id}"}, "SK": {"S": "BOOKING"}}


def slot_key(resource_id: str, lock_key: str) -> dict[str, Any]:
    return {"PK": {"S": f"RESOURCE#{resource_id}"}, "SK": {"S": f"SLOT#{lock_key}"}}


def _shard(booking_id: str) -> int:
    return int(hashlib.sha256(booking_id.encode()).hexdigest(), 16) % HOLD_SHARDS


def sort_time(value: datetime) -> str:
    """UTC, fixed width: sort keys order correctly across resources in different timezones."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sort_range(frm: datetime | None, to: datetime | None) -> tuple[str | None, str | None]:
    """Sort-key bounds of a `from`/`to` filter on `<time>#<id>` keys; one bound alone leaves the other side open."""
    low = sort_time(frm) if frm else None
    high = f"{sort_time(to)}~" if to else None
    if (low is None) != (high is None):
        low, high = low or "0", high or "~"
    return low, high


def booking_item(booking: Booking) -> dict[str, Any]:
    start = sort_time(booking.start_time)
    values: dict[str, Any] = {
        "PK": f"BOOKING#{booking.id}",
        "SK": "BOOKING",
        "type": "booking",
        "GSI1PK": f"USER#{booking.customer_id}",
        "GSI1SK": f"{start}#{booking.id}",
        "GSI2PK": f"RESBOOK#{booking.resource_id}",
        "GSI2SK": f"{start}#{booking.id}",
        "expiresEpoch": booking.expires_epoch,
        **booking.model_dump(mode="json", by_alias=True),
    }
    if booking.status in EXPIRING and booking.expires_at is not None:
        values["GSI3PK"] = f"HOLDS#{_shard(booking.id)}"
        values["GSI3SK"] = f"{booking.expires_epoch:012d}#{booking.id}"
    timer = timers.next_timer(booking)
    if timer is not None:
        values["GSI3PK"] = f"TIMER#{_shard(booking.id)}"
        values["GSI3SK"] = f"{int(timer.due.timestamp()):012d}#{booking.id}"
    if booking.created_by != booking.customer_id:
        values["GSI4PK"] = f"CREATOR#{booking.created_by}"
        values["GSI4SK"] = f"{start}#{booking.id}"
    return values


@dataclass
class Transaction:
    """A TransactWriteItems request being assembled, each item tagged with what it is.

    Counters and the audit entry are collected on the side and become items only in `request()`, so that several
    changes of one counter (two evicted holds of one user, a user's own new and lapsed holds) merge into one
    Update: a transaction may not touch an item twice.
    """

    items: list[TransactWriteItemTypeDef] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    counter_seed: str = ""
    hold_deltas: dict[str, int] = field(default_factory=dict)
    hold_caps: dict[str, int] = field(default_factory=dict)
    audit_entry: AuditEntry | None = None

    def __len__(self) -> int:
        return len(self.request()[0])

    def _add(self, tag: Tag, item: TransactWriteItemTypeDef) -> None:
        self.items.append(item)
        self.tags.append(tag)

    def add(self, tag: Tag, item: TransactWriteItemTypeDef) -> None:
        """An item another module's data layer built (payments, wallet), committed with the rest."""
        self._add(tag, item)

    # --- side items --------------------------------------------------------------------------------------------

    def audit(self, entry: AuditEntry) -> None:
        """The audit entry of this change: committed if and only if the change is."""
        self.audit_entry = entry
        self.counter_seed = self.counter_seed or f"{entry.target_type}:{entry.target_id}"

    def count(self, name: str, delta: int) -> None:
        self.counters[name] = self.counters.get(name, 0) + delta

    def move_status(self, before: str | None, after: str | None) -> None:
        """A booking leaves `before` and enters `after` (None: it did not exist / no longer exists)."""
        if before is not None:
            self.count(stats.booking_counter(before), -1)
        if after is not None:
            self.count(stats.booking_counter(after), 1)

    def holds(self, user_id: str, delta: int, cap: int | None = None) -> None:
        """Move a user's count of active holds; an increase is refused beyond `cap` (None: no cap)."""
        self.hold_deltas[user_id] = self.hold_deltas.get(user_id, 0) + delta
        if delta > 0 and cap is not None:
            self.hold_caps[user_id] = cap

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

    def request(self) -> tuple[list[TransactWriteItemTypeDef], list[Tag]]:
        """Every item to send, with its tag: the change itself, then hold counters, the stats shard, the audit."""
        items, tags = list(self.items), list(self.tags)
        for user_id in sorted(self.hold_deltas):
            delta = self.hold_deltas[user_id]
            if delta == 0 and user_id not in self.hold_caps:
                continue
            items.append(self._hold_update(user_id, delta))
            tags.append(Tag("hold_cap", user_id))
        counters = stats.update(self.counter_seed or (tags[0].key if tags else ""), self.counters)
        if counters is not None:
            items.append(counters)
            tags.append(Tag("stats"))
        if self.audit_entry is not None:
            items.append(self.audit_entry.put())
            tags.append(Tag("audit", self.audit_entry.id))
        return items, tags

    def put_new(self, tag: Tag, item: dict[str, Any]) -> None:
        self._add(
            tag,
            {
                "Put": {
                    "TableName": table_name(),
                    "Item": to_item(item),
                    "ConditionExpression": "attribute_not_exists(PK)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        )

    def _booking_as_read(self, before: Booking) -> dict[str, Any]:
        """The condition that the booking is still the version and status `before` was read with."""
        return {
            "ConditionExpression": "version = :version AND #status = :status",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":version": {"N": str(before.version)}, ":status": {"S": before.status}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }

    def check_booking(self, booking: Booking) -> None:
        """Write nothing to the booking, but commit only if nobody moved it since it was read (a payment starts
        for the hold that was read, not for whatever it became)."""
        check = {"TableName": table_name(), "Key": booking_key(booking.id), **self._booking_as_read(booking)}
        self._add(Tag("booking", booking.id), {"ConditionCheck": check})  # type: ignore[typeddict-item]

    def replace_booking(self, before: Booking, after: Booking) -> None:
        """The new state of a booking, only if nobody moved it since `before` was read."""
        put = {"TableName": table_name(), "Item": to_item(booking_item(after)), **self._booking_as_read(before)}
        self._add(Tag("booking", after.id), {"Put": put})  # type: ignore[typeddict-item]

    def mark_timers(self, before: Booking, after: Booking) -> None:
        """Timer bookkeeping (`timersDone`, `lastReminder`) without a new version. The version alone cannot tell
        two runs of the timers job apart, so the condition also names how many timers were done when read: of
        concurrent runs exactly one marks a reminder (and so sends it)."""
        done = len(before.timers_done)
        was = "size(timersDone) = :done" if done else "(attribute_not_exists(timersDone) OR size(timersDone) = :done)"
        self._add(
            Tag("booking", after.id),
            {
                "Put": {
                    "TableName": table_name(),
                    "Item": to_item(booking_item(after)),
                    "ConditionExpression": f"version = :version AND #status = :status AND {was}",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {
                        ":version": {"N": str(before.version)},
                        ":status": {"S": before.status},
                        ":done": {"N": str(done)},
                    },
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        )

    def delete_booking(self, booking: Booking) -> None:
        self._add(
            Tag("booking", booking.id),
            {
                "Delete": {
                    "TableName": table_name(),
                    "Key": booking_key(booking.id),
                    "ConditionExpression": "version = :version",
                    "ExpressionAttributeValues": {":version": {"N": str(booking.version)}},
                }
            },
        )

    def delete_key(self, tag: Tag, pk: str, sk: str) -> None:
        self._add(tag, {"Delete": {"TableName": table_name(), "Key": {"PK": {"S": pk}, "SK": {"S": sk}}}})

    def claim(
        self,
        resource_id: str,
        lock_key: str,
        *,
        booking_id: str,
        quantity: int,
        capacity: int,
        expires_epoch: int,
        evict: Sequence[Holder] = (),
        holder_user: str | None = None,
        holder_status: str | None = None,
    ) -> None:
        """Take `quantity` of this lock key, evicting holders that were seen expired (only if still so)."""
        names = {"#mine": holder_attribute(booking_id)}
        hold: dict[str, Any] = {"q": {"N": str(quantity)}, "x": {"N": str(expires_epoch)}}
        if expires_epoch and holder_user is not None and holder_status is not None:
            hold.update({"u": {"S": holder_user}, "s": {"S": holder_status}})
        values: dict[str, Any] = {
            ":hold": {"M": hold},
            ":zero": {"N": "0"},
            ":delta": {"N": str(quantity - sum(h.quantity for h in evict))},
            ":limit": {"N": str(capacity - quantity + sum(h.quantity for h in evict))},
            ":resource": {"S": resource_id},
        }
        conditions = ["(attribute_not_exists(used) OR used <= :limit)", "attribute_not_exists(#mine)"]
        removals = []
        for index, holder in enumerate(evict):
            names[f"#e{index}"] = holder_attribute(holder.booking_id)
            values[f":x{index}"] = {"N": str(holder.expires_epoch)}
            conditions.append(f"#e{index}.x = :x{index}")
            removals.append(f"#e{index}")
        update = "SET #mine = :hold, used = if_not_exists(used, :zero) + :delta, resourceId = :resource"
        if removals:
            update += " REMOVE " + ", ".join(removals)
        self._add(
            Tag("slot", lock_key),
            {
                "Update": {
                    "TableName": table_name(),
                    "Key": slot_key(resource_id, lock_key),
                    "UpdateExpression": update,
                    "ConditionExpression": " AND ".join(conditions),
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        )

    def release(self, resource_id: str, lock_key: str, *, booking_id: str, quantity: int) -> None:
        self._add(
            Tag("slot", lock_key),
            {
                "Update": {
                    "TableName": table_name(),
                    "Key": slot_key(resource_id, lock_key),
                    "UpdateExpression": "SET used = used - :q REMOVE #mine",
                    "ConditionExpression": "attribute_exists(#mine)",
                    "ExpressionAttributeNames": {"#mine": holder_attribute(booking_id)},
                    "ExpressionAttributeValues": {":q": {"N": str(quantity)}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        )

    def set_expiry(self, resource_id: str, lock_key: str, *, booking_id: str, expires_epoch: int) -> None:
        """Change when this booking's claim on a lock key lapses (0 makes it firm: confirmed)."""
        self._add(
            Tag("slot", lock_key),
            {
                "Update": {
                    "TableName": table_name(),
                    "Key": slot_key(resource_id, lock_key),
                    "UpdateExpression": "SET #mine.x = :x",
                    "ConditionExpression": "attribute_exists(#mine)",
                    "ExpressionAttributeNames": {"#mine": holder_attribute(booking_id)},
                    "ExpressionAttributeValues": {":x": {"N": str(expires_epoch)}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        )

    def expire_evicted(self, booking_id: str, expires_epoch: int, now_iso: str) -> None:
        """Mark a lapsed hold `expired` as its inventory is taken. Only if it still is that hold: one already
        expired (by another claimant, on another key) fails here and the claim loop leaves it out next time, so
        its counters are closed exactly once."""
        self._add(
            Tag("evicted", booking_id),
            {
                "Update": {
                    "TableName": table_name(),
                    "Key": booking_key(booking_id),
                    # No request made this version (the evicting request is another booking's): no correlation id.
                    "UpdateExpression": "SET #status = :expired, version = version + :one, updatedAt = :now "
                    "REMOVE GSI3PK, GSI3SK, requestId",
                    "ConditionExpression": "#status IN (:held, :awaiting) AND expiresEpoch = :x",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {
                        ":expired": {"S": "expired"},
                        ":held": {"S": "held"},
                        ":awaiting": {"S": "awaiting_approval"},
                        ":x": {"N": str(expires_epoch)},
                        ":one": {"N": "1"},
                        ":now": {"S": now_iso},
                    },
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        )


class TooManyItems(errors.ValidationFailed):
    code = "too_many_items"

    def __init__(self, count: int) -> None:
        super().__init__(
            f"This change touches {count} items; DynamoDB commits at most {MAX_TRANSACTION_ITEMS} in one transaction."
        )
        self.count = count


def execute(transaction: Transaction) -> None:
    """Run the transaction once; raise TransactionFailed with the reason per item when it is cancelled.

    The request's quota token rides along when no local lease paid for it (`slotwise.ratelimit.QuotaCharge`):
    a caller over their limit gets 429 and nothing is written.
    """
    items, tags = transaction.request()
    charge = ratelimit.pending_charge()
    if charge is not None:
        items, tags = [*items, charge.transact_item()], [*tags, Tag("quota", charge.subject)]
    if len(items) > MAX_TRANSACTION_ITEMS:
        raise TooManyItems(len(items))
    client = aws.dynamodb()
    with translate_errors("TransactWriteItems"):
        try:
            # A token per attempt makes botocore's own network retries idempotent (AWS honours it for 10 minutes).
            client.transact_write_items(TransactItems=items, ClientRequestToken=str(uuid.uuid4()))
        except client.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons", [])
            failures = [
                Failure(tag, reason.get("Code", ""), dict(reason["Item"]) if "Item" in reason else None)
                for tag, reason in zip(tags, reasons, strict=False)
                if reason.get("Code") not in (None, "None")
            ]
            if charge is not None and any(
                f.tag.kind == "quota" and f.code == "ConditionalCheckFailed" for f in failures
            ):
                raise charge.refusal() from exc
            raise TransactionFailed(failures) from exc
    if charge is not None:
        charge.committed = True


def backoff(attempt: int, base: float = 0.01, cap: float = 0.5) -> None:
    """Full-jitter exponential backoff before retrying a transaction that lost a race (never a failed condition)."""
    time.sleep(random.uniform(0, min(cap, base * 2**attempt)))  # noqa: S311 - jitter, not security


def get_booking(booking_id: str, *, consistent: bool = True) -> Booking | None:
    with translate_errors("GetItem"):
        found = aws.dynamodb().get_item(TableName=table_name(), Key=booking_key(booking_id), ConsistentRead=consistent)
    item = found.get("Item")
    return Booking.model_validate(from_item(item)) if item else None


def get_plain(pk: str, sk: str) -> dict[str, Any] | None:
    with translate_errors("GetItem"):
        found = aws.dynamodb().get_item(
            TableName=table_name(), Key={"PK": {"S": pk}, "SK": {"S": sk}}, ConsistentRead=True
        )
    item = found.get("Item")
    return from_item(item) if item else None


def get_bookings(booking_ids: Iterable[str]) -> list[Booking]:
    """Up to 100 bookings in one BatchGetItem (used to describe conflicts)."""
    ids = sorted(set(booking_ids))[:100]
    if not ids:
        return []
    client = aws.dynamodb()
    keys: list[Any] = [booking_key(i) for i in ids]
    found: list[Booking] = []
    with translate_errors("BatchGetItem"):
        while keys:
            page = client.batch_get_item(RequestItems={table_name(): {"Keys": keys}})
            found.extend(Booking.model_validate(from_item(i)) for i in page["Responses"].get(table_name(), []))
            unprocessed = page.get("UnprocessedKeys") or {}
            keys = list(unprocessed[table_name()]["Keys"]) if table_name() in unprocessed else []
    return found


def slot_items(resource_id: str, low: str, high: str) -> dict[str, list[Holder]]:
    """Holders of every lock key in [low, high] of one resource: one Query (paged only past 1 MB)."""
    client = aws.dynamodb()
    request: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk AND SK BETWEEN :low AND :high",
        "ExpressionAttributeValues": {
            ":pk": {"S": f"RESOURCE#{resource_id}"},
            ":low": {"S": f"SLOT#{low}"},
            ":high": {"S": f"SLOT#{high}"},
        },
        "ConsistentRead": True,
    }
    result: dict[str, list[Holder]] = {}
    with translate_errors("Query"):
        while True:
            page = client.query(**request)
            for item in page.get("Items", []):
                result[item["SK"]["S"].removeprefix("SLOT#")] = holders_of(item)
            if "LastEvaluatedKey" not in page:
                return result
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def query_bookings(
    index: str, partition: str, *, low: str | None, high: str | None, limit: int, start_key: dict[str, Any] | None
) -> tuple[list[Booking], dict[str, Any] | None]:
    items, last = index_page(index, partition, low=low, high=high, limit=limit, start_key=start_key)
    return [Booking.model_validate(i) for i in items], last


def due_ids(kind: str, before: str, limit: int) -> list[str]:
    """Ids of bookings in GSI3 partitions `<kind>#<shard>` whose sort key is below `before`, across every shard."""
    client = aws.dynamodb()
    found: list[str] = []
    with translate_errors("Query"):
        for shard in range(HOLD_SHARDS):
            page = client.query(
                TableName=table_name(),
                IndexName="GSI3",
                KeyConditionExpression="GSI3PK = :pk AND GSI3SK < :before",
                ExpressionAttributeValues={":pk": {"S": f"{kind}#{shard}"}, ":before": {"S": before}},
                ProjectionExpression="id",
                Limit=limit,
            )
            found.extend(item["id"]["S"] for item in page.get("Items", []))
    return found


def lapsed_holds(now_epoch: int, limit: int = 100) -> list[str]:
    """Ids of bookings whose hold deadline has passed (strictly), across every shard of the sparse holds index."""
    return due_ids("HOLDS", f"{now_epoch:012d}#", limit)


def due_timers(now_epoch: int, limit: int = 100) -> list[str]:
    """Ids of confirmed bookings whose next deadline (reminder or completion) has come, across every shard."""
    return due_ids("TIMER", f"{now_epoch:012d}#~", limit)


def slot_holders(resource_id: str, lock_keys: Sequence[str], booking_id: str) -> set[str]:
    """The lock keys on which this booking still holds inventory (BatchGetItem, projected to its holder entry)."""
    client = aws.dynamodb()
    attribute = holder_attribute(booking_id)
    held: set[str] = set()
    pending: list[Any] = [slot_key(resource_id, key) for key in lock_keys]
    with translate_errors("BatchGetItem"):
        while pending:
            batch, pending = pending[:100], pending[100:]
            request: dict[str, Any] = {
                table_name(): {
                    "Keys": batch,
                    "ProjectionExpression": "SK, #h",
                    "ExpressionAttributeNames": {"#h": attribute},
                    "ConsistentRead": True,
                }
            }
            while request:
                page = client.batch_get_item(RequestItems=request)
                for item in page["Responses"].get(table_name(), []):
                    if attribute in item:
                        held.add(item["SK"]["S"].removeprefix("SLOT#"))
                request = page.get("UnprocessedKeys") or {}
    return held
