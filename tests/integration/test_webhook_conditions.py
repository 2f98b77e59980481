"""Webhook subscriptions on AWS's engine: the per-owner cap holds under concurrent creations."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from slotwise.webhooks import service
from tests.support.http import call

pytestmark = pytest.mark.dynamodb_local

API = "/api/v1/webhook-subscriptions"
VENDOR = {"user": "vendor-cap", "role": "vendor"}


def test_thirty_concurrent_creations_never_pass_the_cap(local_table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.setattr(service, "MAX_SUBSCRIPTIONS_PER_OWNER", 5)
    barrier = threading.Barrier(30)

    def create(_: int) -> int:
        barrier.wait()
        body = {"url": "https://127.0.0.1:8443/hooks", "eventTypes": ["booking.confirmed"]}
        return call("POST", API, body=body, **VENDOR).status

    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = Counter(pool.map(create, range(30)))
    assert statuses[201] == 5
    assert set(statuses) <= {201, 409}
    assert len(call("GET", API, query={"limit": 100}, **VENDOR).body["subscriptions"]) == 5
