"""Stripe-shaped webhook events, for the simulated provider and for tests.

The dicts use Stripe's own field names and values, so the webhook path and the payment-events processor handle a
simulated event exactly as a real one. Only the fields Slotwise reads, plus those that make an object recognisable,
are filled in; everything else Stripe sends is left out.

Event ids are derived from the event type and a seed (by default the object's id): building the same logical event
again gives the same id, as when Stripe re-delivers an event, so deduplication by event id can be exercised.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Literal

from slotwise.payments.provider import BOOKING_ID_KEY

# The API version the installed SDK pins (stripe 16.1.0): a webhook endpoint made for this code renders events in
# it. A test keeps the two in step when the SDK is upgraded.
API_VERSION = "2026-10-28.endive"

Event = dict[str, Any]
PaymentIntentEventKind = Literal["succeeded", "payment_failed", "processing", "canceled", "amount_capturable_updated"]
CheckoutSessionEventKind = Literal["completed", "expired"]

# What a PaymentIntent's status is once each kind of event has happened.
_INTENT_STATUS: dict[str, str] = {
    "succeeded": "succeeded",
    "payment_failed": "requires_payment_method",
    "processing": "processing",
    "canceled": "canceled",
    # capture_method manual: the card is authorized, the money waits for capture.
    "amount_capturable_updated": "requires_capture",
}
# The decline a simulated failure reports: Stripe's most common one, with the fields a client usually shows.
_CARD_DECLINED: dict[str, Any] = {
    "type": "card_error",
    "code": "card_declined",
    "decline_code": "generic_decline",
    "message": "Your card was declined.",
}


def fake_id(prefix: str, seed: str, length: int = 24) -> str:
    """`<prefix>_sim_<hex>`: the same seed always gives the same id, and `_sim_` makes a simulated id obvious."""
    return f"{prefix}_sim_{hashlib.sha256(seed.encode()).hexdigest()[:length]}"


def charge_id_for(intent_id: str) -> str:
    """The charge a simulated PaymentIntent made (one per intent: Slotwise never retries a card on the same one)."""
    return fake_id("ch", f"charge:{intent_id}")


def event(event_type: str, obj: Mapping[str, Any], *, created: int, seed: str | None = None) -> Event:
    """An event envelope around `obj`, as Stripe posts it to a webhook endpoint."""
    return {
        "id": fake_id("evt", f"{event_type}:{seed if seed is not None else obj['id']}"),
        "object": "event",
        "api_version": API_VERSION,
        "created": created,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
        "data": {"object": dict(obj)},
    }


def payment_intent_event(
    kind: PaymentIntentEventKind,
    *,
    intent_id: str,
    amount: int,
    currency: str,
    metadata: Mapping[str, str],
    created: int,
    seed: str | None = None,
) -> Event:
    """`payment_intent.<kind>`."""
    charged = kind != "canceled"  # a failed or processing payment made a charge too, just not a paid one
    intent: dict[str, Any] = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount if kind == "succeeded" else 0,
        "amount_capturable": amount if kind == "amount_capturable_updated" else 0,
        "currency": currency.lower(),
        "status": _INTENT_STATUS[kind],
        "metadata": dict(metadata),
        "latest_charge": charge_id_for(intent_id) if charged else None,
        "last_payment_error": dict(_CARD_DECLINED) if kind == "payment_failed" else None,
        "canceled_at": created if kind == "canceled" else None,
        "cancellation_reason": "abandoned" if kind == "canceled" else None,  # Slotwise cancels unpaid holds
        "created": created,
        "livemode": False,
    }
    return event(f"payment_intent.{kind}", intent, created=created, seed=seed)


def checkout_session_event(
    kind: CheckoutSessionEventKind,
    *,
    session_id: str,
    intent_id: str | None,
    amount: int,
    currency: str,
    metadata: Mapping[str, str],
    created: int,
    seed: str | None = None,
) -> Event:
    """`checkout.session.<kind>`. An expired session may have no PaymentIntent (Stripe makes it on confirmation)."""
    completed = kind == "completed"
    session: dict[str, Any] = {
        "id": session_id,
        "object": "checkout.session",
        "mode": "payment",
        "status": "complete" if completed else "expired",
        "payment_status": "paid" if completed else "unpaid",
        "amount_subtotal": amount,
        "amount_total": amount,
        "currency": currency.lower(),
        "client_reference_id": metadata.get(BOOKING_ID_KEY),
        "metadata": dict(metadata),
        "payment_intent": intent_id,
        "url": None,  # Stripe clears it once the session is no longer open
        "created": created,
        "expires_at": created,
        "livemode": False,
    }
    return event(f"checkout.session.{kind}", session, created=created, seed=seed)


def refund_event(
    *,
    refund_id: str,
    intent_id: str,
    amount: int,
    currency: str,
    status: str,
    metadata: Mapping[str, str],
    created: int,
    seed: str | None = None,
) -> Event:
    """`refund.updated`: a refund whose status changed (Stripe's refunds start pending and settle later)."""
    refund: dict[str, Any] = {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "currency": currency.lower(),
        "status": status,
        "reason": "requested_by_customer",
        "payment_intent": intent_id,
        "charge": charge_id_for(intent_id),
        "metadata": dict(metadata),
        "created": created,
    }
    # The seed carries the status so a later status change of the same refund is a different event.
    return event("refund.updated", refund, created=created, seed=seed if seed is not None else f"{refund_id}:{status}")


def charge_refunded_event(
    *,
    charge_id: str,
    intent_id: str,
    amount: int,
    amount_refunded: int,
    currency: str,
    metadata: Mapping[str, str],
    created: int,
    seed: str | None = None,
) -> Event:
    """`charge.refunded`: `amount_refunded` is the charge's running total, `refunded` true once it is all back."""
    charge: dict[str, Any] = {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": amount_refunded,
        "refunded": amount_refunded >= amount,
        "captured": True,
        "paid": True,
        "status": "succeeded",
        "currency": currency.lower(),
        "payment_intent": intent_id,
        "metadata": dict(metadata),
        "created": created,
        "livemode": False,
    }
    # Each partial refund makes a new charge.refunded event: the running total tells them apart.
    return event(
        "charge.refunded",
        charge,
        created=created,
        seed=seed if seed is not None else f"{charge_id}:{amount_refunded}",
    )


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header value for `payload`, made by the SDK so it verifies as a real one would."""
    import stripe  # only simulated and test code signs; the SDK's import cost stays out of other paths

    header: str = stripe.WebhookSignature.generate_signature_header(payload.decode("utf-8"), secret, timestamp)
    return header
