"""Helpers shared by the authorization matrices."""

from __future__ import annotations

from typing import Any

import boto3


def snapshot(table: str) -> list[str]:
    """Every item of the table, canonically ordered: equal snapshots mean nothing was written."""
    client = boto3.client("dynamodb")
    items: list[str] = []
    request: dict[str, Any] = {"TableName": table}
    while True:
        page = client.scan(**request)
        items += [repr(sorted(item.items())) for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return sorted(items)
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
