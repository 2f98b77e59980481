"""The audit log: one item per committed state change, written in the same TransactWriteItems as the change.

  AUDIT#<type>:<id> / <UTC time>#<entry id>     GSI1: ACTOR#<actor> / <UTC time>#<entry id>

An entry says who (actor and role), what (action), on what (target type and id), with which result, under which
API request id, and when. The entry's Put is conditional on `attribute_not_exists(PK)` on a fresh key, so it never
fails on its own: the entry exists if and only if the change it describes committed. Entries are never updated.

Reading needs a target or an actor (one Query on the table or on GSI1): there is deliberately no global feed,
which would put every write of the platform on one index partition.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from slotwise import errors
from slotwise.audit import store
from slotwise.data.codec import from_item, to_item
from slotwise.data.dynamo import table_name
from slotwise.data.pagination import decode_cursor, encode_cursor

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

    from slotwise.identity.models import Caller

TARGET_TYPES = frozenset(
    {
        "venue",
        "resource",
        "addon",
        "booking",
        "series",
        "user",
        "webhook",
        "notification",
        "payment",
        "refund",
        "review",
        "top_up",
        "message",
        "notice",
        "organisation",
        # an operator's dead-letter redrive (slotwise.ops.queues)
        "queue",
    }
)
SYSTEM_ROLE = "system"
MAX_PAGE = 100


def stamp(value: datetime) -> str:
    """UTC, fixed width, microseconds: sort keys order exactly as time does."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class AuditEntry:
    actor: str
    role: str
    action: str
    target_type: str
    target_id: str
    request_id: str | None
    at: datetime
    detail: Mapping[str, Any] = field(default_factory=dict)
    result: str = "success"
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def target(self) -> str:
        return f"{self.target_type}:{self.target_id}"

    def item(self) -> dict[str, Any]:
        when = stamp(self.at)
        return {
            "PK": f"AUDIT#{self.target}",
            "SK": f"{when}#{self.id}",
            "GSI1PK": f"ACTOR#{self.actor}",
            "GSI1SK": f"{when}#{self.id}",
            "type": "audit",
            "id": self.id,
            "at": when,
            "actor": self.actor,
            "role": self.role,
            "action": self.action,
            "targetType": self.target_type,
            "targetId": self.target_id,
            "target": self.target,
            "result": self.result,
            "requestId": self.request_id,
            "detail": dict(self.detail),
        }

    def put(self) -> TransactWriteItemTypeDef:
        """The entry as one item of a TransactWriteItems request."""
        return {
            "Put": {
                "TableName": table_name(),
                "Item": to_item(self.item()),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }


def record(entry: AuditEntry) -> None:
    """Write an entry on its own, for events that change nothing else in the table (a refused sign-in)."""
    store.put_entry(entry.put()["Put"])


def entry(
    caller: Caller,
    action: str,
    target_type: str,
    target_id: str,
    *,
    at: datetime | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """An entry for a change the caller makes through the API."""
    if target_type not in TARGET_TYPES:
        raise ValueError(f"unknown audit target type {target_type!r}")
    return AuditEntry(
        actor=caller.user_id or "anonymous",
        role=caller.role,
        action=action,
        target_type=target_type,
        target_id=target_id,
        request_id=caller.request_id,
        at=at or datetime.now(UTC),
        detail={k: v for k, v in (detail or {}).items() if v is not None},
    )


def system_entry(
    job: str, action: str, target_type: str, target_id: str, *, at: datetime, detail: Mapping[str, Any] | None = None
) -> AuditEntry:
    """An entry for a change a scheduled job makes (no API request behind it)."""
    return AuditEntry(
        actor=f"system:{job}",
        role=SYSTEM_ROLE,
        action=action,
        target_type=target_type,
        target_id=target_id,
        request_id=None,
        at=at,
        detail=dict(detail or {}),
    )


_PUBLIC = ("id", "at", "actor", "role", "action", "targetType", "targetId", "result", "requestId", "detail")


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {name: item.get(name) for name in _PUBLIC}


def query(
    *,
    target: str | None,
    actor: str | None,
    frm: datetime | None,
    to: datetime | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first: a target's entries (optionally only one actor's), or an actor's entries."""
    if target is None and actor is None:
        raise errors.ValidationFailed("Name a target (type:id) or an actor.", code="audit_filter_required")
    if frm is not None and to is not None and to < frm:
        raise errors.ValidationFailed("`to` comes after `from`.", code="end_before_start")
    if target is not None:
        kind, _, ident = target.partition(":")
        if kind not in TARGET_TYPES or not ident:
            raise errors.ValidationFailed(
                f"target is <type>:<id> with type one of {sorted(TARGET_TYPES)}.", code="invalid_target"
            )
        index, pk_attr, partition = None, "PK", f"AUDIT#{target}"
    else:
        index, pk_attr, partition = "GSI1", "GSI1PK", f"ACTOR#{actor}"
    between = None
    if frm is not None or to is not None:
        between = (stamp(frm) if frm else "0", f"{stamp(to)}~" if to else "~")
    scope = f"audit:{index}:{partition}:{actor if target is not None else ''}"
    start = decode_cursor(cursor, scope=scope)
    if start is not None:
        plain = from_item(start)
        if plain.get(pk_attr) != partition:
            raise errors.ValidationFailed("cursor belongs to another listing", code="invalid_cursor")
    items, last = store.entries_page(
        index=index,
        partition=partition,
        between=between,
        actor=actor if target is not None else None,
        limit=min(limit, MAX_PAGE),
        start_key=start,
    )
    return [_public(item) for item in items], encode_cursor(last, scope=scope)
