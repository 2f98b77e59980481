"""Work queues and their dead-letter queues, for operators: depths, a dead-letter queue's messages, and the redrive
that moves them back to the queue they came from (admins; `GET /admin/queues`, `POST /admin/queues/{name}/redrive`,
and the `slotwise dlq` commands).

The queues are the topology's work queues (`slotwise.topology`), named as there. A redrive is safe to repeat: every
consumer deduplicates on the event id, so a message moved back that had in fact been handled changes nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from slotwise import errors
from slotwise.audit import log as audit
from slotwise.identity import permissions
from slotwise.identity.models import Caller
from slotwise.ops import queue
from slotwise.topology import TOPOLOGY, QueueSpec

# One redrive request moves at most this many messages (ten per SQS call, well inside an API request's time);
# the console or the CLI asks again while the dead-letter queue still has some.
REDRIVE_LIMIT = 500


def spec_of(name: str) -> QueueSpec:
    for spec in TOPOLOGY.queues:
        if name in (spec.name, spec.dlq_name):
            return spec
    known = ", ".join(spec.name for spec in TOPOLOGY.queues)
    raise errors.NotFound(f"no queue named {name!r} (queues: {known})", code="queue_not_found")


def depths() -> list[dict[str, Any]]:
    """Every work queue with its dead-letter queue's depth (approximate counts, as SQS gives them)."""
    items: list[dict[str, Any]] = []
    for spec in TOPOLOGY.queues:
        visible, in_flight = queue.depth(spec.name)
        dead, _ = queue.depth(spec.dlq_name)
        items.append(
            {
                "name": spec.name,
                "visible": visible,
                "inFlight": in_flight,
                "deadLetter": {"name": spec.dlq_name, "visible": dead},
            }
        )
    return items


def _summary(message: queue.QueuedMessage) -> dict[str, Any]:
    """A dead-lettered message as an operator reads it: the event's id and type when it is a Slotwise event."""
    event_id = event_type = None
    try:
        body = json.loads(message.body)
    except ValueError:
        body = None
    if isinstance(body, dict):
        event_type = body.get("detail-type")
        metadata = (body.get("detail") or {}).get("metadata") if isinstance(body.get("detail"), dict) else None
        if isinstance(metadata, dict):
            event_id = metadata.get("eventId")
    return {
        "messageId": message.message_id,
        "eventId": event_id,
        "eventType": event_type,
        "receiveCount": message.receive_count,
        "sentAtMs": message.sent_at_ms,
        "body": message.body,
    }


def dead_letters(name: str, limit: int = 10) -> list[dict[str, Any]]:
    """Up to `limit` messages of the queue's dead-letter queue, left in it."""
    return [_summary(found) for found in queue.peek(spec_of(name).dlq_name, limit)]


def redrive(name: str, limit: int = REDRIVE_LIMIT, *, operator: str | None = None) -> int:
    """Move up to `limit` messages of the queue's dead-letter queue back to the queue; how many moved. An
    `operator` (the CLI's `cli:<user>`) gets an audit entry for a move that moved something."""
    spec = spec_of(name)
    moved = queue.move(spec.dlq_name, spec.name, limit)
    if operator is not None and moved:
        at = datetime.now(UTC)
        audit.record(audit.system_entry(operator, "queue.redrive", "queue", spec.name, at=at, detail={"moved": moved}))
    return moved


# ------------------------------------------------------------------------------------------------ the admin routes


def list_queues(caller: Caller) -> dict[str, Any]:
    permissions.require(caller, "admin.queues")
    return {"items": depths()}


def redrive_queue(caller: Caller, name: str) -> dict[str, int]:
    permissions.require(caller, "admin.queues_redrive")
    spec = spec_of(name)
    moved = redrive(spec.name)
    audit.record(audit.entry(caller, "queue.redrive", "queue", spec.name, detail={"moved": moved}))
    return {"moved": moved}
