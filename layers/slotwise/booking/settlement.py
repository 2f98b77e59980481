"""The money side of a booking's state change, as the booking engine sees it: a port that payments fills.

Cancelling refunds a paid booking by its cancellation policy and voids an unpaid hold's open payment or an
authorization; a lapsing hold's open payment is voided; completing a session captures its authorization. Those
items travel in the booking's own transaction; provider calls run after it commits. Payments builds on bookings
(it imports their models and store), so the booking engine does not import payments:
`slotwise.payments.settlement.install()` puts the implementation here, and every entry point that cancels, expires
or completes bookings (the bookings, hold-expiry and timers functions, the payment jobs, the local runtime, the
tests) calls it at start-up. Without it, a use case that needs money refuses to run rather than skip the money.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from slotwise.booking.models import Booking, BookingPayment
from slotwise.transaction import Transaction

RefundDestination = Literal["card", "wallet"]


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Settled:
    """What the money side added to the transaction: the booking's payment summary after it, the refunds it made
    (for the audit entry) and the work to run once the transaction commits."""

    payment: BookingPayment | None
    refunds: list[dict[str, Any]] = field(default_factory=list)
    after_commit: Callable[[], None] = _nothing


class Settlement(Protocol):
    def cancel(
        self,
        tx: Transaction,
        booking: Booking,
        *,
        by_provider: bool,
        refund_to: RefundDestination | None,
        now: datetime,
    ) -> Settled:
        """A booking is being cancelled: refund it by its policy, void an open payment."""
        ...

    def release(self, tx: Transaction, booking: Booking, reason: str, now: datetime) -> Settled:
        """A held booking ends unpaid (it lapsed): void its open payment."""
        ...

    def complete(self, tx: Transaction, booking: Booking, now: datetime, *, capture_now: bool) -> Settled:
        """A session is over: capture its authorized payment (authorize_then_capture); otherwise nothing. Without
        `capture_now` (a job that holds no provider key) the capture is only marked, and the payments reconciler
        sends it on its next run."""
        ...


_installed: Settlement | None = None


def install(settlement: Settlement) -> None:
    global _installed  # noqa: PLW0603 - the one composition point, set once per process
    _installed = settlement


def settlement() -> Settlement:
    if _installed is None:
        raise RuntimeError(
            "No payment settlement installed: call slotwise.payments.settlement.install() where the process starts."
        )
    return _installed
