"""Venues and resources in the single table.

  VENUE#<id>    / VENUE      GSI1: VENUES / <city>#<id>         GSI2: OWNER#<owner> / VENUE#<id>
  RESOURCE#<id> / RESOURCE   GSI1: VENUE#<venue> / RESOURCE#<id> GSI2: RESOURCES / <type>#<id>

Writes are conditional: creation on `attribute_not_exists`, updates on the version the caller read.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from slotwise import aws, errors
from slotwise.catalog.models import Resource, Venue
from slotwise.data.codec import from_item, to_item, to_value
from slotwise.data.dynamo import table_name, translate_errors


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
        **resource.model_dump(mode="json", by_alias=True),
    }


def _put(item: dict[str, Any], expected_version: int | None) -> None:
    """Create (expected_version None) or replace the item the caller read at `expected_version`."""
    client = aws.dynamodb()
    if expected_version is None:
        condition, values = "attribute_not_exists(PK)", None
    else:
        condition, values = "version = :expected", {":expected": to_value(expected_version)}
    request: dict[str, Any] = {"TableName": table_name(), "Item": to_item(item), "ConditionExpression": condition}
    if values:
        request["ExpressionAttributeValues"] = values
    with translate_errors("PutItem"):
        try:
            client.put_item(**request)
        except client.exceptions.ConditionalCheckFailedException as exc:
            raise errors.Conflict(
                "The item changed since it was read; fetch it again and retry.", code="version_conflict"
            ) from exc


def _get(pk: str, sk: str) -> dict[str, Any] | None:
    with translate_errors("GetItem"):
        found = aws.dynamodb().get_item(TableName=table_name(), Key={"PK": {"S": pk}, "SK": {"S": sk}})
    item = found.get("Item")
    return from_item(item) if item else None


def save_venue(venue: Venue, expected_version: int | None = None) -> None:
    _put(_venue_item(venue), expected_version)


def save_resource(resource: Resource, expected_version: int | None = None) -> None:
    _put(_resource_item(resource), expected_version)


def get_venue(venue_id: str) -> Venue | None:
    item = _get(f"VENUE#{venue_id}", "VENUE")
    return Venue.model_validate(item) if item else None


def get_resource(resource_id: str) -> Resource | None:
    item = _get(f"RESOURCE#{resource_id}", "RESOURCE")
    return Resource.model_validate(item) if item else None


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(from_item(key), separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise errors.ValidationFailed("cursor is not one this API returned", code="invalid_cursor") from exc
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise errors.ValidationFailed("cursor is not one this API returned", code="invalid_cursor")
    return to_item(raw)


def query_index(
    index: str, partition: str, *, prefix: str | None = None, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of an index partition (optionally a sort-key prefix), with an opaque cursor for the next."""
    pk_attr, sk_attr = f"{index}PK", f"{index}SK"
    condition = f"{pk_attr} = :pk"
    values: dict[str, Any] = {":pk": {"S": partition}}
    if prefix:
        condition += f" AND begins_with({sk_attr}, :prefix)"
        values[":prefix"] = {"S": prefix}
    request: dict[str, Any] = {
        "TableName": table_name(),
        "IndexName": index,
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": values,
        "Limit": limit,
    }
    start = decode_cursor(cursor)
    if start:
        request["ExclusiveStartKey"] = start
    with translate_errors("Query"):
        page = aws.dynamodb().query(**request)
    return [from_item(item) for item in page.get("Items", [])], encode_cursor(page.get("LastEvaluatedKey"))
