"""The payments side of booking changes (`slotwise.booking.settlement`): refunds by cancellation policy and voided
open payments, as items of the booking's own transaction, with the provider calls run once it commits.

`install()` plugs it into the booking engine; the entry points that cancel or expire bookings call it at start-up.
"""

from __future__ import annotations

from datetime import datetime

from slotwise.booking import settlement
from slotwise.booking.models import Booking
from slotwise.booking.settlement import RefundDestination, Settled
from slotwise.payments import ledger
from slotwise.transaction import Transaction


class LedgerSettlement:
    def cancel(
        self,
        tx: Transaction,
        booking: Booking,
        *,
        by_provider: bool,
        refund_to: RefundDestination | None,
        now: datetime,
    ) -> Settled:
        effects = ledger.Effects()
        payment = ledger.cancellation_refund(
            tx, booking, by_provider=by_provider, refund_to=refund_to, now=now, effects=effects
        )
        ledger.release_open_payment(tx, booking, "booking_cancelled", now, effects)
        if booking.payment is not None and booking.payment.state == "authorized":
            # Cancelled before the session (authorize_then_capture): nothing was taken, the authorization goes.
            payment = ledger.void_authorization(tx, booking, "booking_cancelled", now, effects)
        refunds = [{"id": r.id, "amount": r.amount, "to": r.destination} for r in effects.refunds]
        return Settled(payment, refunds, effects.run)

    def release(self, tx: Transaction, booking: Booking, reason: str, now: datetime) -> Settled:
        effects = ledger.Effects()
        ledger.release_open_payment(tx, booking, reason, now, effects)
        return Settled(booking.payment, [], effects.run)

    def complete(self, tx: Transaction, booking: Booking, now: datetime, *, capture_now: bool) -> Settled:
        effects = ledger.Effects()
        payment = ledger.capture_on_completion(tx, booking, now, effects, capture_now=capture_now)
        return Settled(payment, [], effects.run)


def install() -> None:
    settlement.install(LedgerSettlement())
