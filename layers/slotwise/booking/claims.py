"""The claim loop: run a slot-locking transaction, learn from its cancellation reasons, and retry only when that
can change the outcome (a lost race, a lapsed hold to evict, a reference that collided).

A failed condition on live inventory is final: it becomes a 409 naming the lock keys and the bookings that hold
them. Nothing here reads inventory before writing; what the transaction saw is what it reports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from slotwise import errors
from slotwise.booking.store import Holder, Transaction, TransactionFailed, backoff, execute, holders_of

MAX_ATTEMPTS = 12


class SlotUnavailable(errors.Conflict):
    code = "slot_unavailable"


@dataclass(frozen=True)
class SlotConflict:
    lock_key: str
    booking_ids: tuple[str, ...]
    available: int

    def as_json(self) -> dict[str, object]:
        return {"slot": self.lock_key, "bookingIds": list(self.booking_ids), "available": max(self.available, 0)}


@dataclass
class ClaimState:
    """What earlier attempts taught: holders to evict per lock key."""

    evictions: dict[str, list[Holder]] = field(default_factory=dict)

    def evicted_bookings(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for holders in self.evictions.values():
            for holder in holders:
                found[holder.booking_id] = holder.expires_epoch
        return found


Build = Callable[[ClaimState], Transaction]
OnOtherFailure = Callable[[TransactionFailed], bool]


def run(
    build: Build,
    *,
    booking_id: str,
    quantity: int,
    capacity: int,
    now_epoch: int,
    on_other_failure: OnOtherFailure | None = None,
) -> None:
    """Commit `build(state)`; `on_other_failure` handles non-inventory failures (True: retry, else raise)."""
    state = ClaimState()
    for attempt in range(MAX_ATTEMPTS):
        try:
            execute(build(state))
            return
        except TransactionFailed as failed:
            if failed.only_contention:
                backoff(attempt)
                continue
            # Who-we-are failures (idempotency key, reference) decide before inventory: a replay is not a conflict.
            if any(
                f.tag.kind not in ("slot", "evicted") for f in failed.failures if f.code == "ConditionalCheckFailed"
            ):
                if on_other_failure is not None and on_other_failure(failed):
                    continue
                raise
            conflicts = _learn(
                failed, state, booking_id=booking_id, quantity=quantity, capacity=capacity, now_epoch=now_epoch
            )
            if conflicts:
                raise SlotUnavailable(
                    "The requested time is no longer available: " + ", ".join(c.lock_key for c in conflicts) + ".",
                    extra={"conflicts": [c.as_json() for c in conflicts]},
                ) from failed
            if failed.of_kind("slot") or failed.of_kind("evicted"):
                continue
            # Only lost races (and no failed condition) remain.
            backoff(attempt)
    raise errors.Conflict("The slot is being booked by many people at once; try again.", code="slot_contended")


def _learn(
    failed: TransactionFailed, state: ClaimState, *, booking_id: str, quantity: int, capacity: int, now_epoch: int
) -> list[SlotConflict]:
    conflicts: list[SlotConflict] = []
    for failure in failed.of_kind("slot"):
        others = [h for h in holders_of(failure.item) if h.booking_id != booking_id]
        live = [h for h in others if h.live(now_epoch)]
        taken = sum(h.quantity for h in live)
        if taken + quantity > capacity:
            conflicts.append(SlotConflict(failure.tag.key, tuple(sorted(h.booking_id for h in live)), capacity - taken))
        else:
            state.evictions[failure.tag.key] = [h for h in others if not h.live(now_epoch)]
    for failure in failed.of_kind("evicted"):
        # The lapsed hold was confirmed or cancelled meanwhile: forget it and let the next attempt see the truth.
        for key, holders in list(state.evictions.items()):
            state.evictions[key] = [h for h in holders if h.booking_id != failure.tag.key]
    return conflicts
