"""Per-user limits enforced in the functions, on DynamoDB: a request rate for the expensive routes and a cap on
how many holds a user keeps at once (OWASP API4/API6: one user must not reserve every slot).

Rate: a token bucket per (bucket, user) computed as GCRA (the "theoretical arrival time" form of a token bucket):

  RATE#<bucket>#<user> / BUCKET     tat = when the bucket will be full again (epoch ms), ttl

A request is allowed when `tat <= now + tolerance`, and then moves `tat` one emission interval on (to
`max(tat, now) + interval`). DynamoDB has no max(), so that is one of two conditional UpdateItems:
`SET tat = :now + :interval IF attribute_not_exists(tat) OR tat < :now` (an idle bucket: the usual case, one
call), else, when its ALL_OLD image shows room, `SET tat = tat + :interval IF tat BETWEEN :now AND :now +
:tolerance` (a second call, only inside a burst). A refused request costs one call. Concurrent requests serialise
on the item, so exactly `limit` requests pass in a burst, whatever the concurrency. Refused requests get 429 with
Retry-After.

Active holds: a counter `USERHOLDS#<user> / HOLDS` that the booking transactions themselves move (see
`slotwise.booking.store.Transaction.holds`), so the cap holds by construction; this module only says how high.

Limits scale with the caller's tier, the same tiers as API Gateway's per-role request limits (100/500/1000 per
minute for standard/premium/admin): standard = customer, advisor, guest; premium = agent, staff, vendor.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from typing import Any, Literal

from slotwise import aws, errors
from slotwise.data.dynamo import table_name, translate_errors
from slotwise.identity.models import Caller

Tier = Literal["standard", "premium", "admin"]
TIERS: dict[str, Tier] = {
    "guest": "standard",
    "customer": "standard",
    "advisor": "standard",
    "agent": "premium",
    "staff": "premium",
    "vendor": "premium",
    "admin": "admin",
}
# Requests per minute per tier at the edge (API Gateway; documented, enforced by the infrastructure).
EDGE_REQUESTS_PER_MINUTE: dict[Tier, int] = {"standard": 100, "premium": 500, "admin": 1000}
# The in-function limits scale by the same ratio.
TIER_FACTOR: dict[Tier, int] = {"standard": 1, "premium": 5, "admin": 10}

BOOKING_WRITES_ENV = "SLOTWISE_BOOKING_WRITES_PER_MINUTE"
ACTIVE_HOLDS_ENV = "SLOTWISE_MAX_ACTIVE_HOLDS"
DEFAULT_BOOKING_WRITES_PER_MINUTE = 30
DEFAULT_ACTIVE_HOLDS = 5
_ATTEMPTS = 4


@dataclass(frozen=True)
class Limit:
    requests: int
    per_seconds: int

    @property
    def interval_ms(self) -> int:
        return math.ceil(self.per_seconds * 1000 / self.requests)

    @property
    def tolerance_ms(self) -> int:
        """How far ahead of now `tat` may be and still admit a request: a full burst of `requests`."""
        return self.interval_ms * (self.requests - 1)


def _setting(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    value = int(raw)
    if value < 0:
        raise ValueError(f"{name} must be >= 0 (0 turns the limit off)")
    return value


def tier_of(caller: Caller) -> Tier:
    return TIERS.get(caller.role, "standard")


def booking_write_limit(caller: Caller) -> Limit | None:
    """Creating bookings (single or recurring) and rescheduling: 30/min for standard callers by default."""
    base = _setting(BOOKING_WRITES_ENV, DEFAULT_BOOKING_WRITES_PER_MINUTE)
    return Limit(base * TIER_FACTOR[tier_of(caller)], 60) if base else None


def active_hold_cap(caller: Caller) -> int | None:
    """Most bookings a user may have in `held`/`awaiting_approval` at once (None: no cap)."""
    base = _setting(ACTIVE_HOLDS_ENV, DEFAULT_ACTIVE_HOLDS)
    return base * TIER_FACTOR[tier_of(caller)] if base else None


def _key(bucket: str, subject: str) -> dict[str, Any]:
    return {"PK": {"S": f"RATE#{bucket}#{subject}"}, "SK": {"S": "BUCKET"}}


def take(bucket: str, subject: str, limit: Limit, *, now_ms: int | None = None) -> None:
    """Spend one token of `subject`'s bucket or raise RateLimited (429, Retry-After).

    The first UpdateItem assumes the bucket is idle (the usual case for booking writes: a user books now and
    then); when it is not, its ALL_OLD image says whether the request fits the burst (one more UpdateItem) or not
    (refused, no more calls).
    """
    now = int(time.time() * 1000) if now_ms is None else now_ms
    interval, tolerance = limit.interval_ms, limit.tolerance_ms
    ttl = {"N": str((now + tolerance + interval) // 1000 + 60)}
    client = aws.dynamodb()
    for _ in range(_ATTEMPTS):
        with translate_errors("UpdateItem"):
            try:
                client.update_item(
                    TableName=table_name(),
                    Key=_key(bucket, subject),
                    UpdateExpression="SET tat = :next, #type = :type, #ttl = :ttl",
                    ConditionExpression="attribute_not_exists(tat) OR tat < :now",
                    ExpressionAttributeNames={"#ttl": "ttl", "#type": "type"},
                    ExpressionAttributeValues={
                        ":next": {"N": str(now + interval)},
                        ":now": {"N": str(now)},
                        ":type": {"S": "rate_bucket"},
                        ":ttl": ttl,
                    },
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return
            except client.exceptions.ConditionalCheckFailedException as exc:
                old: Any = exc.response.get("Item") or {}
        tat = int(old["tat"]["N"]) if "tat" in old else now
        if tat > now + tolerance:
            retry_after = max(1, math.ceil((tat - tolerance - now) / 1000))
            raise errors.RateLimited(
                f"Too many requests; at most {limit.requests} per {limit.per_seconds} s. Retry in {retry_after} s.",
                retry_after_seconds=retry_after,
            )
        # Busy bucket with room left: take the next token atomically (concurrent takers serialise on the item).
        with translate_errors("UpdateItem"):
            try:
                client.update_item(
                    TableName=table_name(),
                    Key=_key(bucket, subject),
                    UpdateExpression="SET tat = tat + :interval, #ttl = :ttl",
                    ConditionExpression="tat BETWEEN :now AND :latest",
                    ExpressionAttributeNames={"#ttl": "ttl"},
                    ExpressionAttributeValues={
                        ":interval": {"N": str(interval)},
                        ":now": {"N": str(now)},
                        ":latest": {"N": str(now + tolerance)},
                        ":ttl": ttl,
                    },
                )
                return
            except client.exceptions.ConditionalCheckFailedException:
                continue  # the burst filled up meanwhile (the next round refuses), or it went idle (restart it)
    raise errors.RateLimited("Too many concurrent requests; retry shortly.", retry_after_seconds=1)


def booking_write(caller: Caller) -> None:
    """The bucket of the routes that claim inventory (create, recurring, reschedule)."""
    limit = booking_write_limit(caller)
    if limit is not None and caller.user_id is not None:
        take("booking-writes", caller.user_id, limit)
