"""Login throttling: fixed-window counters in the table, taken with one conditional UpdateItem each.

  THROTTLE#<limit>#<sha256 of the subject> / W#<window start epoch>    count, ttl (window end + 1 min)

`take` adds 1 only while the count is below the limit (`ADD` with a condition on the count), so however many
requests race, no more than `limit` get through a window; the next one is a 429 `too_many_attempts` with
`Retry-After` (seconds to the window's end). Subjects are hashed: no e-mail or IP address is stored in a key.

Self-contained on purpose: the general rate limiter of the booking routes lives elsewhere.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from slotwise import aws, errors
from slotwise.data.dynamo import table_name, translate_errors


@dataclass(frozen=True)
class Limit:
    name: str
    limit: int
    window_seconds: int


# Guesses at one account, wherever they come from; a successful login clears the account's window.
LOGIN_PER_ACCOUNT = Limit("login-account", limit=5, window_seconds=15 * 60)
# Attempts from one address, across accounts (credential stuffing).
LOGIN_PER_IP = Limit("login-ip", limit=20, window_seconds=60)
REGISTER_PER_IP = Limit("register-ip", limit=20, window_seconds=60)


class TooManyAttempts(errors.RateLimited):
    code = "too_many_attempts"


def _key(limit: Limit, subject: str, now: int) -> tuple[dict[str, dict[str, str]], int]:
    start = now - now % limit.window_seconds
    digest = hashlib.sha256(subject.encode("utf-8")).hexdigest()[:40]
    return {"PK": {"S": f"THROTTLE#{limit.name}#{digest}"}, "SK": {"S": f"W#{start}"}}, start + limit.window_seconds


def take(limit: Limit, subject: str, now: int) -> int:
    """Count one attempt; returns the count so far, or raises TooManyAttempts when the window is full."""
    key, window_end = _key(limit, subject, now)
    client = aws.dynamodb()
    with translate_errors("UpdateItem"):
        try:
            result = client.update_item(
                TableName=table_name(),
                Key=key,
                UpdateExpression="ADD #count :one SET #ttl = if_not_exists(#ttl, :ttl)",
                ConditionExpression="attribute_not_exists(#count) OR #count < :limit",
                ExpressionAttributeNames={"#count": "count", "#ttl": "ttl"},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit.limit)},
                    ":ttl": {"N": str(window_end + 60)},
                },
                ReturnValues="UPDATED_NEW",
            )
        except client.exceptions.ConditionalCheckFailedException as exc:
            raise TooManyAttempts(
                "Too many attempts; wait before trying again.", retry_after_seconds=max(1, window_end - now)
            ) from exc
    return int(result["Attributes"]["count"]["N"])


def clear(limit: Limit, subject: str, now: int) -> None:
    """Forget this window's attempts (after a successful login)."""
    key, _ = _key(limit, subject, now)
    with translate_errors("DeleteItem"):
        aws.dynamodb().delete_item(TableName=table_name(), Key=key)
