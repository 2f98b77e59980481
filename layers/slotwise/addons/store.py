"""Add-on records in the single table, beside their resource:

  RESOURCE#<resourceId> / ADDON#<addonId>   the add-on (its stock counters are inventory items:
                                            `slotwise.booking.inventory`, SK `STOCK#...`)

Writes are one transaction each with their audit entry: creation on `attribute_not_exists`, replacement and
archiving on the version read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slotwise import aws, errors
from slotwise.addons.models import Addon
from slotwise.audit.log import AuditEntry
from slotwise.data.codec import from_item, to_item
from slotwise.data.dynamo import get_item, table_name, translate_errors
from slotwise.transaction import Tag, Transaction, TransactionFailed, execute

ADDON_PREFIX = "ADDON#"


def addon_key(resource_id: str, addon_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"RESOURCE#{resource_id}"}, "SK": {"S": f"{ADDON_PREFIX}{addon_id}"}}


def _item(addon: Addon) -> dict[str, Any]:
    return {
        "PK": f"RESOURCE#{addon.resource_id}",
        "SK": f"{ADDON_PREFIX}{addon.id}",
        "type": "addon",
        **addon.model_dump(mode="json", by_alias=True),
    }


def _from_item(item: dict[str, Any]) -> Addon:
    return Addon.model_validate({k: v for k, v in from_item(item).items() if k not in ("PK", "SK", "type")})


def get_addon(resource_id: str, addon_id: str) -> Addon | None:
    item = get_item(addon_key(resource_id, addon_id))
    return _from_item(item) if item else None


def get_addons(resource_id: str, addon_ids: Sequence[str]) -> dict[str, Addon]:
    """The add-ons of one resource among `addon_ids` (missing ones are absent), strongly consistent."""
    return {addon_id: found for addon_id in addon_ids if (found := get_addon(resource_id, addon_id)) is not None}


def list_addons(resource_id: str) -> list[Addon]:
    """Every add-on of a resource (at most MAX_ADDONS_PER_RESOURCE exist; paged only past 1 MB)."""
    client = aws.dynamodb()
    request: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": f"RESOURCE#{resource_id}"}, ":prefix": {"S": ADDON_PREFIX}},
        "ConsistentRead": True,
    }
    found: list[Addon] = []
    with translate_errors("Query"):
        while True:
            page = client.query(**request)
            found += [_from_item(item) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return sorted(found, key=lambda addon: (addon.created_at, addon.id))
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def save_addon(addon: Addon, *, expected_version: int | None, audit: AuditEntry) -> None:
    """Create (expected_version None) or replace the add-on read at `expected_version`, with its audit entry."""
    tx = Transaction()
    if expected_version is None:
        tx.put_new(Tag("other", addon.id), _item(addon))
    else:
        tx.add(
            Tag("other", addon.id),
            {
                "Put": {
                    "TableName": table_name(),
                    "Item": to_item(_item(addon)),
                    "ConditionExpression": "version = :expected",
                    "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
                }
            },
        )
    tx.audit(audit)
    try:
        execute(tx)
    except TransactionFailed as failed:
        raise errors.Conflict(
            "The add-on changed since it was read; fetch it again and retry.", code="version_conflict"
        ) from failed
