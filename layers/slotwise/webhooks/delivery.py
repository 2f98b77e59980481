"""The webhook queue's consumer: fans each domain event out to the subscriptions that want it, then delivers.

The queue carries two kinds of message:

1. **A domain event** (the bus rule `webhooks` routes every catalogue type here). For each active subscription
   that wants it (its types; for a vendor's subscription the event must be the vendor's, `catalogue.event_owner`),
   one delivery record `WEBHOOK#<sub> / DELIVERY#<event id>` is created with a conditional put, and an attempt
   message is queued. The event id is deterministic, so a redelivered event finds its records and queues nothing
   new (unless the first run died before queueing attempt 1; the attempt's claim, below, still runs it once).
2. **An attempt message** `{"kind": "webhook.attempt", subscriptionId, eventId, attempt, dueAt}`. Not yet due: it
   is sent again with `DelaySeconds = min(seconds left, 900)` (SQS delays by at most 15 minutes, so a 12-hour wait
   is 48 hops of one small message). Due: the consumer claims the attempt with a conditional update (the delivery
   has made exactly `attempt - 1` attempts and nobody holds a live claim), so duplicated messages attempt once.

An attempt re-checks the URL and resolves its host again (`urls.check`), POSTs the stored body signed with the
subscription's secret(s), records the attempt (`ATTEMPT#...`, listed by the API), and then:
- 2xx: the delivery is `delivered`;
- 410: the subscription is disabled (conditional update, audited as `system:webhooks`) and the delivery is `gone`:
  no more attempts for it or any other delivery of the subscription (pending ones are cancelled when due);
- anything else (other status, timeout, refused address): the next attempt is queued at `backoff.next_attempt_at`;
  beyond three days after the first attempt the delivery is `failed` and its final attempt message is sent to the
  queue's dead-letter queue **explicitly** (not by failing the message `maxReceiveCount` times, which would take
  five visibility timeouts and blur consumer bugs with dead endpoints). Redriving such a message from the DLQ makes
  exactly one more attempt.

The next message is sent before the delivery record moves on: if the consumer dies in between, the record still
names the old attempt, the queued message finds it stale and drops, and the original message (redelivered after
its visibility timeout, once the claim has lapsed) runs the attempt again. Receivers may thus, rarely, get an
attempt twice: they deduplicate on `Slotwise-Event-Id`.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from slotwise import cache
from slotwise.audit import log as audit
from slotwise.events.envelope import DomainEvent
from slotwise.observability import logger
from slotwise.webhooks import backoff, catalogue, queue, repository, sender, signing, urls
from slotwise.webhooks.models import Subscription

ATTEMPT = "webhook.attempt"
# Due times are met to the second; a message that arrives this early is treated as due.
EARLY_TOLERANCE = timedelta(seconds=1)
# How long a process reuses the active subscriptions it read for one vendor (and the admins'). Every domain event
# reaches this consumer and nearly always nobody subscribes: without it each event cost two Queries for nothing,
# the webhook queue's whole DynamoDB bill under load (at 30 events a second, one pair a second is left). A
# subscription saved or switched on within this second may miss an event, as one saved a moment before may miss
# it from the index already (eventually consistent GSIs); one deleted or switched off meanwhile costs a delivery
# record whose attempt finds it gone and cancels it (run_attempt reads it afresh, and a process that finds or makes
# a subscription inactive forgets what it cached).
SUBSCRIBERS_CACHE_SECONDS = 1.0
_subscribers: cache.TtlCache[list[Subscription]] = cache.TtlCache(SUBSCRIBERS_CACHE_SECONDS)


def envelope_body(event: DomainEvent) -> str:
    """What a subscriber receives: the bus event's detail plus its id and type, as compact JSON."""
    return json.dumps({"id": event.id, "type": event.type, **event.detail()}, separators=(",", ":"), default=str)


def _iso(value: datetime) -> str:
    return audit.stamp(value)


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def attempt_message(sub_id: str, event_id: str, attempt: int, due: datetime) -> dict[str, Any]:
    return {"kind": ATTEMPT, "subscriptionId": sub_id, "eventId": event_id, "attempt": attempt, "dueAt": _iso(due)}


def wanted_by(event: DomainEvent) -> list[Subscription]:
    owner = catalogue.event_owner(event.aggregate, event.data)
    active = _subscribers.get(owner or "", lambda: repository.active_subscriptions(owner)) or []
    return [sub for sub in active if catalogue.matches(sub.event_types, event.type)]


def fan_out(event: DomainEvent, now: datetime) -> int:
    """Create the event's deliveries (once each) and queue their first attempts; returns how many were queued."""
    body = envelope_body(event)
    messages = []
    for sub in wanted_by(event):
        if not repository.create_delivery(sub.id, event.id, event.type, body, now):
            existing = repository.get_delivery(sub.id, event.id)
            if existing is None or existing.get("status") != "pending" or existing.get("attempts") != 0:
                continue  # a redelivered event whose delivery is under way or done
        messages.append(attempt_message(sub.id, event.id, 1, now))
    queue.send_all(messages)
    return len(messages)


def _post(sub: Subscription, delivery: dict[str, Any], attempt: int, now: datetime) -> sender.Result:
    try:
        target, address = urls.check(sub.url)
    except urls.UrlRefused as exc:
        return sender.Result(status_code=None, error=f"refused: {exc}", duration_ms=0)
    body = str(delivery["body"]).encode()
    headers = {
        "Content-Type": "application/json",
        signing.HEADER: signing.header(sub.signing_secrets(now), int(now.timestamp()), body),
        "Slotwise-Event-Id": str(delivery["eventId"]),
        "Slotwise-Event-Type": str(delivery["eventType"]),
        "Slotwise-Delivery-Attempt": str(attempt),
    }
    return sender.post(target, address, body, headers)


def _describe(result: sender.Result) -> str:
    return f"HTTP {result.status_code}" if result.status_code is not None else str(result.error)


def _disable(sub: Subscription, event_id: str, at: datetime) -> None:
    entry = audit.system_entry(
        "webhooks", "webhook.disable", "webhook", sub.id, at=at, detail={"reason": "410 Gone", "eventId": event_id}
    )
    _subscribers.clear()
    if repository.disable_subscription(sub.id, "the endpoint answered 410 Gone", at, audit=entry):
        logger.info("webhook subscription disabled by a 410 answer", extra={"subscription": sub.id})


def run_attempt(message: dict[str, Any], now: datetime) -> str:
    """Make the attempt a message names, if it is due and still to be made; returns what happened."""
    sub_id, event_id, number = str(message["subscriptionId"]), str(message["eventId"]), int(message["attempt"])
    due = _parse(str(message["dueAt"]))
    if due > now + EARLY_TOLERANCE:
        delivery = repository.get_delivery(sub_id, event_id)
        if delivery is None or delivery.get("attempts") != number - 1 or delivery.get("status") != "pending":
            return "stale"
        queue.send(message, queue.delay_until(due, now))
        return "deferred"
    claimed = repository.claim_attempt(sub_id, event_id, number, now)
    if claimed is None:
        return "skipped"
    sub = repository.get_subscription(sub_id)
    if sub is None or not sub.active:
        _subscribers.clear()
        repository.cancel_delivery(sub_id, event_id, "subscription deleted" if sub is None else "subscription off")
        return "cancelled"

    result = _post(sub, claimed, number, now)
    finished = now + timedelta(milliseconds=result.duration_ms)
    first = _parse(claimed["firstAttemptAt"]) if claimed.get("firstAttemptAt") else now
    next_at: datetime | None = None
    if result.status_code is not None and 200 <= result.status_code < 300:
        outcome = status = "delivered"
    elif result.status_code == 410:
        outcome = status = "gone"
    else:
        next_at = backoff.next_attempt_at(first, finished, number)
        outcome, status = ("retrying", "pending") if next_at is not None else ("failed", "failed")

    repository.record_attempt(
        sub_id,
        {
            "subscriptionId": sub_id,
            "eventId": event_id,
            "eventType": claimed.get("eventType"),
            "attempt": number,
            "outcome": outcome,
            "statusCode": result.status_code,
            "error": result.error,
            "durationMs": result.duration_ms,
            "attemptedAt": _iso(now),
            "nextAttemptAt": _iso(next_at) if next_at else None,
        },
        now,
    )
    if outcome == "gone":
        _disable(sub, event_id, finished)
    elif next_at is not None:
        queue.send(attempt_message(sub_id, event_id, number + 1, next_at), queue.delay_until(next_at, finished))
    elif outcome == "failed":
        queue.dead_letter({**attempt_message(sub_id, event_id, number + 1, finished), "lastResult": _describe(result)})
    repository.finish_attempt(
        sub_id,
        event_id,
        number,
        status=status,
        first_attempt_at=first,
        next_attempt_at=next_at,
        last_result=_describe(result),
    )
    logger.info(
        "webhook attempt",
        extra={"subscription": sub_id, "event": event_id, "attempt": number, "outcome": outcome},
    )
    return outcome


def handle(body: str, now: datetime) -> str:
    """One queue message: an attempt message, or a domain event to fan out."""
    message = json.loads(body)
    if isinstance(message, dict) and message.get("kind") == ATTEMPT:
        return run_attempt(message, now)
    event = DomainEvent.from_bus_event(message)  # anything else is not ours: fails, and ends in the DLQ
    queued = fan_out(event, now)
    return f"fanned out to {queued}"
