"""The rate limiter's items in the single table, and its only DynamoDB calls (the limits' arithmetic, leases and
refusals are `slotwise.ratelimit`'s).

  RATE#<bucket>#<subject> / BUCKET     tat (epoch ms), type rate_bucket, ttl
  QUOTA#<subject> / W#<epoch minute>   used, type request_quota, ttl

Each function here is exactly one conditional UpdateItem (or, for `charge_item`, one item of the caller's own
TransactWriteItems); a failed condition is an answer, not an error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slotwise import aws
from slotwise.data.dynamo import table_name, translate_errors

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


def bucket_key(bucket: str, subject: str) -> dict[str, Any]:
    return {"PK": {"S": f"RATE#{bucket}#{subject}"}, "SK": {"S": "BUCKET"}}


def window_key(subject: str, window: int) -> dict[str, Any]:
    return {"PK": {"S": f"QUOTA#{subject}"}, "SK": {"S": f"W#{window}"}}


def start_bucket(bucket: str, subject: str, *, now: int, interval: int, ttl: int) -> dict[str, Any] | None:
    """`SET tat = now + interval` if the bucket is idle (no tat, or tat < now): None when it was, else the stored
    item as it was (empty when DynamoDB returned none)."""
    client = aws.dynamodb()
    with translate_errors("UpdateItem"):
        try:
            client.update_item(
                TableName=table_name(),
                Key=bucket_key(bucket, subject),
                UpdateExpression="SET tat = :next, #type = :type, #ttl = :ttl",
                ConditionExpression="attribute_not_exists(tat) OR tat < :now",
                ExpressionAttributeNames={"#ttl": "ttl", "#type": "type"},
                ExpressionAttributeValues={
                    ":next": {"N": str(now + interval)},
                    ":now": {"N": str(now)},
                    ":type": {"S": "rate_bucket"},
                    ":ttl": {"N": str(ttl)},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except client.exceptions.ConditionalCheckFailedException as exc:
            old: Any = exc.response.get("Item") or {}
            return dict(old)
    return None


def advance_bucket(bucket: str, subject: str, *, now: int, interval: int, latest: int, ttl: int) -> bool:
    """`SET tat = tat + interval` if `now <= tat <= latest` (a busy bucket with room); False when it was not."""
    client = aws.dynamodb()
    with translate_errors("UpdateItem"):
        try:
            client.update_item(
                TableName=table_name(),
                Key=bucket_key(bucket, subject),
                UpdateExpression="SET tat = tat + :interval, #ttl = :ttl",
                ConditionExpression="tat BETWEEN :now AND :latest",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={
                    ":interval": {"N": str(interval)},
                    ":now": {"N": str(now)},
                    ":latest": {"N": str(latest)},
                    ":ttl": {"N": str(ttl)},
                },
            )
        except client.exceptions.ConditionalCheckFailedException:
            return False
    return True


def _window_ttl(window: int) -> dict[str, str]:
    return {"N": str((window + 2) * 60)}


def add_used(subject: str, window: int, *, wanted: int, limit: int) -> int | None:
    """`ADD used :wanted` if that keeps `used <= limit`: None when it did, else how many the window had used."""
    client = aws.dynamodb()
    with translate_errors("UpdateItem"):
        try:
            client.update_item(
                TableName=table_name(),
                Key=window_key(subject, window),
                UpdateExpression="ADD used :wanted SET #type = :type, #ttl = :ttl",
                ConditionExpression="attribute_not_exists(used) OR used <= :room",
                ExpressionAttributeNames={"#ttl": "ttl", "#type": "type"},
                ExpressionAttributeValues={
                    ":wanted": {"N": str(wanted)},
                    ":room": {"N": str(limit - wanted)},
                    ":type": {"S": "request_quota"},
                    ":ttl": _window_ttl(window),
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except client.exceptions.ConditionalCheckFailedException as exc:
            old: Any = exc.response.get("Item") or {}
            return int(old.get("used", {}).get("N", "0"))
    return None


def charge_item(subject: str, window: int, limit: int) -> TransactWriteItemTypeDef:
    """`ADD used 1` under the same condition as `add_used`, as one item of another TransactWriteItems."""
    return {
        "Update": {
            "TableName": table_name(),
            "Key": window_key(subject, window),
            "UpdateExpression": "ADD used :one SET #type = :type, #ttl = :ttl",
            "ConditionExpression": "attribute_not_exists(used) OR used <= :room",
            "ExpressionAttributeNames": {"#ttl": "ttl", "#type": "type"},
            "ExpressionAttributeValues": {
                ":one": {"N": "1"},
                ":room": {"N": str(limit - 1)},
                ":type": {"S": "request_quota"},
                ":ttl": _window_ttl(window),
            },
        }
    }
