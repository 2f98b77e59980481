"""The `payment_events` function: one SQS batch, each record alone — a failing event is the only one retried."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.local.functions import invoke
from slotwise.payments import processor

ARN = "arn:aws:sqs:us-east-1:000000000000:stripe-events"


def record(message_id: str, body: str) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"rh-{message_id}",
        "body": body,
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": ARN,
        "awsRegion": "us-east-1",
    }


def test_a_failing_event_is_the_only_one_reported_and_junk_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    handled: list[str] = []

    def handle(event: dict[str, Any]) -> str:
        handled.append(event["id"])
        if event["id"] == "evt_poison":
            raise RuntimeError("kept racing")
        return "confirmed"

    monkeypatch.setattr(processor, "handle", handle)
    batch = {
        "Records": [
            record("m1", json.dumps({"id": "evt_good", "type": "payment_intent.succeeded"})),
            record("m2", json.dumps({"id": "evt_poison", "type": "payment_intent.succeeded"})),
            record("m3", "not json"),
            record("m4", json.dumps(["no", "id"])),
        ]
    }
    result = invoke("payment_events", batch)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert handled == ["evt_good", "evt_poison"]
