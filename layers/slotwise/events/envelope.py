"""The domain event envelope: what goes on the `slotwise` EventBridge bus, and how consumers read it back.

On the bus (an EventBridge entry):

  Source       "slotwise"
  DetailType   "<aggregate>.<what happened>"          e.g. "booking.confirmed"
  Detail       {"data": <the aggregate as the API shows it, after the change>,
                "metadata": {"eventId", "version", "correlationId", "occurredAt",
                             "aggregate", "aggregateId", "aggregateVersion", "previous"?}}

`eventId` is deterministic (`<aggregate>:<id>:<aggregate version>[:<qualifier>]`): the same committed change
always yields the same id, so publishing twice is harmless and every consumer deduplicates on it. `version` is
the envelope's schema version (consumers check it before reading `data`). `previous` carries the fields a
consumer needs about the state before the change (for a reschedule: the old start and end), never the whole old
aggregate.

SQS targets of EventBridge rules receive the whole EventBridge event as the message body; `from_bus_event` reads
it (and `from_sqs_body` a record's body) back into a DomainEvent. A WebSocket fan-out can subscribe to the same
bus with its own rule: the envelope carries everything it needs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

SOURCE = "slotwise"
SCHEMA_VERSION = 1


class UnknownEnvelope(ValueError):
    """Not a Slotwise event, or a schema version this code does not read."""


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class DomainEvent:
    type: str
    aggregate: str
    aggregate_id: str
    aggregate_version: int
    occurred_at: datetime
    data: dict[str, Any]
    correlation_id: str | None = None
    previous: dict[str, Any] = field(default_factory=dict)
    # Tells apart events of one aggregate version that are not changes of it (a reminder: `reminder-60`).
    qualifier: str = ""
    version: int = SCHEMA_VERSION

    @property
    def id(self) -> str:
        base = f"{self.aggregate}:{self.aggregate_id}:{self.aggregate_version}"
        return f"{base}:{self.qualifier}" if self.qualifier else base

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "eventId": self.id,
            "version": self.version,
            "correlationId": self.correlation_id or self.id,
            "occurredAt": _iso(self.occurred_at),
            "aggregate": self.aggregate,
            "aggregateId": self.aggregate_id,
            "aggregateVersion": self.aggregate_version,
        }
        if self.previous:
            meta["previous"] = self.previous
        if self.qualifier:
            meta["qualifier"] = self.qualifier
        return meta

    def detail(self) -> dict[str, Any]:
        return {"data": self.data, "metadata": self.metadata()}

    def entry(self, bus_name: str) -> dict[str, Any]:
        """One PutEvents entry for the bus."""
        return {
            "Source": SOURCE,
            "DetailType": self.type,
            "Detail": json.dumps(self.detail(), separators=(",", ":"), default=str),
            "EventBusName": bus_name,
            "Time": self.occurred_at,
        }

    @classmethod
    def from_bus_event(cls, event: dict[str, Any]) -> DomainEvent:
        """An EventBridge event (as rules deliver it to SQS, Lambda or an API destination)."""
        if event.get("source") != SOURCE:
            raise UnknownEnvelope(f"not a Slotwise event (source {event.get('source')!r})")
        detail = event.get("detail") or {}
        meta = detail.get("metadata") or {}
        if meta.get("version") != SCHEMA_VERSION:
            raise UnknownEnvelope(f"envelope version {meta.get('version')!r} is not {SCHEMA_VERSION}")
        return cls(
            type=str(event["detail-type"]),
            aggregate=str(meta["aggregate"]),
            aggregate_id=str(meta["aggregateId"]),
            aggregate_version=int(meta["aggregateVersion"]),
            occurred_at=datetime.fromisoformat(str(meta["occurredAt"]).replace("Z", "+00:00")),
            data=dict(detail.get("data") or {}),
            correlation_id=meta.get("correlationId"),
            previous=dict(meta.get("previous") or {}),
            qualifier=str(meta.get("qualifier", "")),
        )

    @classmethod
    def from_sqs_body(cls, body: str) -> DomainEvent:
        return cls.from_bus_event(json.loads(body))

    def bus_event(self, bus_name: str = "slotwise") -> dict[str, Any]:
        """The event as EventBridge delivers it (tests and samples build SQS bodies from this)."""
        return {
            "version": "0",
            "id": self.id,
            "detail-type": self.type,
            "source": SOURCE,
            "account": "000000000000",
            "time": _iso(self.occurred_at),
            "region": "us-east-1",
            "resources": [],
            "detail": self.detail(),
        }
