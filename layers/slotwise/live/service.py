"""Live push: who may connect, what they may subscribe to, and delivering one domain event (docs/live.md).

- `$connect` authenticates the same access token as the HTTP API (slotwise.identity.tokens), sent as the `token`
  query parameter or in `Sec-WebSocket-Protocol` as `bearer.<token>` (browsers cannot set headers on a WebSocket);
  the handshake's answer names one protocol the client offered, as browsers require. No valid token: 401; a
  suspended account: 403. Locally (SLOTWISE_TRUST_IDENTITY_HEADERS) the identity headers name a caller too, as on
  the HTTP API. A user holds at most MAX_CONNECTIONS_PER_USER connections: the next one is refused (429
  `too_many_connections`) rather than closing an older tab; entries whose two hours are over are pruned first.
- `subscribe` / `unsubscribe` a booking (only one the caller may read: another customer's is 404, as on the HTTP API)
  or a resource's availability (any resource the caller may read).
- `deliver` posts an event to every connection allowed to see it (slotwise.live.messages); a connection API Gateway
  no longer holds (410) is forgotten, any other failure raises so the queue delivers the event again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from pydantic import ValidationError, model_validator

from slotwise import errors
from slotwise.events.envelope import DomainEvent
from slotwise.identity.models import Caller, Role
from slotwise.live import messages, push, store
from slotwise.live.gateway import LiveRequest, reply
from slotwise.models import ApiModel, Id
from slotwise.observability import logger

# API Gateway closes every WebSocket connection after two hours; nothing of one is kept longer.
CONNECTION_TTL_SECONDS = 2 * 60 * 60
MAX_CONNECTIONS_PER_USER = 10
MAX_SUBSCRIPTIONS_PER_CONNECTION = 20
TOKEN_QUERY_PARAMETER = "token"  # noqa: S105 - the parameter's name, not a secret
PROTOCOL_HEADER = "sec-websocket-protocol"
BEARER_PROTOCOL_PREFIX = "bearer."
USER_HEADER = "x-slotwise-user-id"
ROLE_HEADER = "x-slotwise-role"
_ROLES = frozenset(get_args(Role))
# Stored account statuses that may not hold a connection.
_REFUSED_STATUSES = frozenset({"suspended", "rejected"})


def _now() -> int:
    return int(time.time())


# --- $connect ----------------------------------------------------------------------------------------------------


def offered_protocols(request: LiveRequest) -> list[str]:
    header = request.headers.get(PROTOCOL_HEADER, "")
    return [part.strip() for part in header.split(",") if part.strip()]


def token_of(request: LiveRequest) -> str | None:
    """The access token: the `token` query parameter, else a `bearer.<token>` protocol the client offered."""
    query_token = request.query.get(TOKEN_QUERY_PARAMETER)
    if query_token:
        return query_token
    for protocol in offered_protocols(request):
        if protocol.lower().startswith(BEARER_PROTOCOL_PREFIX):
            return protocol[len(BEARER_PROTOCOL_PREFIX) :]
    return None


def chosen_protocol(request: LiveRequest) -> str | None:
    """The protocol the handshake answers with: the first offered one that is not the token (`slotwise.v1`), else
    the token's own entry (a browser fails a handshake whose answer names none of those it offered)."""
    offered = offered_protocols(request)
    plain = [p for p in offered if not p.lower().startswith(BEARER_PROTOCOL_PREFIX)]
    if plain:
        return plain[0]
    return offered[0] if offered else None


def caller_of(request: LiveRequest) -> Caller:
    """Who is connecting: the verified token's user; locally the identity headers; else 401."""
    from slotwise.identity.tokens import verify_access_token
    from slotwise.settings import get_settings

    token = token_of(request)
    if token is not None:
        return verify_access_token(token)
    user_id = request.headers.get(USER_HEADER)
    if user_id and get_settings().trust_identity_headers:
        role = request.headers.get(ROLE_HEADER, "customer")
        if role not in _ROLES:
            raise errors.AuthenticationRequired(f"Unknown role {role!r}.", code="invalid_identity")
        return Caller(user_id=user_id, role=role)  # type: ignore[arg-type]
    raise errors.AuthenticationRequired(
        "Connect with an access token: ?token=<token> or the protocol `bearer.<token>`.", code="invalid_token"
    )


def connect(request: LiveRequest) -> dict[str, Any]:
    from slotwise.identity.status import get_user_status

    caller = caller_of(request)
    assert caller.user_id is not None  # tokens and identity headers always name a user
    status = get_user_status(caller.user_id) or caller.status
    if status in _REFUSED_STATUSES or caller.status == "suspended":
        raise errors.PermissionDenied("This account is suspended or was not approved.", code="account_suspended")
    connected = datetime.now(UTC)
    record = store.ConnectionRecord(
        connection_id=request.connection_id,
        user_id=caller.user_id,
        role=caller.role,
        status=caller.status,
        connected_at=connected.isoformat().replace("+00:00", "Z"),
        expires_at=int(connected.timestamp()) + CONNECTION_TTL_SECONDS,
    )
    _open(record)
    protocol = chosen_protocol(request)
    return reply(200, headers={"Sec-WebSocket-Protocol": protocol} if protocol else None)


def _open(record: store.ConnectionRecord) -> None:
    for pruned in (False, True):
        try:
            store.open_connection(record, MAX_CONNECTIONS_PER_USER)
            return
        except store.CapReached as full:
            stale = {cid: exp for cid, exp in full.open_connections.items() if exp <= _now()}
            if pruned or not stale:
                break
            store.prune(record.user_id, stale)
    refusal = errors.RateLimited(
        f"A user holds at most {MAX_CONNECTIONS_PER_USER} live connections: close one first.",
        retry_after_seconds=60,
    )
    refusal.code = "too_many_connections"
    raise refusal


# --- $disconnect -------------------------------------------------------------------------------------------------


def disconnect(request: LiveRequest) -> dict[str, Any]:
    forget(request.connection_id)
    return reply(200)


def forget(connection_id: str) -> None:
    """Drop a connection and everything of it (idempotent)."""
    record = store.get_connection(connection_id)
    if record is not None:
        store.close_connection(record)


# --- subscribe / unsubscribe -------------------------------------------------------------------------------------


class SubscriptionMessage(ApiModel):
    """`{"action": "subscribe", "bookingId": "..."}` or `{"action": "subscribe", "resourceId": "..."}`."""

    action: Literal["subscribe", "unsubscribe"]
    booking_id: Id | None = None
    resource_id: Id | None = None

    @model_validator(mode="after")
    def _one_target(self) -> SubscriptionMessage:
        if (self.booking_id is None) == (self.resource_id is None):
            raise ValueError("name exactly one of bookingId and resourceId")
        return self


def _subscription(request: LiveRequest) -> tuple[store.ConnectionRecord, SubscriptionMessage]:
    body = request.json_body()
    try:
        found = SubscriptionMessage.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "message"
        raise errors.ValidationFailed(f"{where}: {first['msg']}", code="invalid_subscription") from exc
    record = store.get_connection(request.connection_id)
    if record is None:
        raise errors.AuthenticationRequired("This connection is not open any more; connect again.")
    return record, found


def _caller(record: store.ConnectionRecord) -> Caller:
    return Caller(user_id=record.user_id, role=record.role, status=record.status)  # type: ignore[arg-type]


def _topic(record: store.ConnectionRecord, wanted: SubscriptionMessage) -> tuple[str, dict[str, str]]:
    """The topic, after checking the caller may read what it names (404 as on the HTTP API otherwise)."""
    caller = _caller(record)
    if wanted.booking_id is not None:
        from slotwise.booking.queries import get_booking

        get_booking(caller, wanted.booking_id)
        return messages.booking_topic(wanted.booking_id), {"bookingId": wanted.booking_id}
    assert wanted.resource_id is not None
    from slotwise.catalog.service import get_resource

    get_resource(caller, wanted.resource_id)
    return messages.resource_topic(wanted.resource_id), {"resourceId": wanted.resource_id}


def subscribe(request: LiveRequest) -> dict[str, Any]:
    record, wanted = _subscription(request)
    if wanted.action != "subscribe":
        raise errors.BadRequest("This route takes `subscribe` messages.")
    topic, target = _topic(record, wanted)
    if not store.add_subscription(record, topic, MAX_SUBSCRIPTIONS_PER_CONNECTION):
        raise errors.Conflict(
            f"A connection follows at most {MAX_SUBSCRIPTIONS_PER_CONNECTION} bookings and resources.",
            code="too_many_subscriptions",
        )
    return reply(200, {"type": "subscribed", **target})


def unsubscribe(request: LiveRequest) -> dict[str, Any]:
    record, wanted = _subscription(request)
    if wanted.action != "unsubscribe":
        raise errors.BadRequest("This route takes `unsubscribe` messages.")
    if wanted.booking_id is not None:
        topic, target = messages.booking_topic(wanted.booking_id), {"bookingId": wanted.booking_id}
    else:
        assert wanted.resource_id is not None
        topic, target = messages.resource_topic(wanted.resource_id), {"resourceId": wanted.resource_id}
    store.remove_subscription(record, topic)
    return reply(200, {"type": "unsubscribed", **target})


def unknown_action(request: LiveRequest) -> dict[str, Any]:
    raise errors.BadRequest(
        'Unknown action: send {"action": "subscribe" | "unsubscribe", "bookingId" | "resourceId": ...}.',
        code="unknown_action",
    )


# --- delivery ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    """One connection an event reaches: the message, and the topic it was found through (None: its user's)."""

    message: dict[str, Any]
    topic: str | None = None


def recipients(audience: messages.Audience, now_epoch: int) -> dict[str, Recipient]:
    """Connection id -> what it gets. The personal message wins over availability for one connection."""
    found: dict[str, Recipient] = {}
    if audience.availability is not None:
        for topic in sorted(audience.availability_topics):
            for connection_id, _ in store.subscribers(topic, now_epoch):
                found[connection_id] = Recipient(audience.availability, topic)
    if audience.personal is not None:
        for topic in sorted(audience.topics):
            for connection_id, _ in store.subscribers(topic, now_epoch):
                found[connection_id] = Recipient(audience.personal, topic)
        for connection_id in store.connections_of(audience.users, now_epoch):
            found[connection_id] = Recipient(audience.personal)
    return found


def deliver(event: DomainEvent) -> dict[str, int]:
    """Post the event to every connection allowed to see it: counts of `sent` and `gone` connections."""
    sent = gone = 0
    for connection_id, recipient in sorted(recipients(messages.audience(event), _now()).items()):
        try:
            push.post(connection_id, recipient.message)
        except push.Gone:
            gone += 1
            _forget_gone(connection_id, recipient.topic)
            continue
        sent += 1
    logger.debug("live event pushed", extra={"eventId": event.id, "sent": sent, "gone": gone})
    return {"sent": sent, "gone": gone}


def _forget_gone(connection_id: str, topic: str | None) -> None:
    record = store.get_connection(connection_id)
    if record is not None:
        store.close_connection(record)
    elif topic is not None:
        # The connection's own item expired before the subscriber item that led here.
        store.delete_subscription(topic, connection_id)
