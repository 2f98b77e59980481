"""Accepting a Stripe webhook call: verify its signature on the raw body, queue the event, acknowledge it.

The signature is the caller's only authentication (Stripe sends no token), so nothing is read or queued before it
passes. Applying the event is the payment-events processor's job (slotwise.payments.inbox).
"""

from __future__ import annotations

from typing import Any

from slotwise.observability import logger
from slotwise.payments import inbox, signatures


def accept(raw_body: bytes, signature_header: str | None) -> dict[str, Any]:
    """Queue a correctly signed, fresh Stripe event; BadRequest otherwise (Stripe then shows the failure)."""
    event = signatures.verify_event(raw_body, signature_header, signatures.webhook_secrets())
    inbox.enqueue(event, raw_body)
    logger.info("stripe event queued", extra={"stripe_event_id": event["id"], "stripe_event_type": event["type"]})
    return {"received": True, "id": event["id"]}
