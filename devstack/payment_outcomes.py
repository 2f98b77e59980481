"""The simulated provider's outcome switch: make a payment succeed, fail or wait, as the customer at Stripe's card
form would, through signed webhook events posted to the real webhook endpoint (so they go through verification,
the queue and the processor). Local runtime and tests only."""

from __future__ import annotations

from typing import Any, cast, get_args

from devstack.simulated_provider import Outcome, SimulatedProvider
from slotwise import errors
from slotwise.identity import permissions
from slotwise.identity.models import Caller
from slotwise.models import ApiModel
from slotwise.payments import store
from slotwise.payments.models import OPEN_PAYMENT, TopUp
from slotwise.payments.provider import BOOKING_ID_KEY, PAYMENT_ID_KEY, TOP_UP_ID_KEY, get_provider
from slotwise.settings import LOCAL_PAYMENT_PROVIDER, get_settings

OUTCOMES: tuple[str, ...] = get_args(Outcome)


class SimulateRequest(ApiModel):
    """The simulated provider's outcome switch takes no fields (an empty JSON object)."""


def simulate(caller: Caller, payment_id: str, outcome: str) -> dict[str, Any]:
    """Make the simulated provider report `outcome` for a payment of the caller's, or for one of the caller's wallet
    top-ups (its id in place of the payment's); 404 when the simulated provider is not in use."""
    permissions.require(caller, "payment.simulate")
    settings = get_settings()
    if settings.payment_provider != LOCAL_PAYMENT_PROVIDER or settings.stage not in ("local", "test"):
        raise errors.NotFound("The simulated provider is not in use here.", code="not_found")
    if outcome not in OUTCOMES:
        raise errors.NotFound(f"No outcome {outcome}; use one of {', '.join(OUTCOMES)}.", code="not_found")
    payment = store.get_payment(payment_id)
    if payment is None and (top_up := store.get_top_up(payment_id)) is not None and top_up.user_id == caller.user_id:
        return _simulate_top_up(top_up, cast("Outcome", outcome))
    if payment is None or (
        caller.user_id not in (payment.customer_id, payment.created_by)
        and not (permissions.allows(caller, "payment.view_any"))
    ):
        raise errors.NotFound(f"No payment {payment_id}.", code="payment_not_found")
    if payment.status not in OPEN_PAYMENT or payment.provider_ref is None:
        raise errors.Conflict(f"A {payment.status} payment has no outcome to simulate.", code="payment_not_open")
    provider = get_provider()
    if not isinstance(provider, SimulatedProvider):
        raise errors.NotFound("The simulated provider is not in use here.", code="not_found")
    delivered = provider.emit_outcome(
        cast("Outcome", outcome),
        provider_ref=payment.provider_ref,
        intent_id=payment.payment_intent_id,
        amount=payment.card_amount,
        currency=payment.currency,
        metadata={PAYMENT_ID_KEY: payment.id, BOOKING_ID_KEY: payment.booking_id},
        manual=payment.capture_method == "manual",
    )
    return {"paymentId": payment.id, "events": [{"id": e["id"], "type": e["type"]} for e in delivered]}


def _simulate_top_up(top_up: TopUp, outcome: Outcome) -> dict[str, Any]:
    if top_up.status != "pending" or top_up.provider_ref is None:
        raise errors.Conflict(f"A {top_up.status} top-up has no outcome to simulate.", code="payment_not_open")
    provider = get_provider()
    if not isinstance(provider, SimulatedProvider):
        raise errors.NotFound("The simulated provider is not in use here.", code="not_found")
    delivered = provider.emit_outcome(
        outcome,
        provider_ref=top_up.provider_ref,
        intent_id=top_up.payment_intent_id,
        amount=top_up.amount,
        currency=top_up.currency,
        metadata={TOP_UP_ID_KEY: top_up.id},
    )
    return {"paymentId": top_up.id, "events": [{"id": e["id"], "type": e["type"]} for e in delivered]}
