from __future__ import annotations

import boto3
import pytest

from infra.local.provision import ensure_queue
from slotwise.topology import TOPOLOGY
from slotwise.webhooks import queue, urls

# What the fake DNS answers in these tests; anything else does not resolve.
DNS: dict[str, list[str]] = {
    "hooks.example.com": ["93.184.216.34"],
    "other.example.com": ["93.184.216.35"],
    "rebind.example.com": ["93.184.216.36"],
    "internal.example.com": ["10.1.2.3"],
}


@pytest.fixture(autouse=True)
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    answers = {name: list(found) for name, found in DNS.items()}

    def resolve(host: str, port: int) -> list[str]:
        if host not in answers:
            raise OSError(f"unknown host {host}")
        return answers[host]

    monkeypatch.setattr(urls, "resolve", resolve)
    return answers


@pytest.fixture
def queues(table: str) -> dict[str, str]:
    """The webhook queue and its DLQ on moto, as the topology declares them."""
    client = boto3.client("sqs")
    spec = TOPOLOGY.queue(queue.QUEUE_NAME)
    main = ensure_queue(client, spec)
    dlq = client.get_queue_url(QueueName=spec.dlq_name)["QueueUrl"]
    return {"queue": main, "dlq": dlq}
