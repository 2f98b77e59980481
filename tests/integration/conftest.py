"""DynamoDB Local (AWS's own engine), started once per test session on a free port.

Anything about conditions, transactions or concurrency is judged here, never on moto.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import boto3
import pytest

from infra.local.provision import ensure_table
from slotwise.topology import TABLE
from tests.support.engine import engine


@pytest.fixture(scope="session")
def dynamodb_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The session's engine. A module that loads thousands of items overrides this fixture with an engine of its own
    (`yield from engine(...)`, module scope): DynamoDB Local stays slower after a large table is dropped (the
    200-racer proof took 24 s on a fresh engine, 63 s after the 10,000-flight test, 187 s after the whole tier), and
    the racing proofs get their own so their time does not depend on what ran before."""
    yield from engine(tmp_path_factory)


@pytest.fixture
def local_table(dynamodb_local: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh single table on DynamoDB Local; settings and clients point at it for this test. Dropped afterwards:
    the engine is shared by the session and keeps every table in memory (one test loads 10,000 items), and a
    heavier engine answers the racing tests more slowly."""
    from slotwise.aws import reset_clients
    from slotwise.settings import get_settings

    name = f"slotwise-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_local)
    monkeypatch.setenv("SLOTWISE_TABLE_NAME", name)
    # DynamoDB Local serialises transactions on one item; 32 racers on a busy 2-core CI machine queued past the
    # Lambda's 5 s read timeout (retried three times, then 503). What these tests judge is the engine's answer.
    monkeypatch.setenv("SLOTWISE_AWS_READ_TIMEOUT_SECONDS", "60")
    get_settings.cache_clear()
    reset_clients()
    client = boto3.client("dynamodb", endpoint_url=dynamodb_local)
    ensure_table(client, TABLE, name)
    yield name
    client.delete_table(TableName=name)
