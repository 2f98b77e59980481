"""Payment use cases: pay for a held booking, quote a cancellation, read payments and the wallet.

Paying records the payment first, in one transaction with the wallet debit and a check that the booking is still
the held booking that was read; only then is the provider asked (with an idempotency key per booking and attempt),
so a crash between the two leaves an open payment that a retry of the same request completes and the reconciler
voids at the hold's deadline — the wallet share is never lost. A wallet that pays everything confirms the booking
in that same transaction, without the provider.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from slotwise import errors
from slotwise.audit import log as audit
from slotwise.booking import access
from slotwise.booking import store as bookings
from slotwise.booking.models import Booking
from slotwise.catalog.models import CancellationPolicy
from slotwise.data.due import sort_range
from slotwise.data.pagination import decode_cursor, encode_cursor
from slotwise.identity import permissions
from slotwise.identity.models import Caller
from slotwise.organisations import service as organisations
from slotwise.payments import confirmations, ledger, policy, store
from slotwise.payments.models import OPEN_PAYMENT, Payment, PaymentCreate, RefundQuote, WalletEntry
from slotwise.payments.provider import (
    PaymentRequest,
    ProviderPayment,
    get_provider,
)
from slotwise.settings import get_settings
from slotwise.transaction import Transaction, TransactionFailed, execute

WALLET = "wallet"


@dataclass(frozen=True)
class Started:
    payment: Payment
    booking: Booking
    provider: ProviderPayment | None  # None: the wallet paid everything
    resumed: bool = False  # an open payment's object asked for again (200, not 201)

    def public(self) -> dict[str, Any]:
        return {
            "payment": self.payment.public(),
            "booking": self.booking.public(),
            "clientSecret": self.provider.client_secret if self.provider else None,
            "checkoutUrl": self.provider.checkout_url if self.provider else None,
        }


def now_utc() -> datetime:
    return datetime.now(UTC)


def _payer(caller: Caller, booking_id: str) -> Booking:
    """Whoever booked pays: the customer, or the agent who made the booking for them (admins may too)."""
    permissions.require(caller, "payment.create")
    booking = access.visible(caller, bookings.get_booking(booking_id), booking_id)
    if caller.user_id not in (booking.customer_id, booking.created_by) and not permissions.allows(
        caller, "booking.manage_any"
    ):
        raise errors.PermissionDenied("Only the customer or whoever made the booking pays for it.")
    return booking


def _payable(booking: Booking, now: datetime) -> None:
    if booking.payment is not None:
        raise errors.Conflict("This booking is paid.", code="already_paid")
    if booking.status == "payment_pending":
        raise errors.Conflict("A payment for this booking is on its way.", code="payment_pending")
    if booking.status != "held":
        raise errors.Conflict(
            f"A {booking.status} booking takes no payment.",
            code="invalid_transition",
            extra={"bookingStatus": booking.status},
        )
    if booking.expires_at is not None and booking.expires_at <= now:
        raise errors.Conflict("The hold expired; book again.", code="hold_expired")


def _wallet_share(wanted: int | Literal["max"], booking: Booking) -> int:
    price, currency = booking.price.amount, booking.price.currency
    available = store.wallet_balances(booking.customer_id).get(currency, 0) if wanted else 0
    share = min(available, price) if wanted == "max" else wanted
    if share > price:
        raise errors.ValidationFailed(
            f"walletAmount ({share}) is more than the booking costs ({price}).", code="wallet_amount_too_large"
        )
    if share > available:
        raise errors.Conflict(
            f"The wallet holds {available} {currency}; {share} was asked.",
            code="insufficient_wallet_balance",
            extra={"balance": available, "currency": currency},
        )
    return share


def start_payment(caller: Caller, booking_id: str, data: PaymentCreate, *, now: datetime | None = None) -> Started:
    now = now or now_utc()
    booking = _payer(caller, booking_id)
    _payable(booking, now)
    current, attempt = store.current_payment(booking.id)
    if current is not None and current.status in OPEN_PAYMENT:
        return _resume(current, booking, data, resumed=True)
    manual = booking.confirmation == "authorize_then_capture"
    if manual and data.wallet_amount:
        # A wallet debit cannot be "authorized" and released later like a card: the card holds the whole price.
        raise errors.ValidationFailed(
            "This session is paid by card authorization on completion; the wallet cannot pay part of it.",
            code="wallet_not_accepted",
        )
    wallet = _wallet_share(data.wallet_amount, booking)
    settings = get_settings()
    card = booking.price.amount - wallet
    payment = Payment.model_validate(
        {
            "id": str(uuid.uuid4()),
            "booking_id": booking.id,
            "booking_reference": booking.reference,
            "customer_id": booking.customer_id,
            "created_by": caller.user_id,
            "vendor_id": booking.vendor_id,
            "resource_id": booking.resource_id,
            "attempt": (attempt or 0) + 1,
            "currency": booking.price.currency,
            "amount": booking.price.amount,
            "wallet_amount": wallet,
            "card_amount": card,
            "status": "requires_payment" if card else "succeeded",
            "provider": get_provider().name if card else WALLET,
            "flow": settings.payment_flow if card else None,
            "created_at": now,
            "updated_at": now,
            "expires_at": booking.expires_at,
            "capture_method": "manual" if manual else "automatic",
        }
    )
    tx = Transaction()
    store.add_payment(tx, payment)
    store.set_pointer(tx, booking.id, payment.id, payment.attempt, attempt)
    if wallet:
        store.wallet_change(tx, ledger.wallet_entry(payment, -wallet, "payment", now))
    if card:
        bookings.check_booking(tx, booking)
        after = booking
    else:
        after = confirmations.confirm_paid(tx, booking, payment, now, by=caller.user_id, request_id=caller.request_id)
    detail = {"bookingId": booking.id, "amount": payment.amount, "wallet": wallet, "card": card}
    tx.audit(audit.entry(caller, "payment.create", "payment", payment.id, at=now, detail=detail))
    _commit(tx, booking.id)
    if not card:
        return Started(payment, after, None)
    return _resume(payment, booking, data)


def _resume(payment: Payment, booking: Booking, data: PaymentCreate, *, resumed: bool = False) -> Started:
    """Ask the provider for the payment's object. Asking again for the same attempt gets the same object back (the
    idempotency key), so a client that lost the answer, or a call that failed half-way, simply repeats."""
    if data.wallet_amount not in (payment.wallet_amount, "max"):
        raise errors.Conflict(
            "A payment with another wallet amount is open for this booking; finish or let it lapse first.",
            code="payment_in_progress",
            extra={"paymentId": payment.id},
        )
    answer = get_provider().create_payment(
        PaymentRequest(
            payment_id=payment.id,
            booking_id=booking.id,
            booking_reference=booking.reference,
            attempt=payment.attempt,
            amount=payment.card_amount,
            currency=payment.currency,
            description=f"{booking.resource_name} ({booking.reference})",
            customer_id=booking.customer_id,
            expires_at=booking.expires_at,
            capture_method=payment.capture_method,
        )
    )
    if payment.provider_ref != answer.provider_ref:
        payment = confirmations.record_provider_ref(payment, answer)
    return Started(payment, booking, answer, resumed)


def _commit(tx: Transaction, booking_id: str) -> None:
    try:
        execute(tx)
    except TransactionFailed as failed:
        if failed.of_kind("wallet"):
            raise errors.Conflict(
                "The wallet no longer holds that much.", code="insufficient_wallet_balance"
            ) from failed
        if failed.of_kind("payment_pointer"):
            raise errors.Conflict(
                "Another payment for this booking started at the same time.", code="payment_in_progress"
            ) from failed
        raise errors.Conflict(
            f"Booking {booking_id} changed meanwhile; fetch it again.", code="version_conflict"
        ) from failed


# ----------------------------------------------------------------------------------------------------------- quotes


def cancellation_quote(caller: Caller, booking_id: str, *, now: datetime | None = None) -> RefundQuote:
    """What cancelling now would refund this caller's booking (the same rules `cancel` applies)."""
    now = now or now_utc()
    permissions.require(caller, "payment.read")
    permissions.require(caller, "booking.cancel")
    booking = access.changeable(caller, bookings.get_booking(booking_id), booking_id)
    by_provider = caller.user_id not in (booking.customer_id, booking.created_by)
    cancellation = booking.cancellation_policy or CancellationPolicy()
    paid = booking.payment.amount_paid if booking.payment else 0
    refunded = booking.payment.amount_refunded if booking.payment else 0
    terms = policy.refund_terms(
        cancellation,
        paid=paid,
        refunded=refunded,
        start=booking.start_time,
        now=now,
        by_provider=by_provider,
        full_refund_until=booking.full_refund_until,
    )
    card_left = booking.payment.card_amount if booking.payment else 0
    return RefundQuote(
        booking_id=booking.id,
        currency=booking.price.currency,
        amount_paid=paid,
        already_refunded=refunded,
        percent=terms.percent,
        fee=terms.fee,
        refund_amount=terms.amount,
        tier_min_hours_before=terms.tier.min_hours_before if terms.tier else None,
        valid_until=terms.valid_until,
        by="provider" if by_provider else "customer",
        refund_to=["card", "wallet"] if card_left > 0 else ["wallet"],
        default_refund_to=cancellation.default_refund_to if card_left > 0 else "wallet",
    )


# ------------------------------------------------------------------------------------------------------------ reads


def _can_read(caller: Caller, payment: Payment) -> bool:
    return (
        permissions.allows(caller, "payment.view_any")
        or caller.user_id in (payment.customer_id, payment.created_by)
        or organisations.same_organisation(caller, payment.vendor_id)
    )


def get_payment(caller: Caller, payment_id: str) -> dict[str, Any]:
    permissions.require(caller, "payment.read")
    payment = store.get_payment(payment_id)
    if payment is None or not _can_read(caller, payment):
        raise errors.NotFound(f"No payment {payment_id}.", code="payment_not_found")
    return {**payment.public(), "refunds": [r.public() for r in store.refunds_of(payment.id)]}


def list_payments(
    caller: Caller,
    *,
    vendor_id: str | None = None,
    status: str | None = None,
    frm: datetime | None = None,
    to: datetime | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[list[Payment], str | None]:
    """Newest first: every payment (admins), a vendor's venues' payments (vendors), or one's own as payer."""
    permissions.require(caller, "payment.read")
    user = access.require_user(caller)
    if permissions.allows(caller, "payment.view_any"):
        index, partition = ("GSI2", f"VENDORPAY#{vendor_id}") if vendor_id else ("GSI4", store.ALL_PAYMENTS)
    elif vendor_id is not None and vendor_id != user:
        raise errors.PermissionDenied("Only admins list another vendor's payments.")
    elif caller.role == "vendor":
        index, partition = "GSI2", f"VENDORPAY#{user}"
    else:
        index, partition = "GSI1", f"PAYER#{user}"
    low, high = sort_range(frm, to)
    scope = f"payments:{index}:{partition}:{user}"
    found, last = store.query_payments(
        index, partition, low=low, high=high, limit=limit, start_key=decode_cursor(cursor, scope=scope)
    )
    if status is not None:
        found = [p for p in found if p.status == status]
    return found, encode_cursor(last, scope=scope)


def wallet(caller: Caller) -> dict[str, Any]:
    permissions.require(caller, "wallet.read")
    user = access.require_user(caller)
    balances = store.wallet_balances(user)
    return {"balances": [{"currency": c, "balance": b} for c, b in sorted(balances.items())]}


def wallet_transactions(
    caller: Caller, *, limit: int = 20, cursor: str | None = None
) -> tuple[list[WalletEntry], str | None]:
    permissions.require(caller, "wallet.read")
    user = access.require_user(caller)
    scope = f"wallet:{user}"
    entries, last = store.wallet_entries(user, limit=limit, start_key=decode_cursor(cursor, scope=scope))
    return entries, encode_cursor(last, scope=scope)
