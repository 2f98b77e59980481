"""Venues and resources in the single table.

Longer than 400 lines because it is the catalog's one store module (venues, resources, their listing and search
pages, the audited transactions that write them); the rules that use them live in `catalog.service`.

  VENUE#<id>    / VENUE      GSI1: VENUES / <city>#<id>         GSI2: OWNER#<owner> / VENUE#<id>
  RESOURCE#<id> / RESOURCE   GSI1: VENUE#<venue> / RESOURCE#<id> GSI2: RESOURCES / <type>#<id>
                             GSI3 (active resources with a route): ROUTE#<origin>#<destination> /
                                   <local departure date>#<departure UTC>#<id>
                             GSI4 (a schedule change moving bookings): SCHEDULE_CHANGES / <started>#<id>
                             GSI3 (resources an advisor is, `attributes.advisorUserId`, active or archived):
                                   ADVISORS / <advisorUserId>#<id>  (a route and an advisor exclude each other)

Writes are conditional: creation on `attribute_not_exists`, updates on the version the caller read. A write that
changes whether a resource is active also moves its venue's `activeResources` in the same transaction. A resource's
replace is an Update of the owner's fields, so the review counters on the same item (`ratingSum`, `ratingCount`,
moved by `slotwise.reviews`) survive it.

Every write is one TransactWriteItems that also carries the audit entry the service passes (`slotwise.audit.log`)
and the platform counters it moves (`slotwise.audit.stats`: venues, active and archived resources), so the entry
and the counts exist if and only if the change committed. (A venue's new city copied onto its resources is derived
data: those updates are neither audited nor counted; the venue's update is.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic.alias_generators import to_camel

from slotwise import aws, errors
from slotwise.audit import stats
from slotwise.audit.log import AuditEntry
from slotwise.catalog.models import Resource, Venue
from slotwise.data.codec import from_item, to_item, to_value
from slotwise.data.dynamo import index_page, table_name, translate_errors
from slotwise.data.pagination import decode_cursor, encode_cursor
from slotwise.models import iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

T = TypeVar("T")

# A listing reads at most this many items per request, however selective its filters, so that one request has a
# bounded cost; it then returns what it found with a cursor to go on.
MAX_SCANNED = 2_000
_MAX_PAGE = 100
_TRANSACTION_ATTEMPTS = 3


def _venue_key(venue_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"VENUE#{venue_id}"}, "SK": {"S": "VENUE"}}


def _venue_item(venue: Venue) -> dict[str, Any]:
    return {
        "PK": f"VENUE#{venue.id}",
        "SK": "VENUE",
        "type": "venue",
        "GSI1PK": "VENUES",
        "GSI1SK": f"{venue.city.casefold()}#{venue.id}",
        "GSI2PK": f"OWNER#{venue.owner_id}",
        "GSI2SK": f"VENUE#{venue.id}",
        **venue.model_dump(mode="json", by_alias=True),
    }


def _resource_item(resource: Resource) -> dict[str, Any]:
    return {
        "PK": f"RESOURCE#{resource.id}",
        "SK": "RESOURCE",
        "type": "resource",
        "GSI1PK": f"VENUE#{resource.venue_id}",
        "GSI1SK": f"RESOURCE#{resource.id}",
        "GSI2PK": "RESOURCES",
        "GSI2SK": f"{resource.type}#{resource.id}",
        **_advisor_keys(resource),
        **_route_keys(resource),
        **_moving_keys(resource),
        # `rating` is derived from the review counters, which only the review transactions write.
        **resource.model_dump(mode="json", by_alias=True, exclude={"rating"}),
    }


# Attributes a resource's replace leaves alone: the keys, and the review counters that only the review transactions
# move (ADD, `slotwise.reviews.store`), so an owner's PUT can neither reset them nor lose a review committed between
# its read and its write.
_KEPT_ON_REPLACE = frozenset({"PK", "SK", "ratingSum", "ratingCount"})


# Sparse index keys a resource may drop (archived: off the route index; a schedule change done), so a replace
# removes them when the new item has none.
_DROPPABLE_KEYS = frozenset({"GSI3PK", "GSI3SK", "GSI4PK", "GSI4SK"})


def _resource_attributes() -> frozenset[str]:
    return (frozenset(to_camel(name) for name in Resource.model_fields) | _DROPPABLE_KEYS) - _KEPT_ON_REPLACE


def _replace_resource_step(item: dict[str, Any], expected_version: int) -> dict[str, Any]:
    """Replace the owner's fields of the resource read at `expected_version`: an Update that SETs every attribute
    of the new item and REMOVEs the model's attributes it no longer has (a Put would drop the review counters)."""
    stored = to_item(item)
    names: dict[str, str] = {}
    values: dict[str, Any] = {":expected": to_value(expected_version)}
    sets: list[str] = []
    for position, (attribute, value) in enumerate(sorted(stored.items())):
        if attribute in _KEPT_ON_REPLACE:
            continue
        names[f"#a{position}"] = attribute
        values[f":a{position}"] = value
        sets.append(f"#a{position} = :a{position}")
    removed = sorted(_resource_attributes() - stored.keys())
    names.update({f"#r{position}": attribute for position, attribute in enumerate(removed)})
    expression = "SET " + ", ".join(sets)
    if removed:
        expression += " REMOVE " + ", ".join(f"#r{position}" for position in range(len(removed)))
    return {
        "Update": {
            "TableName": table_name(),
            "Key": {"PK": {"S": item["PK"]}, "SK": {"S": item["SK"]}},
            "UpdateExpression": expression,
            "ConditionExpression": "version = :expected",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


MOVING = "SCHEDULE_CHANGES"


def _moving_keys(resource: Resource) -> dict[str, str]:
    """GSI4 (sparse): a resource whose bookings are being moved to a new window, for the job that resumes moves."""
    change = resource.schedule_change
    if change is None or change.status != "moving":
        return {}
    return {"GSI4PK": MOVING, "GSI4SK": f"{iso(change.started_at)}#{resource.id}"}


def window_check(resource: Resource) -> TransactWriteItemTypeDef:
    """A ConditionCheck that the resource's fixed window is still the one read: a booking made from a read taken
    before a schedule change fails with it, instead of being left at the old time."""
    fixed = resource.policy.model_dump(mode="json", by_alias=True)
    return {
        "ConditionCheck": {
            "TableName": table_name(),
            "Key": {"PK": {"S": f"RESOURCE#{resource.id}"}, "SK": {"S": "RESOURCE"}},
            "ConditionExpression": "#policy.#start = :start AND #policy.#end = :end",
            "ExpressionAttributeNames": {"#policy": "policy", "#start": "fixedStart", "#end": "fixedEnd"},
            "ExpressionAttributeValues": {":start": {"S": fixed["fixedStart"]}, ":end": {"S": fixed["fixedEnd"]}},
        }
    }


def moving_resources(limit: int = 25) -> list[str]:
    """Resources with a schedule change still moving its bookings, oldest first."""
    with translate_errors("Query"):
        page = aws.dynamodb().query(
            TableName=table_name(),
            IndexName="GSI4",
            KeyConditionExpression="GSI4PK = :pk",
            ExpressionAttributeValues={":pk": {"S": MOVING}},
            Limit=limit,
        )
    return [item["PK"]["S"].removeprefix("RESOURCE#") for item in page.get("Items", [])]


def record_schedule_progress(resource_id: str, change_id: str, moved: int, now: datetime, *, done: bool) -> bool:
    """Count `moved` more bookings on the change and, when `done`, mark it done (no new version: bookkeeping, not
    a change of the resource); False if another change or another run got there first."""
    finish = ", #c.#status = :done, #c.finishedAt = :now REMOVE GSI4PK, GSI4SK" if done else ""
    values = {":moved": {"N": str(moved)}, ":id": {"S": change_id}, ":moving": {"S": "moving"}}
    if done:
        values |= {":done": {"S": "done"}, ":now": {"S": iso(now)}}
    client = aws.dynamodb()
    with translate_errors("UpdateItem"):
        try:
            client.update_item(
                TableName=table_name(),
                Key={"PK": {"S": f"RESOURCE#{resource_id}"}, "SK": {"S": "RESOURCE"}},
                UpdateExpression=f"SET #c.moved = #c.moved + :moved{finish}",
                ConditionExpression="#c.id = :id AND #c.#status = :moving",
                ExpressionAttributeNames={"#c": "scheduleChange", "#status": "status"},
                ExpressionAttributeValues=values,
            )
        except client.exceptions.ConditionalCheckFailedException:
            return False
    return True


def route_partition(origin: str, destination: str) -> str:
    return f"ROUTE#{origin}#{destination}"


def _route_keys(resource: Resource) -> dict[str, str]:
    """GSI3 (sparse): an active resource with a route, by route and then local departure date and instant, so that
    one route-day is one Query page. Archived resources drop out of the index with their next write."""
    day, start = resource.departure_date, resource.policy.fixed_start
    if resource.route is None or not resource.active or day is None or start is None:
        return {}
    return {
        "GSI3PK": route_partition(resource.route.origin, resource.route.destination),
        "GSI3SK": f"{day.isoformat()}#{iso(start)}#{resource.id}",
    }


ADVISORS = "ADVISORS"


def advisor_of(resource: Resource) -> str | None:
    advisor = resource.attributes.get("advisorUserId")
    return advisor if isinstance(advisor, str) and advisor else None


def _advisor_keys(resource: Resource) -> dict[str, str]:
    """GSI3 (sparse): a resource an advisor is, by advisor then resource, archived ones included (the advisor's
    bookings listing reads them; the public directory keeps the active ones). Every write of the resource puts or
    replaces these keys from its attributes, so a changed or removed `advisorUserId` moves or drops the entry in
    the same write (`_DROPPABLE_KEYS`)."""
    advisor = advisor_of(resource)
    if advisor is None or resource.route is not None:
        return {}
    return {"GSI3PK": ADVISORS, "GSI3SK": f"{advisor}#{resource.id}"}


def advisor_resources(
    advisor_user_id: str | None = None, *, after: str | None = None, limit: int = 100
) -> tuple[list[Resource], bool]:
    """Resources an advisor is, by advisor id then resource id: one advisor's (`advisor_user_id`), or everyone's
    from the advisor after `after` (exclusive). Returns up to `limit` and whether the index has more."""
    values: dict[str, Any] = {":pk": {"S": ADVISORS}}
    if advisor_user_id is not None:
        condition = "GSI3PK = :pk AND begins_with(GSI3SK, :prefix)"
        values[":prefix"] = {"S": f"{advisor_user_id}#"}
    elif after is not None:
        # `$` sorts right after `#`: every key of `after` itself ("<after>#<id>") is below it.
        condition = "GSI3PK = :pk AND GSI3SK > :after"
        values[":after"] = {"S": f"{after}$"}
    else:
        condition = "GSI3PK = :pk"
    request: dict[str, Any] = {
        "TableName": table_name(),
        "IndexName": "GSI3",
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": values,
        "Limit": limit,
    }
    with translate_errors("Query"):
        page = aws.dynamodb().query(**request)
    found = [Resource.model_validate(from_item(item)) for item in page.get("Items", [])]
    return found, "LastEvaluatedKey" in page


def _version_conflict() -> errors.Conflict:
    return errors.Conflict("The item changed since it was read; fetch it again and retry.", code="version_conflict")


def _put_condition(expected_version: int | None) -> dict[str, Any]:
    if expected_version is None:
        return {"ConditionExpression": "attribute_not_exists(PK)"}
    return {
        "ConditionExpression": "version = :expected",
        "ExpressionAttributeValues": {":expected": to_value(expected_version)},
    }


def _put(item: dict[str, Any], expected_version: int | None) -> None:
    """Create (expected_version None) or replace the item the caller read at `expected_version`."""
    client = aws.dynamodb()
    request: dict[str, Any] = {"TableName": table_name(), "Item": to_item(item), **_put_condition(expected_version)}
    with translate_errors("PutItem"):
        try:
            client.put_item(**request)
        except client.exceptions.ConditionalCheckFailedException as exc:
            raise _version_conflict() from exc


def _get(pk: str, sk: str) -> dict[str, Any] | None:
    with translate_errors("GetItem"):
        found = aws.dynamodb().get_item(TableName=table_name(), Key={"PK": {"S": pk}, "SK": {"S": sk}})
    item = found.get("Item")
    return from_item(item) if item else None


def _transact(
    steps: list[dict[str, Any]], *, audit: AuditEntry | None, counters: dict[str, int], seed: str
) -> list[str] | None:
    """Run the steps with their counters and audit entry; None on success, else the reason code of each step
    when a condition failed (nothing was written). Lost races are run again a few times."""
    items: list[Any] = list(steps)
    counted = stats.update(seed, counters)
    if counted is not None:
        items.append(counted)
    if audit is not None:
        items.append(audit.put())
    client = aws.dynamodb()
    for attempt in range(_TRANSACTION_ATTEMPTS):
        with translate_errors("TransactWriteItems"):
            try:
                client.transact_write_items(TransactItems=items)
                return None
            except client.exceptions.TransactionCanceledException as exc:
                reasons = [reason.get("Code", "None") for reason in exc.response.get("CancellationReasons", [])]
                if "ConditionalCheckFailed" in reasons:
                    return reasons[: len(steps)]
                # TransactionConflict: another transaction held one of the items (resources of one venue being
                # created at once); nothing was written, so trying again is safe.
                if "TransactionConflict" not in reasons or attempt == _TRANSACTION_ATTEMPTS - 1:
                    raise _version_conflict() from exc
        time.sleep(0.02 * (attempt + 1))
    raise _version_conflict()


def _put_step(item: dict[str, Any], expected_version: int | None) -> dict[str, Any]:
    return {"Put": {"TableName": table_name(), "Item": to_item(item), **_put_condition(expected_version)}}


def save_venue(venue: Venue, expected_version: int | None = None, *, audit: AuditEntry | None = None) -> None:
    """Create (expected_version None) or replace the venue read at `expected_version`, with its audit entry."""
    counters = {"venues": 1} if expected_version is None else {}
    failed = _transact(
        [_put_step(_venue_item(venue), expected_version)], audit=audit, counters=counters, seed=f"venue:{venue.id}"
    )
    if failed is not None:
        raise _version_conflict()


def save_resource(resource: Resource, expected_version: int | None = None) -> None:
    """Write a resource alone (a Put: seeds and tests). The API goes through create_resource/replace_resource, which
    keep the venue's count and the review counters."""
    _put(_resource_item(resource), expected_version)


def get_venue(venue_id: str) -> Venue | None:
    item = _get(f"VENUE#{venue_id}", "VENUE")
    return Venue.model_validate(item) if item else None


def get_resource(resource_id: str) -> Resource | None:
    item = _get(f"RESOURCE#{resource_id}", "RESOURCE")
    return Resource.model_validate(item) if item else None


def _venue_step(resource: Resource, delta: int, *, same_city: bool) -> dict[str, Any]:
    """The venue's half of a resource write: it must still exist (and, on creation, be in the city we copied)."""
    condition = "attribute_exists(PK)"
    values: dict[str, Any] = {}
    if same_city:
        condition += " AND city = :city"
        values[":city"] = to_value(resource.city)
    if delta < 0:
        condition += " AND activeResources >= :one"
    step: dict[str, Any] = {"TableName": table_name(), "Key": _venue_key(resource.venue_id)}
    if delta == 0:
        check = {**step, "ConditionExpression": condition}
        if values:
            check["ExpressionAttributeValues"] = values
        return {"ConditionCheck": check}
    values.update({":zero": to_value(0), ":one": to_value(1), ":delta": to_value(delta)})
    # The count is part of the venue's representation, so its version (ETag) moves with it.
    update = "SET activeResources = if_not_exists(activeResources, :zero) + :delta, version = version + :one"
    return {
        "Update": {
            **step,
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
    }


def _resource_counter(active: bool) -> str:
    return "resources_active" if active else "resources_archived"


def _write_resource(
    resource: Resource,
    expected_version: int | None,
    *,
    venue: dict[str, Any] | None,
    counters: dict[str, int],
    audit: AuditEntry | None,
) -> None:
    item = _resource_item(resource)
    write = _put_step(item, None) if expected_version is None else _replace_resource_step(item, expected_version)
    steps = [write] + ([venue] if venue is not None else [])
    failed = _transact(steps, audit=audit, counters=counters, seed=f"resource:{resource.id}")
    if failed is None:
        return
    if failed[0] == "ConditionalCheckFailed":
        raise _version_conflict()
    raise errors.Conflict("The venue changed or was deleted meanwhile; fetch it again and retry.", code="venue_changed")


def create_resource(resource: Resource, *, audit: AuditEntry | None = None) -> None:
    """Store a new resource; an active one counts toward its venue. Fails if the venue is gone or changed city."""
    _write_resource(
        resource,
        None,
        venue=_venue_step(resource, 1 if resource.active else 0, same_city=True),
        counters={_resource_counter(resource.active): 1},
        audit=audit,
    )


def replace_resource(
    resource: Resource,
    expected_version: int,
    venue_delta: int,
    *,
    was_active: bool | None = None,
    audit: AuditEntry | None = None,
) -> None:
    """Replace the resource read at `expected_version`; `venue_delta` (-1, 0, +1) follows a change of `active`
    (`was_active`: the value read, so the platform counters follow it too)."""
    flipped = was_active is not None and was_active != resource.active
    _write_resource(
        resource,
        expected_version,
        venue=_venue_step(resource, venue_delta, same_city=False) if venue_delta else None,
        counters={_resource_counter(resource.active): 1, _resource_counter(not resource.active): -1} if flipped else {},
        audit=audit,
    )


_DELETABLE = "attribute_exists(PK) AND (attribute_not_exists(activeResources) OR activeResources <= :zero)"


def delete_venue(venue_id: str, *, audit: AuditEntry | None = None) -> bool:
    """Delete a venue that counts no active resource; False when it is gone or still has some."""
    step = {
        "Delete": {
            "TableName": table_name(),
            "Key": _venue_key(venue_id),
            "ConditionExpression": _DELETABLE,
            "ExpressionAttributeValues": {":zero": to_value(0)},
        }
    }
    return _transact([step], audit=audit, counters={"venues": -1}, seed=f"venue:{venue_id}") is None


def set_resources_city(venue_id: str, city: str, now: datetime) -> int:
    """Copy a venue's new city onto its resources (they carry it so that listings can filter on it); returns how
    many changed. The index is eventually consistent: a resource created a moment before may be missed."""
    client = aws.dynamodb()
    changed = 0
    start: dict[str, Any] | None = None
    while True:
        request: dict[str, Any] = {
            "TableName": table_name(),
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :pk AND begins_with(GSI1SK, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": f"VENUE#{venue_id}"}, ":prefix": {"S": "RESOURCE#"}},
            "ProjectionExpression": "PK, SK",
        }
        if start:
            request["ExclusiveStartKey"] = start
        with translate_errors("Query"):
            page = client.query(**request)
        for item in page.get("Items", []):
            with translate_errors("UpdateItem"):
                try:
                    client.update_item(
                        TableName=table_name(),
                        Key={"PK": item["PK"], "SK": item["SK"]},
                        UpdateExpression="SET city = :city, updatedAt = :now, version = version + :one",
                        ConditionExpression="attribute_exists(PK) AND city <> :city",
                        ExpressionAttributeValues={
                            ":city": to_value(city),
                            ":now": to_value(iso(now)),
                            ":one": to_value(1),
                        },
                    )
                    changed += 1
                except client.exceptions.ConditionalCheckFailedException:
                    continue
        start = page.get("LastEvaluatedKey")
        if not start:
            return changed


def _scope(index: str, partition: str, prefix: str | None) -> str:
    return f"catalog:{index}:{partition}:{prefix or ''}"


def _start_key(index: str, partition: str, prefix: str | None, cursor: str | None) -> dict[str, Any] | None:
    """The cursor's key, refused unless it is a position in this very listing (else DynamoDB would answer 400)."""
    key = decode_cursor(cursor, scope=_scope(index, partition, prefix))
    if key is None:
        return None
    plain = from_item(key)
    pk_attr, sk_attr = f"{index}PK", f"{index}SK"
    if (
        set(plain) != {"PK", "SK", pk_attr, sk_attr}
        or plain[pk_attr] != partition
        or not plain[sk_attr].startswith(prefix or "")
    ):
        raise errors.ValidationFailed(
            "cursor belongs to another listing; start again without it", code="invalid_cursor"
        )
    return key


def query_selected(
    index: str,
    partition: str,
    *,
    prefix: str | None,
    limit: int,
    cursor: str | None,
    select: Callable[[dict[str, Any]], T | None],
) -> tuple[list[T], str | None]:
    """Up to `limit` items of an index partition that `select` keeps (it returns None to drop one).

    Reads page after page until it has `limit` or reaches the end or MAX_SCANNED. The cursor points just after
    the last item returned, not after the last item read, so nothing that was read but not returned is skipped.
    """
    pk_attr, sk_attr = f"{index}PK", f"{index}SK"
    condition = f"{pk_attr} = :pk"
    values: dict[str, Any] = {":pk": {"S": partition}}
    if prefix:
        condition += f" AND begins_with({sk_attr}, :prefix)"
        values[":prefix"] = {"S": prefix}
    start = _start_key(index, partition, prefix, cursor)
    found: list[T] = []
    scanned = 0
    # One more than asked tells whether anything follows, so an exact last page does not get a dangling cursor.
    page_size = min(_MAX_PAGE, limit + 1)
    client = aws.dynamodb()
    while True:
        request: dict[str, Any] = {
            "TableName": table_name(),
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "Limit": page_size,
        }
        if start:
            request["ExclusiveStartKey"] = start
        with translate_errors("Query"):
            page = client.query(**request)
        items = page.get("Items", [])
        scanned += len(items)
        for position, raw in enumerate(items):
            chosen = select(from_item(raw))
            if chosen is None:
                continue
            found.append(chosen)
            if len(found) == limit:
                more = position + 1 < len(items) or "LastEvaluatedKey" in page
                last = {name: raw[name] for name in ("PK", "SK", pk_attr, sk_attr)}
                return found, encode_cursor(last, scope=_scope(index, partition, prefix)) if more else None
        start = page.get("LastEvaluatedKey")
        if not start:
            return found, None
        if scanned >= MAX_SCANNED:
            return found, encode_cursor(start, scope=_scope(index, partition, prefix))
        # The first page fell short, so the filters are selective: read full pages from here on.
        page_size = _MAX_PAGE


def list_venues(
    *, owner_id: str | None, city: str | None, limit: int, cursor: str | None, select: Callable[[Venue], T | None]
) -> tuple[list[T], str | None]:
    """All venues or one city's (ordered by city), or one owner's; `select` applies the other filters."""
    prefix: str | None
    if owner_id is not None:
        index, partition, prefix = "GSI2", f"OWNER#{owner_id}", "VENUE#"
    else:
        index, partition, prefix = "GSI1", "VENUES", f"{city.casefold()}#" if city else None
    return query_selected(
        index,
        partition,
        prefix=prefix,
        limit=limit,
        cursor=cursor,
        select=lambda item: select(Venue.model_validate(item)),
    )


def list_on_route(
    origin: str,
    destination: str,
    day: date | None,
    *,
    limit: int,
    cursor: str | None,
    select: Callable[[Resource], T | None],
) -> tuple[list[T], str | None]:
    """Active resources on a route, by departure (one local day, or every day from the earliest)."""
    return query_selected(
        "GSI3",
        route_partition(origin, destination),
        prefix=f"{day.isoformat()}#" if day else None,
        limit=limit,
        cursor=cursor,
        select=lambda item: select(Resource.model_validate(item)),
    )


def list_resources(
    *,
    venue_id: str | None,
    kind: str | None,
    limit: int,
    cursor: str | None,
    select: Callable[[Resource], T | None],
) -> tuple[list[T], str | None]:
    """A venue's resources, or all resources of a type, or all resources; `select` applies the other filters."""
    prefix: str | None
    if venue_id is not None:
        index, partition, prefix = "GSI1", f"VENUE#{venue_id}", "RESOURCE#"
    else:
        index, partition, prefix = "GSI2", "RESOURCES", f"{kind}#" if kind else None
    return query_selected(
        index,
        partition,
        prefix=prefix,
        limit=limit,
        cursor=cursor,
        select=lambda item: select(Resource.model_validate(item)),
    )


def resource_ids_page(*, limit: int, start_key: dict[str, Any] | None) -> tuple[list[str], dict[str, Any] | None]:
    """One page of every resource's id (the RESOURCES partition of GSI2, archived ones included): for jobs that
    visit every resource, such as the organisation index backfill."""
    items, last = index_page("GSI2", "RESOURCES", low=None, high=None, limit=limit, start_key=start_key)
    return [str(i["id"]) for i in items], last
