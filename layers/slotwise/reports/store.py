"""The report aggregates in the table: period items, per-booking applied state, event markers.

  AGG#<resourceId>#<yyyy-mm> / UNITS            d01..d31: sold units of each local day (ADD)
  AGG#<resourceId>#<yyyy-mm> / DAY#<dd>#<CUR>   gross, refunds, walletCredits, bookings, cancellations, noShows (ADD)
  AGGSTATE#<bookingId>       / AGGSTATE         the booking version applied last and its contribution
  AGGEVENT#<eventId>         / AGGEVENT         an applied event (expires after MARKER_DAYS)

One booking event is one transaction: the state item (conditional on the version read), the marker (only if new)
and an ADD of the difference on every period item it moves. A resource-month is one partition, so a report reads
it with one Query (one page: at most 1 + 31 x currencies small items).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from slotwise import aws
from slotwise.data.codec import from_item, to_item, to_value
from slotwise.data.dynamo import get_item, table_name, translate_errors
from slotwise.reports.figures import Contribution
from slotwise.transaction import Tag, Transaction, execute

MARKER_DAYS = 30
UNITS_SK = "UNITS"


def month_key(resource_id: str, month: str) -> str:
    return f"AGG#{resource_id}#{month}"


def _state_key(booking_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"AGGSTATE#{booking_id}"}, "SK": {"S": "AGGSTATE"}}


def applied_state(booking_id: str) -> tuple[int, Contribution] | None:
    """The version of the booking applied last and what it contributed (None: nothing applied yet)."""
    item = get_item(_state_key(booking_id))
    if item is None:
        return None
    plain = from_item(item)
    return int(plain["version"]), {"units": dict(plain.get("units") or {}), "money": dict(plain.get("money") or {})}


def apply_change(
    *,
    booking_id: str,
    resource_id: str,
    event_id: str,
    read_version: int | None,
    version: int,
    contribution: Contribution,
    units: dict[str, int],
    money: dict[str, dict[str, int]],
    now: datetime,
) -> None:
    """Commit one event's difference; TransactionFailed when the state moved meanwhile or the event was applied."""
    tx = Transaction()
    condition = "attribute_not_exists(PK)" if read_version is None else "version = :read"
    put: dict[str, Any] = {
        "TableName": table_name(),
        "Item": to_item(
            {
                "PK": f"AGGSTATE#{booking_id}",
                "SK": "AGGSTATE",
                "type": "report_state",
                "resourceId": resource_id,
                "version": version,
                "units": contribution["units"],
                "money": contribution["money"],
            }
        ),
        "ConditionExpression": condition,
    }
    if read_version is not None:
        put["ExpressionAttributeValues"] = {":read": {"N": str(read_version)}}
    tx.add(Tag("report", f"state:{booking_id}"), {"Put": put})  # type: ignore[typeddict-item]
    expires = int((now + timedelta(days=MARKER_DAYS)).timestamp())
    tx.put_new(
        Tag("report", f"event:{event_id}"),
        {"PK": f"AGGEVENT#{event_id}", "SK": "AGGEVENT", "type": "report_event", "ttl": expires},
    )
    by_month: dict[str, dict[str, int]] = {}
    for day, delta in units.items():
        by_month.setdefault(day[:7], {})[f"d{day[8:10]}"] = delta
    for month, days in sorted(by_month.items()):
        tx.add(Tag("report", f"units:{month}"), _add(month_key(resource_id, month), UNITS_SK, days))
    for key, fields in sorted(money.items()):
        day, currency = key.split("#", 1)
        tx.add(
            Tag("report", f"money:{key}"), _add(month_key(resource_id, day[:7]), f"DAY#{day[8:10]}#{currency}", fields)
        )
    execute(tx)


def add_once(*, resource_id: str, event_id: str, key: str, fields: dict[str, int], now: datetime) -> None:
    """Add `fields` to one `day#currency` item, once per event (TransactionFailed when the marker exists)."""
    tx = Transaction()
    expires = int((now + timedelta(days=MARKER_DAYS)).timestamp())
    tx.put_new(
        Tag("report", f"event:{event_id}"),
        {"PK": f"AGGEVENT#{event_id}", "SK": "AGGEVENT", "type": "report_event", "ttl": expires},
    )
    day, currency = key.split("#", 1)
    tx.add(Tag("report", f"money:{key}"), _add(month_key(resource_id, day[:7]), f"DAY#{day[8:10]}#{currency}", fields))
    execute(tx)


def _add(pk: str, sk: str, fields: dict[str, int]) -> Any:
    names = {f"#f{n}": name for n, name in enumerate(sorted(fields))}
    values = {f":f{n}": to_value(fields[name]) for n, name in enumerate(sorted(fields))}
    adds = ", ".join(f"#f{n} :f{n}" for n in range(len(names)))
    return {
        "Update": {
            "TableName": table_name(),
            "Key": {"PK": {"S": pk}, "SK": {"S": sk}},
            "UpdateExpression": f"SET #type = :type ADD {adds}",
            "ExpressionAttributeNames": {**names, "#type": "type"},
            "ExpressionAttributeValues": {**values, ":type": {"S": "report_period"}},
        }
    }


def month_items(resource_id: str, month: str) -> list[dict[str, Any]]:
    """Every period item of one resource-month: one Query page (followed should DynamoDB ever split it)."""
    found: list[dict[str, Any]] = []
    request: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": month_key(resource_id, month)}},
    }
    while True:
        with translate_errors("Query"):
            page = aws.dynamodb().query(**request)
        found.extend(from_item(item) for item in page.get("Items", []))
        last = page.get("LastEvaluatedKey")
        if not last:
            return found
        request["ExclusiveStartKey"] = last
