"""Favourites in the single table.

  FAV#<user> / RES#<resource>   saved at `addedAt`          GSI1 FAVS#<user> / <added, UTC>#<resource> (newest first)
  FAV#<user> / COUNT            how many the user has saved (the cap, kept in the same transactions)

Saving is one transaction: the favourite, created only if absent, and the count, raised only while under the cap, so
no user ever holds more than the cap whatever the concurrency. Removing deletes it (only if present) and lowers the
count in one transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slotwise import errors
from slotwise.audit.log import AuditEntry, stamp
from slotwise.catalog.models import Resource, Venue
from slotwise.data.codec import from_item, to_value
from slotwise.data.dynamo import get_item, get_items, index_page, table_name
from slotwise.data.pagination import decode_cursor, encode_cursor
from slotwise.models import iso
from slotwise.transaction import Tag, Transaction, TransactionFailed, backoff, execute

_ATTEMPTS = 5
_FAVOURITE = "favourite"
_COUNT = "favourite_count"


def _partition(user_id: str) -> str:
    return f"FAV#{user_id}"


def _listing(user_id: str) -> str:
    return f"FAVS#{user_id}"


def _count_key(user_id: str) -> dict[str, Any]:
    return {"PK": {"S": _partition(user_id)}, "SK": {"S": "COUNT"}}


def _count_step(user_id: str, delta: int, cap: int) -> dict[str, Any]:
    if delta > 0:
        condition = "attribute_not_exists(#count) OR #count <= :limit"
        limit = cap - delta
    else:
        condition = "#count >= :one"
        limit = 1
    return {
        "Update": {
            "TableName": table_name(),
            "Key": _count_key(user_id),
            "UpdateExpression": "SET #type = :type ADD #count :delta",
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#count": "count", "#type": "type"},
            "ExpressionAttributeValues": {
                ":delta": to_value(delta),
                ":type": to_value("favourite_count"),
                (":limit" if delta > 0 else ":one"): to_value(limit),
            },
        }
    }


def _run(tx: Transaction) -> None:
    for attempt in range(_ATTEMPTS):
        try:
            execute(tx)
            return
        except TransactionFailed as failed:
            if not failed.only_contention or attempt == _ATTEMPTS - 1:
                raise
        backoff(attempt)


def _failed(failed: TransactionFailed, key: str) -> bool:
    return any(f.tag.key == key and f.code == "ConditionalCheckFailed" for f in failed.failures)


def add(user_id: str, resource_id: str, added_at: datetime, *, cap: int, audit: AuditEntry) -> bool:
    """Save a favourite; False when it was saved already (nothing written). Beyond the cap: 422."""
    tx = Transaction()
    tx.put_new(
        Tag("other", _FAVOURITE),
        {
            "PK": _partition(user_id),
            "SK": f"RES#{resource_id}",
            "type": "favourite",
            "GSI1PK": _listing(user_id),
            "GSI1SK": f"{stamp(added_at)}#{resource_id}",
            "userId": user_id,
            "resourceId": resource_id,
            "addedAt": iso(added_at),
        },
    )
    tx.add(Tag("other", _COUNT), _count_step(user_id, 1, cap))  # type: ignore[arg-type]
    tx.audit(audit)
    try:
        _run(tx)
    except TransactionFailed as failed:
        if _failed(failed, _FAVOURITE):
            return False
        if _failed(failed, _COUNT):
            raise errors.ValidationFailed(
                f"You can save at most {cap} favourites; remove some first.",
                code="too_many_favourites",
                extra={"limit": cap},
            ) from failed
        raise errors.Conflict("Your favourites changed meanwhile; try again.", code="favourites_contended") from failed
    return True


def remove(user_id: str, resource_id: str, *, audit: AuditEntry) -> bool:
    """Remove a favourite; False when there was none (nothing written)."""
    tx = Transaction()
    delete = {
        "TableName": table_name(),
        "Key": {"PK": {"S": _partition(user_id)}, "SK": {"S": f"RES#{resource_id}"}},
        "ConditionExpression": "attribute_exists(PK)",
    }
    tx.add(Tag("other", _FAVOURITE), {"Delete": delete})  # type: ignore[typeddict-item]
    tx.add(Tag("other", _COUNT), _count_step(user_id, -1, 0))  # type: ignore[arg-type]
    tx.audit(audit)
    try:
        _run(tx)
    except TransactionFailed as failed:
        if _failed(failed, _FAVOURITE):
            return False
        raise errors.Conflict("Your favourites changed meanwhile; try again.", code="favourites_contended") from failed
    return True


def get(user_id: str, resource_id: str) -> dict[str, Any] | None:
    item = get_item({"PK": {"S": _partition(user_id)}, "SK": {"S": f"RES#{resource_id}"}})
    return from_item(item) if item else None


def page(user_id: str, *, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the user's favourites, newest first (plain items) and the next cursor (None at the end)."""
    partition = _listing(user_id)
    scope = f"favourites:{partition}"
    start = decode_cursor(cursor, scope=scope)
    items, last = index_page("GSI1", partition, low=None, high=None, limit=limit, start_key=start, newest_first=True)
    return items, encode_cursor(last, scope=scope)


def _plain(keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [from_item(item) for item in get_items(keys)]


def resources_and_venues(resource_ids: list[str]) -> tuple[dict[str, Resource], dict[str, Venue]]:
    """The resources (by id) and their venues (by id) of one page: at most two BatchGetItem calls."""
    keys = [{"PK": {"S": f"RESOURCE#{i}"}, "SK": {"S": "RESOURCE"}} for i in sorted(set(resource_ids))]
    resources = {r.id: r for r in (Resource.model_validate(item) for item in _plain(keys))}
    venue_ids = sorted({r.venue_id for r in resources.values()})
    venue_keys = [{"PK": {"S": f"VENUE#{i}"}, "SK": {"S": "VENUE"}} for i in venue_ids]
    venues = {v.id: v for v in (Venue.model_validate(item) for item in _plain(venue_keys))}
    return resources, venues
