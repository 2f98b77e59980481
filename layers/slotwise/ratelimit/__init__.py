"""Per-caller limits enforced in the functions, on DynamoDB: requests per minute by role tier on every API route,
a stricter rate for the expensive routes, and a cap on how many holds a user keeps at once (OWASP API4/API6: one
user must not reserve every slot).

Requests per minute (100/500/1000 for standard/premium/admin callers; guests count per source address). API
Gateway's HTTP APIs throttle per route and stage, never per caller, so the per-caller limit lives here:

  QUOTA#<subject> / W#<epoch minute>     used, ttl

a fixed one-minute window counted with `ADD used :n IF attribute_not_exists(used) OR used <= :limit - :n`.
Each function instance leases a few tokens at a time (1/20 of the limit) and spends them locally, so a busy
caller costs one UpdateItem per lease, not per request, and the count can never exceed the limit: every admitted
request spent a token that DynamoDB counted. A lease ends with its window; tokens a quiet instance leased and did
not spend are lost for that minute (at most 1/20 of the limit per instance). A fixed window admits up to twice
the limit across a window boundary, the usual price of counting in one conditional write.

Expensive routes (booking writes that open holds): a token bucket per (bucket, user) computed as GCRA (the
"theoretical arrival time" form of a token bucket):

  RATE#<bucket>#<user> / BUCKET     tat = when the bucket will be full again (epoch ms), ttl

A request is allowed when `tat <= now + tolerance`, and then moves `tat` one emission interval on (to
`max(tat, now) + interval`). DynamoDB has no max(), so that is one of two conditional UpdateItems:
`SET tat = :now + :interval IF attribute_not_exists(tat) OR tat < :now` (an idle bucket: the usual case, one
call), else, when its ALL_OLD image shows room, `SET tat = tat + :interval IF tat BETWEEN :now AND :now +
:tolerance` (a second call, only inside a burst). A refused request costs one call. Concurrent requests serialise
on the item, so exactly `limit` requests pass in a burst, whatever the concurrency. Refused requests get 429 with
Retry-After.

Active holds: a counter `USERHOLDS#<user> / HOLDS` that the booking transactions themselves move (see
`slotwise.transaction.Transaction.holds`), so the cap holds by construction; this module only says how high.

Every limit scales with the caller's tier (x1, x5, x10): standard = customer, advisor, guest; premium = agent,
staff, vendor; admin. Each is set by an environment variable, and 0 turns it off.

The items' layout and every DynamoDB call are `slotwise.ratelimit.store`'s; this module decides.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from slotwise import cache, errors
from slotwise.identity.models import Caller
from slotwise.ratelimit import store

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

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
# Every limit scales with the tier: standard x1, premium x5, admin x10 (100/500/1000 requests per minute).
TIER_FACTOR: dict[Tier, int] = {"standard": 1, "premium": 5, "admin": 10}

REQUESTS_ENV = "SLOTWISE_REQUESTS_PER_MINUTE"
DEFAULT_REQUESTS_PER_MINUTE = 100
LEASE_FRACTION = 20
MAX_LEASES_KEPT = 10_000
# The request quota's time source (tests move it to the next minute).
clock: Callable[[], float] = time.time

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


def requests_per_minute(tier: Tier) -> int | None:
    """The tier's request limit (None: turned off with SLOTWISE_REQUESTS_PER_MINUTE=0)."""
    base = _setting(REQUESTS_ENV, DEFAULT_REQUESTS_PER_MINUTE)
    return base * TIER_FACTOR[tier] if base else None


def booking_write_limit(caller: Caller) -> Limit | None:
    """Creating bookings (single or recurring) and rescheduling: 30/min for standard callers by default."""
    base = _setting(BOOKING_WRITES_ENV, DEFAULT_BOOKING_WRITES_PER_MINUTE)
    return Limit(base * TIER_FACTOR[tier_of(caller)], 60) if base else None


def active_hold_cap(caller: Caller) -> int | None:
    """Most bookings a user may have in `held`/`awaiting_approval` at once (None: no cap)."""
    base = _setting(ACTIVE_HOLDS_ENV, DEFAULT_ACTIVE_HOLDS)
    return base * TIER_FACTOR[tier_of(caller)] if base else None


def take(bucket: str, subject: str, limit: Limit, *, now_ms: int | None = None) -> None:
    """Spend one token of `subject`'s bucket or raise RateLimited (429, Retry-After).

    The first UpdateItem assumes the bucket is idle (the usual case for booking writes: a user books now and
    then); when it is not, its ALL_OLD image says whether the request fits the burst (one more UpdateItem) or not
    (refused, no more calls).
    """
    now = int(time.time() * 1000) if now_ms is None else now_ms
    interval, tolerance = limit.interval_ms, limit.tolerance_ms
    ttl = (now + tolerance + interval) // 1000 + 60
    for _ in range(_ATTEMPTS):
        old = store.start_bucket(bucket, subject, now=now, interval=interval, ttl=ttl)
        if old is None:
            return
        tat = int(old["tat"]["N"]) if "tat" in old else now
        if tat > now + tolerance:
            retry_after = max(1, math.ceil((tat - tolerance - now) / 1000))
            raise errors.RateLimited(
                f"Too many requests; at most {limit.requests} per {limit.per_seconds} s. Retry in {retry_after} s.",
                retry_after_seconds=retry_after,
            )
        # Busy bucket with room left: take the next token atomically (concurrent takers serialise on the item).
        if store.advance_bucket(bucket, subject, now=now, interval=interval, latest=now + tolerance, ttl=ttl):
            return
        # The burst filled up meanwhile (the next round refuses), or it went idle (restart it).
    raise errors.RateLimited("Too many concurrent requests; retry shortly.", retry_after_seconds=1)


def booking_write(caller: Caller) -> None:
    """The bucket of the routes that claim inventory (create, recurring, reschedule)."""
    limit = booking_write_limit(caller)
    if limit is not None and caller.user_id is not None:
        take("booking-writes", caller.user_id, limit)


# --- requests per minute ------------------------------------------------------------------------------------------


def lease(subject: str, limit: int, wanted: int, *, now: float) -> int:
    """Take up to `wanted` of `subject`'s tokens in the current minute: how many were granted (>= 1), or 429.

    One UpdateItem when the window has room for the whole lease; when it has less, the ALL_OLD image says how much
    and the rest is asked for (concurrent leases serialise on the item: the sum granted never passes `limit`).
    """
    window = int(now // 60)
    for _ in range(_ATTEMPTS):
        used = store.add_used(subject, window, wanted=wanted, limit=limit)
        if used is None:
            return wanted
        left = limit - used
        if left <= 0:
            raise _refused(limit, now)
        wanted = left  # what is left of this minute (others may take it first: then the next round refuses)
    raise errors.RateLimited("Too many concurrent requests; retry shortly.", retry_after_seconds=1)


def _retry_after(now: float) -> int:
    return max(1, (int(now // 60) + 1) * 60 - int(now))


def _refused(limit: int, now: float) -> errors.RateLimited:
    retry_after = _retry_after(now)
    return errors.RateLimited(
        f"Too many requests; at most {limit} per minute. Retry in {retry_after} s.", retry_after_seconds=retry_after
    )


@dataclass
class QuotaCharge:
    """One token of the current minute, to be taken inside the request's own transaction (no call of its own).

    A booking write that arrives without a local lease would otherwise cost an UpdateItem before its
    TransactWriteItems; instead the same counter update rides in that transaction, so a booking stays one round
    trip. If the transaction is cancelled for this item the request is refused (429) and nothing is written.
    """

    subject: str
    window: int
    limit: int
    now: float
    committed: bool = False

    def transact_item(self) -> TransactWriteItemTypeDef:
        return store.charge_item(self.subject, self.window, self.limit)

    def refusal(self) -> errors.RateLimited:
        return _refused(self.limit, self.now)


_pending: ContextVar[QuotaCharge | None] = ContextVar("slotwise_quota_charge", default=None)


def pending_charge() -> QuotaCharge | None:
    """The current request's charge, if a transaction is still to take it (`Transaction.charge_quota`)."""
    charge = _pending.get()
    return charge if charge is not None and not charge.committed else None


class RequestQuota:
    """One function instance's leases: subject -> (minute, tokens left, or -1 once DynamoDB refused this minute).

    Thread-safe; emptied by reset_caches. A refused minute is remembered, so a caller over the limit costs no
    DynamoDB call until the next minute.
    """

    def __init__(self) -> None:
        self._leases: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()
        cache.register(self)

    def clear(self) -> None:
        with self._lock:
            self._leases.clear()

    def _take_local(self, subject: str, window: int, limit: int, now: float) -> bool:
        with self._lock:
            held_window, left = self._leases.get(subject, (window, 0))
            if held_window != window:
                return False
            if left < 0:
                raise _refused(limit, now)
            if left > 0:
                self._leases[subject] = (window, left - 1)
                return True
            return False

    def _keep(self, subject: str, window: int, tokens: int) -> None:
        """Add leased tokens (or mark the minute refused with -1)."""
        with self._lock:
            if len(self._leases) >= MAX_LEASES_KEPT:
                self._leases = {key: held for key, held in self._leases.items() if held[0] == window}
            held_window, left = self._leases.get(subject, (window, 0))
            # Two threads may lease at once for the same subject: keep both leases' tokens.
            kept = left if held_window == window and left > 0 else 0
            self._leases[subject] = (window, -1 if tokens < 0 else kept + tokens)

    def _lease(self, subject: str, window: int, limit: int, now: float) -> None:
        try:
            granted = lease(subject, limit, max(1, limit // LEASE_FRACTION), now=now)
        except errors.RateLimited:
            self._keep(subject, window, -1)
            raise
        self._keep(subject, window, granted - 1)

    def admit(self, subject: str, tier: Tier, *, in_transaction: bool = False) -> QuotaCharge | None:
        """Spend one of the subject's tokens for this minute (429 if none is left).

        From a local lease when there is one; else, with `in_transaction`, as a QuotaCharge that the request's own
        transaction takes (returned: run the request under `charging(...)`); else by leasing more from DynamoDB.
        """
        limit = requests_per_minute(tier)
        if limit is None:
            return None
        now = clock()
        window = int(now // 60)
        if self._take_local(subject, window, limit, now):
            return None
        if in_transaction:
            return QuotaCharge(subject, window, limit, now)
        self._lease(subject, window, limit, now)
        return None

    @contextmanager
    def charging(self, charge: QuotaCharge) -> Iterator[None]:
        """Run the request with `charge` pending. A request that committed no transaction with it (it failed, or
        wrote nothing transactional) is charged afterwards by an ordinary lease; a refusal then is remembered."""
        token = _pending.set(charge)
        try:
            yield
        finally:
            _pending.reset(token)
            if not charge.committed:
                with suppress(errors.RateLimited):
                    self._lease(charge.subject, charge.window, charge.limit, charge.now)
