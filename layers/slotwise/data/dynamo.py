"""Low-level helpers shared by the repositories: the table name and error translation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from slotwise import aws, errors
from slotwise.settings import get_settings

# Errors that mean "DynamoDB is not answering or refused service", not "your request is wrong".
_UNAVAILABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ThrottlingException",
        "InternalServerError",
        "ServiceUnavailable",
        "ResourceNotFoundException",
    }
)


def table_name() -> str:
    return get_settings().table_name


def get_item(key: dict[str, Any]) -> dict[str, Any] | None:
    """One item by its key, strongly consistent, in its raw DynamoDB form (None when there is none): the read
    every store makes before a conditional write."""
    with translate_errors("GetItem"):
        found = aws.dynamodb().get_item(TableName=table_name(), Key=key, ConsistentRead=True)
    item: dict[str, Any] | None = found.get("Item") or None
    return item


def get_items(keys: list[dict[str, Any]], *, attempts: int = 5) -> list[dict[str, Any]]:
    """Up to 100 items by key in their raw form, in no particular order (missing ones are simply absent): one
    BatchGetItem, and again for the keys DynamoDB left unprocessed (with jittered backoff)."""
    import random
    import time

    found: list[dict[str, Any]] = []
    pending: dict[str, Any] = {table_name(): {"Keys": keys}} if keys else {}
    for attempt in range(attempts + 1):
        if not pending:
            return found
        if attempt:
            time.sleep(random.uniform(0, min(0.5, 0.02 * 2**attempt)))  # noqa: S311 - jitter, not security
        with translate_errors("BatchGetItem"):
            answer = aws.dynamodb().batch_get_item(RequestItems=pending)
        found.extend(answer.get("Responses", {}).get(table_name(), []))
        pending = answer.get("UnprocessedKeys") or {}
    if pending:
        raise errors.DependencyUnavailable("DynamoDB BatchGetItem left keys unprocessed.")
    return found


@contextmanager
def translate_errors(operation: str, service: str = "DynamoDB") -> Iterator[None]:
    """Turn transport failures into DependencyUnavailable; anything else is a bug and propagates.

    `service` names the AWS service in the message (the event publisher and its probe pass "EventBridge")."""
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _UNAVAILABLE_CODES:
            raise errors.DependencyUnavailable(f"{service} {operation} failed: {code}") from exc
        raise
    except BotoCoreError as exc:
        raise errors.DependencyUnavailable(f"{service} {operation} failed: {type(exc).__name__}") from exc


def index_page(
    index: str,
    partition: str,
    *,
    low: str | None,
    high: str | None,
    limit: int,
    start_key: dict[str, Any] | None,
    newest_first: bool = False,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of an overloaded index partition, optionally between two sort keys: plain items and the key to go on
    from (None at the end)."""
    from slotwise import aws
    from slotwise.data.codec import from_item

    condition = f"{index}PK = :pk"
    values: dict[str, Any] = {":pk": {"S": partition}}
    if low is not None and high is not None:
        condition += f" AND {index}SK BETWEEN :low AND :high"
        values.update({":low": {"S": low}, ":high": {"S": high}})
    request: dict[str, Any] = {
        "TableName": table_name(),
        "IndexName": index,
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": values,
        "Limit": limit,
        "ScanIndexForward": not newest_first,
    }
    if start_key:
        request["ExclusiveStartKey"] = start_key
    with translate_errors("Query"):
        page = aws.dynamodb().query(**request)
    return [from_item(i) for i in page.get("Items", [])], page.get("LastEvaluatedKey")


def stream_arn() -> str | None:
    """The table's current stream (the outbox), for operators' event replay (slotwise.ops.replay); None without one."""
    with translate_errors("DescribeTable"):
        table = aws.dynamodb().describe_table(TableName=table_name())["Table"]
    arn: str | None = table.get("LatestStreamArn")
    return arn
