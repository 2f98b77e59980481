"""Stripe webhook signatures: which signing secrets are accepted, and checking a request against them.

Stripe signs `<t>.<raw body>` with HMAC-SHA256 and sends `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]`.
The check runs on the body exactly as received, before anything parses it: a re-serialised JSON body would not
match, and nothing unauthenticated should reach a parser that matters.

Secrets (`webhook_secrets()`): `SLOTWISE_STRIPE_WEBHOOK_SECRETS` (comma-separated), or the Secrets Manager secret
named by `SLOTWISE_STRIPE_WEBHOOK_SECRETS_ARN` holding the same list (read through `slotwise.aws.secret_string`,
Powertools Parameters, cached five minutes, so a new value is picked up without a redeploy; a refused value is
read afresh at the next request). Several are accepted at once: while an endpoint's secret is rolled Stripe signs
with the old and the new one, and a second endpoint (test mode, Connect) may post here too. `local`/`test` stages with
neither use LOCAL_STRIPE_WEBHOOK_SECRET, which the simulated provider signs with.

`dev`/`prod` with neither, with the stack's generated placeholder still in the secret (every value must start with
`whsec_`), or with the public local secret, refuse every webhook with a 503 (DependencyUnavailable), not a 400: the
gap is ours, it shows in the 5xx alarms, and Stripe retries non-2xx answers for three days, so events sent before an
operator puts the secret still arrive once it is there. A 400 would blame Stripe for our configuration.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from slotwise import aws, errors
from slotwise.settings import DEPLOYED_STAGES, LOCAL_STRIPE_WEBHOOK_SECRET, get_settings

INVALID_SIGNATURE = "invalid_stripe_signature"
INVALID_EVENT = "invalid_stripe_event"
# Stripe's own default: a signed request older than this is refused as a possible replay.
DEFAULT_TOLERANCE_SECONDS = 300
SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of every Stripe signing secret, not one


def _not_configured(detail: str) -> errors.DependencyUnavailable:
    return errors.DependencyUnavailable(
        f"Stripe webhooks are not configured yet: {detail}", code="stripe_webhooks_not_configured"
    )


def parse_secrets(value: str, source: str) -> tuple[str, ...]:
    """The comma-separated list in `value`; refuses anything but Stripe signing secrets (never echoing one)."""
    found = tuple(part.strip() for part in value.split(",") if part.strip())
    if not found:
        raise _not_configured(f"{source} holds no signing secret")
    if any(not secret.startswith(SECRET_PREFIX) for secret in found):
        # The stack creates the secret with a random placeholder; an operator replaces it with the whsec_ value(s).
        raise _not_configured(f"{source} holds a value that is not a {SECRET_PREFIX}... signing secret")
    if LOCAL_STRIPE_WEBHOOK_SECRET in found and get_settings().stage in DEPLOYED_STAGES:
        # That secret is in the public repository: accepting it would let anyone sign events.
        raise _not_configured(f"{source} holds the local-only signing secret")
    return found


def _read_secret(arn: str) -> tuple[str, ...]:
    try:
        return parse_secrets(aws.secret_string(arn), "SLOTWISE_STRIPE_WEBHOOK_SECRETS_ARN")
    except errors.DependencyUnavailable:
        # A placeholder or a bad value is read afresh next time: the operator's fix applies at once.
        aws.refuse_secret(arn)
        raise


def webhook_secrets() -> list[str]:
    """Every signing secret a Stripe webhook may be signed with (at least one; otherwise DependencyUnavailable)."""
    settings = get_settings()
    if settings.stripe_webhook_secrets is not None:
        return list(
            parse_secrets(settings.stripe_webhook_secrets.get_secret_value(), "SLOTWISE_STRIPE_WEBHOOK_SECRETS")
        )
    if settings.stripe_webhook_secrets_arn:
        return list(_read_secret(settings.stripe_webhook_secrets_arn))
    if settings.stage in DEPLOYED_STAGES:
        raise _not_configured(
            f"set SLOTWISE_STRIPE_WEBHOOK_SECRETS or SLOTWISE_STRIPE_WEBHOOK_SECRETS_ARN (stage {settings.stage})"
        )
    return [LOCAL_STRIPE_WEBHOOK_SECRET]


def _timestamp(header: str | None) -> int:
    """The header's `t`, once it has the shape Stripe sends (so a failure below is a real mismatch)."""
    if not header or not header.strip():
        raise errors.BadRequest("The Stripe-Signature header is missing.", code=INVALID_SIGNATURE)
    fields = [part.split("=", 1) for part in header.split(",")]
    stamps = [field[1] for field in fields if len(field) == 2 and field[0] == "t"]
    has_v1 = any(len(field) == 2 and field[0] == "v1" and field[1] for field in fields)
    # The first `t` is the one Stripe's library signs against, so it is the one checked here.
    if not stamps or not stamps[0].isdigit() or not has_v1:
        raise errors.BadRequest(
            "The Stripe-Signature header is malformed (expected t=<unix seconds>,v1=<hex signature>).",
            code=INVALID_SIGNATURE,
        )
    return int(stamps[0])


def _signed_with_any(payload: str, header: str, secrets: Sequence[str]) -> bool:
    # Imported here: only payment code pays for the stripe package (about 175 ms of a cold start).
    import stripe

    for secret in secrets:
        try:
            # No tolerance here: freshness is checked below against an injectable clock.
            stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=None)
        except stripe.SignatureVerificationError:
            continue
        return True
    return False


def _event(payload: str) -> dict[str, Any]:
    try:
        event = json.loads(payload)
    except ValueError:
        raise errors.BadRequest("The Stripe event is not valid JSON.", code=INVALID_EVENT) from None
    if not isinstance(event, dict):
        raise errors.BadRequest("The Stripe event is not a JSON object.", code=INVALID_EVENT)
    event_id, event_type, data = event.get("id"), event.get("type"), event.get("data")
    if not isinstance(event_id, str) or not event_id.startswith("evt_"):
        raise errors.BadRequest("The Stripe event has no `id` starting with evt_.", code=INVALID_EVENT)
    if not isinstance(event_type, str) or not event_type:
        raise errors.BadRequest("The Stripe event has no `type`.", code=INVALID_EVENT)
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise errors.BadRequest("The Stripe event has no `data.object`.", code=INVALID_EVENT)
    return event


def verify_event(
    raw_body: bytes,
    signature_header: str | None,
    secrets: Sequence[str],
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: int | None = None,
) -> dict[str, Any]:
    """The Stripe event in `raw_body` once one of `secrets` signed it less than `tolerance` seconds ago.

    BadRequest (`invalid_stripe_signature` or `invalid_stripe_event`) otherwise; details never name a secret.
    """
    if not secrets:
        raise _not_configured("no signing secret to check against")
    timestamp = _timestamp(signature_header)
    assert signature_header is not None  # _timestamp refuses a missing header
    try:
        # Stripe signs the UTF-8 text of the body; bytes that are not UTF-8 cannot carry a valid signature.
        payload = raw_body.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.BadRequest("The Stripe event is not UTF-8 text.", code=INVALID_EVENT) from None
    if not _signed_with_any(payload, signature_header, secrets):
        raise errors.BadRequest(
            "No v1 signature in the Stripe-Signature header matches the body with a configured webhook secret.",
            code=INVALID_SIGNATURE,
        )
    current = int(time.time()) if now is None else now
    # Only an old timestamp is refused (as Stripe's library does): a signed one from the future needs the secret.
    if timestamp < current - tolerance:
        raise errors.BadRequest(
            f"The Stripe signature is more than {tolerance} s old; a replayed request is refused.",
            code=INVALID_SIGNATURE,
        )
    return _event(payload)
