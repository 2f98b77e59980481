from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from infra.local.provision import ensure_table
from slotwise.settings import get_settings
from slotwise.topology import TABLE


@pytest.fixture(autouse=True)
def _no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests never open a network connection (moto intercepts botocore before any socket)."""

    def refuse(*_: Any, **__: Any) -> None:
        raise RuntimeError("unit tests must not open sockets")

    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def table(aws: None) -> str:
    """The single table, created on moto from the shared definition."""
    import boto3

    name = get_settings().table_name
    ensure_table(boto3.client("dynamodb"), TABLE, name)
    return name
