"""The claim loop: run a slot-locking transaction, learn from its cancellation reasons, and retry only when that
can change the outcome (a lost race, a lapsed hold to evict).

A failed condition on live inventory is final: it becomes a 409 naming the lock keys and the bookings that hold
them (`slot_unavailable`; `addon_unavailable` when what ran out is an add-on's stock, whose keys, quantities and
stock the caller passes as `stock`: lapsed holders of stock are evicted exactly like those of slots). Nothing here
reads inventory before writing; what the transaction saw is what it reports.

A failed hold-cap condition (the claimant already has as many active holds as their tier allows) is final too:
429 `active_holds_exceeded`. When evicting lapsed holds would take the transaction past DynamoDB's 100 items,
those holds are expired first, each in its own transaction (`expire_separately`), and the claim runs again.

Any other failed condition (idempotency key, reference, the booking itself, the hold cap) ends `run` with an
explicit `Refused` outcome: the caller answers a replay, retries with a new reference (passing the same state on,
so the attempt budget is shared), or calls `refuse(...)`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from slotwise import errors
from slotwise.booking.inventory import Holder, holders_of
from slotwise.booking.keys import key_span, keys_text
from slotwise.catalog.models import Resource
from slotwise.transaction import TooManyItems, Transaction, TransactionFailed, backoff, execute

MAX_ATTEMPTS = 12


class Unavailable(errors.Conflict):
    """Inventory ran out: the conflicts name times in the resource's time; `keys` keeps the storage keys for
    callers that match them to bookings (a series), never shown."""

    def __init__(self, detail: str, *, keys: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.keys: frozenset[str] = frozenset(keys)


class SlotUnavailable(Unavailable):
    code = "slot_unavailable"


class AddonUnavailable(Unavailable):
    code = "addon_unavailable"


# Per add-on stock key a claim takes: (the quantity it takes, the add-on's stock).
StockLimits = Mapping[str, tuple[int, int]]


# How long to wait before a new hold may fit: holds lapse or get decided; the sweeper runs every minute.
HOLD_CAP_RETRY_SECONDS = 60


class ActiveHoldsExceeded(errors.RateLimited):
    code = "active_holds_exceeded"

    def __init__(self, failure_item: dict[str, object] | None) -> None:
        held = holders_count(failure_item)
        super().__init__(
            "You already have as many bookings waiting for payment or approval as your account allows"
            + (f" ({held})" if held is not None else "")
            + "; complete, cancel or let one lapse first.",
            retry_after_seconds=HOLD_CAP_RETRY_SECONDS,
        )
        if held is not None:
            self.extra["activeHolds"] = held


def holders_count(item: dict[str, object] | None) -> int | None:
    value = (item or {}).get("holds")
    if isinstance(value, dict) and "N" in value:
        return int(str(value["N"]))
    return None


@dataclass(frozen=True)
class SlotConflict:
    lock_key: str
    booking_ids: tuple[str, ...]
    available: int
    stock: bool = False

    def as_json(self, resource: Resource) -> dict[str, object]:
        """The conflict in the resource's own time (never the storage key)."""
        if self.stock:
            # Who else took an add-on is nobody's business; how many are left is.
            addon_id, period = stock_period(self.lock_key)
            return {"addonId": addon_id, **period_span(resource, period), "available": max(self.available, 0)}
        return {
            **key_span(resource, self.lock_key),
            "bookingIds": list(self.booking_ids),
            "available": max(self.available, 0),
        }


def stock_period(stock_key: str) -> tuple[str, str]:
    """`A#<addonId>#D#<date>` or `A#<addonId>#<lock key>` -> (addonId, the period part)."""
    addon_id, _, period = stock_key.removeprefix("A#").partition("#")
    return addon_id, period


def period_span(resource: Resource, period: str) -> dict[str, str]:
    return {"date": period[2:]} if period.startswith("D#") else key_span(resource, period)


def _times_text(resource: Resource, conflicts: Sequence[SlotConflict]) -> str:
    slots = [c.lock_key for c in conflicts if not c.stock]
    days = sorted({p[2:] for _, p in (stock_period(c.lock_key) for c in conflicts if c.stock) if p.startswith("D#")})
    slots += [p for _, p in (stock_period(c.lock_key) for c in conflicts if c.stock) if not p.startswith("D#")]
    parts = ([keys_text(resource, sorted(set(slots)))] if slots else []) + [f"on {day}" for day in days]
    return ", ".join(parts)


@dataclass
class ClaimState:
    """What earlier attempts taught: holders to evict per lock key, which of them are already `expired`, and how
    many attempts the claim has used (a caller that retries after a `Refused` passes the same state on)."""

    evictions: dict[str, list[Holder]] = field(default_factory=dict)
    already_expired: set[str] = field(default_factory=set)
    attempt: int = 0

    def evicted_bookings(self) -> dict[str, Holder]:
        """One holder entry per lapsed booking to mark expired in this transaction (not those already expired)."""
        found: dict[str, Holder] = {}
        for holders in self.evictions.values():
            for holder in holders:
                if holder.booking_id not in self.already_expired:
                    found.setdefault(holder.booking_id, holder)
        return found

    def lapsed(self) -> list[str]:
        return sorted({h.booking_id for holders in self.evictions.values() for h in holders})

    def forget_evictions(self) -> None:
        self.evictions.clear()
        self.already_expired.clear()


@dataclass(frozen=True)
class Committed:
    """The claim's transaction committed."""


@dataclass(frozen=True)
class Refused:
    """A condition on something other than inventory failed (idempotency key, reference, the booking itself, the
    hold cap): the caller decides whether that is a replay, a retry with new values, or the answer."""

    failed: TransactionFailed


Outcome = Committed | Refused
COMMITTED = Committed()

Build = Callable[[ClaimState], Transaction]
ExpireSeparately = Callable[[list[str]], None]


def run(
    build: Build,
    *,
    resource: Resource,
    booking_id: str,
    quantity: int,
    capacity: int,
    now_epoch: int,
    state: ClaimState | None = None,
    expire_separately: ExpireSeparately | None = None,
    stock: StockLimits | None = None,
) -> Outcome:
    """Commit `build(state)`, retrying lost races and evictions; a failed condition on inventory raises
    SlotUnavailable, one on anything else comes back as `Refused`."""
    state = state or ClaimState()
    while state.attempt < MAX_ATTEMPTS:
        attempt = state.attempt
        state.attempt += 1
        try:
            execute(build(state))
            return COMMITTED
        except TooManyItems:
            lapsed = state.lapsed()
            if not lapsed or expire_separately is None:
                raise
            expire_separately(lapsed)
            state.forget_evictions()
            continue
        except TransactionFailed as failed:
            if failed.only_contention:
                backoff(attempt)
                continue
            # Who-we-are failures (idempotency key, reference) decide before inventory: a replay is not a conflict.
            if any(
                f.tag.kind not in ("slot", "stock", "evicted")
                for f in failed.failures
                if f.code == "ConditionalCheckFailed"
            ):
                return Refused(failed)
            conflicts = _learn(
                failed,
                state,
                booking_id=booking_id,
                quantity=quantity,
                capacity=capacity,
                now_epoch=now_epoch,
                stock=stock or {},
            )
            slots = [c for c in conflicts if not c.stock]
            if slots:
                raise SlotUnavailable(
                    f"The requested time is no longer available: {_times_text(resource, slots)}.",
                    keys=[c.lock_key for c in slots],
                    extra={"conflicts": [c.as_json(resource) for c in slots]},
                ) from failed
            if conflicts:
                raise AddonUnavailable(
                    f"Not enough of an add-on is left for this time: {_times_text(resource, conflicts)}.",
                    keys=[c.lock_key for c in conflicts],
                    extra={"conflicts": [c.as_json(resource) for c in conflicts]},
                ) from failed
            if failed.of_kind("slot") or failed.of_kind("stock") or failed.of_kind("evicted"):
                continue
            # Only lost races (and no failed condition) remain.
            backoff(attempt)
    raise errors.Conflict("The slot is being booked by many people at once; try again.", code="slot_contended")


def refuse(failed: TransactionFailed) -> NoReturn:
    """End a `Refused` claim its caller has no better answer for: the hold cap's 429, else the failure itself."""
    capped = failed.of_kind("hold_cap")
    if capped:
        raise ActiveHoldsExceeded(capped[0].item) from failed
    raise failed


def _learn(
    failed: TransactionFailed,
    state: ClaimState,
    *,
    booking_id: str,
    quantity: int,
    capacity: int,
    now_epoch: int,
    stock: StockLimits,
) -> list[SlotConflict]:
    conflicts: list[SlotConflict] = []
    for failure in [*failed.of_kind("slot"), *failed.of_kind("stock")]:
        is_stock = failure.tag.kind == "stock"
        wanted, limit = stock.get(failure.tag.key, (quantity, 0)) if is_stock else (quantity, capacity)
        others = [h for h in holders_of(failure.item) if h.booking_id != booking_id]
        live = [h for h in others if h.live(now_epoch)]
        taken = sum(h.quantity for h in live)
        if taken + wanted > limit:
            conflicts.append(
                SlotConflict(failure.tag.key, tuple(sorted(h.booking_id for h in live)), limit - taken, is_stock)
            )
        else:
            state.evictions[failure.tag.key] = [h for h in others if not h.live(now_epoch)]
    for failure in failed.of_kind("evicted"):
        status = (failure.item or {}).get("status", {})
        if isinstance(status, dict) and status.get("S") == "expired":
            # Another claimant expired it already (on another of its keys): still evict it, but leave the booking
            # (and its counters) alone from now on.
            state.already_expired.add(failure.tag.key)
            continue
        # The lapsed hold was confirmed or cancelled meanwhile: forget it and let the next attempt see the truth.
        for key, holders in list(state.evictions.items()):
            state.evictions[key] = [h for h in holders if h.booking_id != failure.tag.key]
    return conflicts
