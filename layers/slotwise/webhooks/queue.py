"""The webhook queue, written to by its own consumer: attempt messages (with a delay) and the dead-letter queue.

The URLs come from settings (`SLOTWISE_WEBHOOK_QUEUE_URL`, `SLOTWISE_WEBHOOK_DLQ_URL`), which the CDK stack sets on
the delivery function and the local runtime sets after it creates the queues. Without them, on the `local` and
`test` stages only, the queues are looked up by their topology names (`python -m infra.local invoke`, tests).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from slotwise import aws
from slotwise.settings import get_settings
from slotwise.topology import TOPOLOGY

QUEUE_NAME = "webhooks"
# SQS delays a message by at most 15 minutes; longer waits are hops of at most this much (slotwise.webhooks.delivery).
MAX_DELAY_SECONDS = 900
_BATCH = 10


def queue_url() -> str:
    return aws.queue_url(get_settings().webhook_queue_url, QUEUE_NAME, "SLOTWISE_WEBHOOK_QUEUE_URL")


def dlq_url() -> str:
    dlq = TOPOLOGY.queue(QUEUE_NAME).dlq_name
    return aws.queue_url(get_settings().webhook_dlq_url, dlq, "SLOTWISE_WEBHOOK_DLQ_URL")


def delay_until(due: datetime, now: datetime) -> int:
    """Whole seconds to wait for `due`, at most one SQS hop."""
    return max(0, min(MAX_DELAY_SECONDS, math.ceil((due - now).total_seconds())))


def _body(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), sort_keys=True)


def send(message: dict[str, Any], delay_seconds: int = 0) -> None:
    aws.sqs().send_message(QueueUrl=queue_url(), MessageBody=_body(message), DelaySeconds=delay_seconds)


def send_all(messages: Sequence[dict[str, Any]]) -> None:
    """Send now, ten per call; raises if SQS refused any (the caller's message is then retried as a whole)."""
    client = aws.sqs()
    for start in range(0, len(messages), _BATCH):
        chunk = messages[start : start + _BATCH]
        result = client.send_message_batch(
            QueueUrl=queue_url(),
            Entries=[{"Id": str(i), "MessageBody": _body(message)} for i, message in enumerate(chunk)],
        )
        if result.get("Failed"):
            raise RuntimeError(f"SQS refused {len(result['Failed'])} webhook attempt messages")


def dead_letter(message: dict[str, Any]) -> None:
    aws.sqs().send_message(QueueUrl=dlq_url(), MessageBody=_body(message))
