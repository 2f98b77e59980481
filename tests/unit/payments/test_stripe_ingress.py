"""The Stripe webhook ingress through its real handler (moto SQS and Secrets Manager): only a fresh event signed with
a configured secret is queued, byte for byte; everything else is a 400 problem and queues nothing."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import boto3
import pytest
import stripe

from infra.local.adapter import event_for
from infra.local.functions import invoke
from infra.local.provision import ensure_queue
from slotwise import errors
from slotwise.aws import QueueNotConfigured, reset_secrets
from slotwise.payments import inbox, signatures
from slotwise.settings import LOCAL_STRIPE_WEBHOOK_SECRET, get_settings
from slotwise.topology import TOPOLOGY
from tests.support.http import ApiResponse, call
from tests.support.imports import modules_loaded_by

PATH = "/api/v1/webhooks/stripe"
OLD_SECRET = "whsec_old_0123456789abcdef0123456789abcdef"
NEW_SECRET = "whsec_new_0123456789abcdef0123456789abcdef"
PROBLEM = "application/problem+json"


def stripe_event(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": "evt_1QSlotwise",
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": {"id": "pi_123", "object": "payment_intent", "metadata": {"slotwise_payment_id": "p1"}}},
    }
    event.update(changes)
    return event


def sign(raw: bytes, secret: str = LOCAL_STRIPE_WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    return stripe.WebhookSignature.generate_signature_header(raw.decode(), secret, timestamp=timestamp)


def post(raw: bytes, signature: str | None) -> ApiResponse:
    headers = {"content-type": "application/json; charset=utf-8"}
    if signature is not None:
        headers["stripe-signature"] = signature
    return call("POST", PATH, body=raw, headers=headers)


def post_base64(raw: bytes, signature: str) -> dict[str, Any]:
    """As API Gateway sends a body it chose to base64-encode."""
    group, event = event_for(
        "POST",
        PATH,
        raw_query_string="",
        headers=[("content-type", "application/json"), ("stripe-signature", signature)],
        body=b"{}",
    )
    event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode(), True
    result: dict[str, Any] = invoke(group, event)
    return result


@pytest.fixture
def queue_url(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    url = ensure_queue(boto3.client("sqs"), TOPOLOGY.queue(inbox.QUEUE_NAME))
    monkeypatch.setenv("SLOTWISE_STRIPE_EVENTS_QUEUE_URL", url)
    return url


def queued(url: str) -> list[dict[str, Any]]:
    found = boto3.client("sqs").receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=0
    )
    return list(found.get("Messages", []))


# --- accepted ------------------------------------------------------------------------------------------------------


def test_a_signed_event_is_queued_byte_for_byte(queue_url: str) -> None:
    # Indented, with a raw non-ASCII character: a re-serialised body would differ from what was signed.
    raw = json.dumps(stripe_event(description="Zürich"), indent=2, ensure_ascii=False).encode()
    answer = post(raw, sign(raw))
    assert answer.status == 200, answer.body
    assert answer.body == {"received": True, "id": "evt_1QSlotwise"}
    (message,) = queued(queue_url)
    assert message["Body"].encode() == raw
    assert message["MessageAttributes"]["eventType"]["StringValue"] == "payment_intent.succeeded"
    assert message["MessageAttributes"]["eventId"]["StringValue"] == "evt_1QSlotwise"


def test_a_base64_encoded_body_is_decoded_before_the_check(queue_url: str) -> None:
    raw = json.dumps(stripe_event(id="evt_b64")).encode()
    result = post_base64(raw, sign(raw))
    assert result["statusCode"] == 200, result
    assert json.loads(result["body"]) == {"received": True, "id": "evt_b64"}
    (message,) = queued(queue_url)
    assert message["Body"].encode() == raw


def test_during_a_rotation_either_secret_verifies(queue_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLOTWISE_STRIPE_WEBHOOK_SECRETS", f" {OLD_SECRET} , {NEW_SECRET},")
    assert signatures.webhook_secrets() == [OLD_SECRET, NEW_SECRET]
    for n, secret in enumerate((NEW_SECRET, OLD_SECRET)):
        raw = json.dumps(stripe_event(id=f"evt_rot{n}")).encode()
        assert post(raw, sign(raw, secret)).status == 200
    raw = json.dumps(stripe_event(id="evt_local")).encode()
    refused = post(raw, sign(raw, LOCAL_STRIPE_WEBHOOK_SECRET))  # configured secrets replace the local default
    assert (refused.status, refused.code) == (400, "invalid_stripe_signature")
    assert len(queued(queue_url)) == 2


def test_without_the_url_setting_local_stages_find_the_queue_by_name(
    queue_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLOTWISE_STRIPE_EVENTS_QUEUE_URL")
    assert inbox.queue_url() == queue_url


# --- refused -------------------------------------------------------------------------------------------------------

GOOD = json.dumps(stripe_event()).encode()


def _tampered() -> tuple[bytes, str | None]:
    return GOOD.replace(b"pi_123", b"pi_999"), sign(GOOD)


def _wrong_secret() -> tuple[bytes, str | None]:
    return GOOD, sign(GOOD, NEW_SECRET)


def _stale() -> tuple[bytes, str | None]:
    return GOOD, sign(GOOD, timestamp=int(time.time()) - 301)


def _signed(raw: bytes) -> tuple[bytes, str | None]:
    return raw, sign(raw)


REFUSALS = {
    "tampered body": (_tampered, "invalid_stripe_signature"),
    "wrong secret": (_wrong_secret, "invalid_stripe_signature"),
    "stale timestamp": (_stale, "invalid_stripe_signature"),
    "missing header": (lambda: (GOOD, None), "invalid_stripe_signature"),
    "empty header": (lambda: (GOOD, ""), "invalid_stripe_signature"),
    "malformed header": (lambda: (GOOD, "garbage"), "invalid_stripe_signature"),
    "non-numeric timestamp": (lambda: (GOOD, "t=yesterday,v1=abc"), "invalid_stripe_signature"),
    "no v1 signature": (lambda: (GOOD, f"t={int(time.time())},v0=abc"), "invalid_stripe_signature"),
    "non-JSON body": (lambda: _signed(b"not json at all"), "invalid_stripe_event"),
    "JSON but not an object": (lambda: _signed(b'["evt_1"]'), "invalid_stripe_event"),
    "event without id": (lambda: _signed(json.dumps(stripe_event(id=None)).encode()), "invalid_stripe_event"),
    "id not an event id": (lambda: _signed(json.dumps(stripe_event(id="pi_123")).encode()), "invalid_stripe_event"),
    "event without type": (lambda: _signed(json.dumps(stripe_event(type="")).encode()), "invalid_stripe_event"),
    "no data.object": (lambda: _signed(json.dumps(stripe_event(data={"x": 1})).encode()), "invalid_stripe_event"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refused_requests_are_400_problems_and_queue_nothing(queue_url: str, case: str) -> None:
    make, code = REFUSALS[case]
    raw, signature = make()
    answer = post(raw, signature)
    assert answer.status == 400, answer.body
    assert answer.headers["content-type"] == PROBLEM
    assert answer.code == code
    assert LOCAL_STRIPE_WEBHOOK_SECRET not in json.dumps(answer.body)
    assert queued(queue_url) == []


def test_a_body_that_is_not_utf8_is_refused(queue_url: str) -> None:
    result = post_base64(b'{"id": "evt_\xff"}', f"t={int(time.time())},v1=00")
    assert result["statusCode"] == 400
    assert json.loads(result["body"])["code"] == "invalid_stripe_event"
    assert queued(queue_url) == []


def test_the_clock_and_tolerance_can_be_given() -> None:
    signed_at = 1_700_000_000
    header = sign(GOOD, timestamp=signed_at)
    secrets = [LOCAL_STRIPE_WEBHOOK_SECRET]
    assert signatures.verify_event(GOOD, header, secrets, now=signed_at + 300)["id"] == "evt_1QSlotwise"
    with pytest.raises(errors.BadRequest) as stale:
        signatures.verify_event(GOOD, header, secrets, now=signed_at + 301)
    assert stale.value.code == "invalid_stripe_signature" and "300 s" in stale.value.detail
    assert signatures.verify_event(GOOD, header, secrets, tolerance=3600, now=signed_at + 3000)
    with pytest.raises(errors.DependencyUnavailable):
        signatures.verify_event(GOOD, header, [], now=signed_at)


# --- where the secrets come from -----------------------------------------------------------------------------------


def _secret(value: str) -> str:
    arn: str = boto3.client("secretsmanager").create_secret(Name="stripe-webhook", SecretString=value)["ARN"]
    return arn


def test_secrets_from_secrets_manager_are_read_and_cached(queue_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    arn = _secret(f"{OLD_SECRET},{NEW_SECRET}")
    monkeypatch.setenv("SLOTWISE_STRIPE_WEBHOOK_SECRETS_ARN", arn)
    assert signatures.webhook_secrets() == [OLD_SECRET, NEW_SECRET]
    raw = json.dumps(stripe_event(id="evt_sm")).encode()
    assert post(raw, sign(raw, NEW_SECRET)).status == 200
    boto3.client("secretsmanager").put_secret_value(SecretId=arn, SecretString=NEW_SECRET)
    assert signatures.webhook_secrets() == [OLD_SECRET, NEW_SECRET]  # cached for a few minutes
    reset_secrets()  # as after the cache's max age
    assert signatures.webhook_secrets() == [NEW_SECRET]


def test_the_stacks_placeholder_is_503_until_the_operator_puts_the_secret(
    queue_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = _secret("GeneratedPlaceholder0123456789abcdefABCDEF")
    monkeypatch.setenv("SLOTWISE_STRIPE_WEBHOOK_SECRETS_ARN", arn)
    raw = json.dumps(stripe_event()).encode()
    answer = post(raw, sign(raw))
    assert (answer.status, answer.code) == (503, "stripe_webhooks_not_configured")
    assert "GeneratedPlaceholder" not in json.dumps(answer.body)
    assert queued(queue_url) == []
    # Not cached: the value the operator puts is used at the next request.
    boto3.client("secretsmanager").put_secret_value(SecretId=arn, SecretString=NEW_SECRET)
    assert post(raw, sign(raw, NEW_SECRET)).status == 200


def test_an_unreadable_secret_is_503(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLOTWISE_STRIPE_WEBHOOK_SECRETS_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:x")
    with pytest.raises(errors.DependencyUnavailable, match="GetSecretValue"):
        signatures.webhook_secrets()


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_deployed_stages_refuse_to_run_without_secrets(monkeypatch: pytest.MonkeyPatch, stage: str) -> None:
    monkeypatch.setenv("SLOTWISE_STAGE", stage)
    monkeypatch.setenv("SLOTWISE_PAYMENT_PROVIDER", "stripe")
    with pytest.raises(errors.DependencyUnavailable) as refused:
        signatures.webhook_secrets()
    assert refused.value.code == "stripe_webhooks_not_configured"
    # The local secret is public (it is in this repository): never accepted where real money moves.
    monkeypatch.setenv("SLOTWISE_STRIPE_WEBHOOK_SECRETS", LOCAL_STRIPE_WEBHOOK_SECRET)
    get_settings.cache_clear()
    with pytest.raises(errors.DependencyUnavailable, match="local-only"):
        signatures.webhook_secrets()
    monkeypatch.setenv("SLOTWISE_STRIPE_WEBHOOK_SECRETS", NEW_SECRET)
    get_settings.cache_clear()
    assert signatures.webhook_secrets() == [NEW_SECRET]


def test_local_stages_default_to_the_local_secret() -> None:
    assert signatures.webhook_secrets() == [LOCAL_STRIPE_WEBHOOK_SECRET]


def test_a_deployed_function_without_its_queue_url_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLOTWISE_STAGE", "dev")
    monkeypatch.setenv("SLOTWISE_PAYMENT_PROVIDER", "stripe")
    with pytest.raises(QueueNotConfigured, match="SLOTWISE_STRIPE_EVENTS_QUEUE_URL"):
        inbox.queue_url()


def test_importing_the_handler_leaves_stripe_unimported() -> None:
    """Only payment code pays for the stripe import (about 175 ms of a cold start), and only when it verifies."""
    assert modules_loaded_by(["functions.stripe_webhooks.handler"], "stripe") == []
