"""The audit domain's DynamoDB calls: entries written on their own, pages of the log, the stats shards.

  AUDIT#<type>:<id> / <UTC time>#<entry id>     GSI1: ACTOR#<actor> / <UTC time>#<entry id>   (slotwise.audit.log)
  STATS#<0-7> / COUNTS                                                                         (slotwise.audit.stats)

Entries and counter updates that ride in another domain's TransactWriteItems are built by `log` and `stats`
(no call of their own); everything that calls DynamoDB is here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slotwise import aws
from slotwise.data.codec import from_item
from slotwise.data.dynamo import table_name, translate_errors


def put_entry(put: Mapping[str, Any]) -> None:
    """One PutItem of an entry's Put (its table, item and condition), outside any transaction."""
    with translate_errors("PutItem"):
        aws.dynamodb().put_item(
            TableName=put["TableName"], Item=put["Item"], ConditionExpression=put["ConditionExpression"]
        )


def entries_page(
    *,
    index: str | None,
    partition: str,
    between: tuple[str, str] | None,
    actor: str | None,
    limit: int,
    start_key: dict[str, Any] | None,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One Query, newest first, of an audit partition (the table's AUDIT#<target>, or GSI1's ACTOR#<actor>),
    optionally between two sort keys and filtered to one actor: plain items and the key to go on from."""
    pk_attr, sk_attr = ("GSI1PK", "GSI1SK") if index else ("PK", "SK")
    request: dict[str, Any] = {"TableName": table_name(), "ScanIndexForward": False, "Limit": limit}
    if index:
        request["IndexName"] = index
    condition = f"{pk_attr} = :pk"
    values: dict[str, Any] = {":pk": {"S": partition}}
    if between is not None:
        condition += f" AND {sk_attr} BETWEEN :low AND :high"
        values[":low"] = {"S": between[0]}
        values[":high"] = {"S": between[1]}
    if actor is not None:
        request["FilterExpression"] = "actor = :actor"
        values[":actor"] = {"S": actor}
    request["KeyConditionExpression"] = condition
    request["ExpressionAttributeValues"] = values
    if start_key is not None:
        request["ExclusiveStartKey"] = start_key
    with translate_errors("Query"):
        page = aws.dynamodb().query(**request)
    return [from_item(item) for item in page.get("Items", [])], page.get("LastEvaluatedKey")


def read_items(keys: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every item of `keys` that exists, as plain data: one strongly consistent BatchGetItem (repeated only for
    keys DynamoDB left unprocessed)."""
    client = aws.dynamodb()
    found: list[dict[str, Any]] = []
    pending: dict[str, Any] = {table_name(): {"Keys": list(keys), "ConsistentRead": True}}
    with translate_errors("BatchGetItem"):
        while pending:
            page = client.batch_get_item(RequestItems=pending)
            found.extend(from_item(raw) for raw in page["Responses"].get(table_name(), []))
            pending = page.get("UnprocessedKeys") or {}
    return found
