"""The inbox of verified Stripe events: the `stripe-events` queue, read by the payment-events processor.

The ingress only queues: Stripe wants a 2xx within seconds and retries anything else, while applying an event
(payments, refunds, the wallet) takes table transactions. The processor re-parses the raw body and applies each
event once in effect (keyed on its id), so a duplicate from Stripe's retries or from SQS is harmless here.

The URL comes from `SLOTWISE_STRIPE_EVENTS_QUEUE_URL`, which the CDK stack sets on the ingress function and the local
runtime sets after it creates the queue. Without it, on the `local` and `test` stages only, the queue is looked up by
its topology name (`python -m infra.local invoke`, tests); a deployed function without it is a stack bug (500).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from slotwise import aws, errors
from slotwise.settings import get_settings

QUEUE_NAME = "stripe-events"


def queue_url() -> str:
    return aws.queue_url(get_settings().stripe_events_queue_url, QUEUE_NAME, "SLOTWISE_STRIPE_EVENTS_QUEUE_URL")


def enqueue(event: dict[str, Any], raw_body: bytes) -> None:
    """Queue a verified event: its body exactly as Stripe sent it, its type and id as message attributes."""
    try:
        aws.sqs().send_message(
            QueueUrl=queue_url(),
            # Verified bytes, not a re-serialised dict: the processor reads what Stripe signed.
            MessageBody=raw_body.decode("utf-8"),
            # For filtering and for reading a DLQ without parsing bodies.
            MessageAttributes={
                "eventType": {"DataType": "String", "StringValue": str(event["type"])},
                "eventId": {"DataType": "String", "StringValue": str(event["id"])},
            },
        )
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        # A 503 makes Stripe retry the event later; nothing was queued.
        raise errors.DependencyUnavailable(f"SQS SendMessage failed: {code}") from exc
    except BotoCoreError as exc:
        raise errors.DependencyUnavailable(f"SQS SendMessage failed: {type(exc).__name__}") from exc
