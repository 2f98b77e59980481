"""Stripe's webhook calls: the signature over the raw body is the authentication (Stripe sends no bearer token, and
the gateway asks for none on this route); verified events are queued and Stripe gets its 2xx at once."""

from __future__ import annotations

import base64
from typing import Any

from slotwise.api.app import create_app, lambda_entrypoint
from slotwise.payments import ingress
from slotwise.settings import require_settings

# The resources this function uses: required outside local/test (the stack sets them; tests/infra checks it).
REQUIRED_SETTINGS = require_settings("stripe_events_queue_url")

# No per-caller quota: these calls have no caller identity to count against, and a refused event costs a retry.
# No JSON body gate either: the signature over the raw bytes decides, and `ingress` reads them itself.
app = create_app(request_quota=False, max_body_bytes=None)


def _raw_body() -> bytes:
    """The bytes Stripe signed: the event's own body (never a re-serialised JSON), base64-decoded when API Gateway
    encoded it."""
    event = app.current_event
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8")


@app.post(
    "/api/v1/webhooks/stripe",
    tags=["payments"],
    summary="Receive a Stripe webhook event (signed by Stripe; no bearer token)",
    description="Authenticated by the `Stripe-Signature` header (HMAC-SHA256 of `<t>.<raw body>` with the endpoint's "
    "signing secret, at most 300 s old). A verified event is queued for processing and acknowledged with 200; a "
    "missing, malformed, stale or wrong signature is 400 `invalid_stripe_signature`, an unusable event 400 "
    "`invalid_stripe_event`, missing configuration 503 (Stripe retries).",
    responses={200: {"description": 'Queued: `{"received": true, "id": "evt_…"}`'}},
)
def stripe_webhook() -> dict[str, Any]:
    return ingress.accept(_raw_body(), app.current_event.headers.get("stripe-signature"))


lambda_handler = lambda_entrypoint(app)
