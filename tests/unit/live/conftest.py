"""Live push in process: the `live` handler called with the WebSocket events the local runtime builds, tokens from
the own issuer, and a fake Management API that records what is pushed."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from infra.local.functions import invoke
from infra.local.live import connect_event, disconnect_event, message_event, new_connection_id
from slotwise.identity.models import User
from slotwise.identity.tokens import issue_access_token
from slotwise.live import push
from slotwise.topology import TOPOLOGY

SPEC = TOPOLOGY.websocket
assert SPEC is not None


def token_for(user_id: str, role: str = "customer", status: str = "active") -> str:
    user = User(
        id=user_id,
        email=f"{user_id}@example.com",
        name=user_id,
        role=role,  # type: ignore[arg-type]
        status=status,  # type: ignore[arg-type]
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    token, _ = issue_access_token(user)
    return token


def connect(
    *, token: str | None = None, protocols: list[str] | None = None, headers: dict[str, str] | None = None
) -> tuple[str, dict[str, Any]]:
    """($connect's connection id, the route's answer)."""
    connection_id = new_connection_id()
    sent = [("Host", "127.0.0.1:3001"), ("Sec-WebSocket-Version", "13"), *(headers or {}).items()]
    if protocols:
        sent.append(("Sec-WebSocket-Protocol", ", ".join(protocols)))
    path = f"/ws?token={token}" if token else "/ws"
    event = connect_event(connection_id, path=path, headers=sent, source_ip="127.0.0.1", connected_at=1)
    return connection_id, invoke("live", event)


def send(connection_id: str, message: dict[str, Any] | str) -> dict[str, Any]:
    """A message's route answer, its body read as JSON."""
    body = message if isinstance(message, str) else json.dumps(message)
    answer = invoke("live", message_event(connection_id, body, spec=SPEC, source_ip="127.0.0.1", connected_at=1))
    return dict(json.loads(answer["body"]))


def disconnect(connection_id: str) -> dict[str, Any]:
    return dict(invoke("live", disconnect_event(connection_id, source_ip="127.0.0.1", connected_at=1, code=1000)))


@dataclass
class FakeManagementApi:
    """`push.post` recorded: connection id -> messages; `gone` ids answer 410, `broken` ids fail otherwise."""

    sent: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)
    broken: set[str] = field(default_factory=set)

    def post(self, connection_id: str, message: dict[str, Any]) -> None:
        if connection_id in self.gone:
            raise push.Gone(connection_id)
        if connection_id in self.broken:
            from slotwise import errors

            raise errors.DependencyUnavailable("API Gateway PostToConnection failed: InternalServerError")
        self.sent.setdefault(connection_id, []).append(json.loads(json.dumps(message)))


@pytest.fixture
def pushed(monkeypatch: pytest.MonkeyPatch) -> FakeManagementApi:
    fake = FakeManagementApi()
    monkeypatch.setattr(push, "post", fake.post)
    return fake
