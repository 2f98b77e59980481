"""Live connections in the single table, and their only DynamoDB calls (slotwise.live's rules are the service's).

  LIVECONN#<connection id> / CONNECTION     userId, role, status, connectedAt, expiresAt, subscriptions (a string
                                            set of topics), ttl; GSI1 LIVECONNS#<user id> / <connectedAt>#<id>
  LIVEUSER#<user id> / CONNECTIONS          open: a map connection id -> expiresAt (its size is the user's count)
  LIVESUB#<topic> / <connection id>         userId, ttl (a topic: `booking#<id>` or `resource#<id>`)

The per-user cap is a conditional counter: opening a connection is ONE transaction that adds the connection to
the user's `open` map on condition `size(open) < cap` and creates the connection item, so concurrent connects can
never exceed the cap (no check-then-insert). A connection lives at most two hours (API Gateway's own limit), so an
entry of the map past its `expiresAt` is one whose `$disconnect` never came: `prune` removes exactly those
(conditional on the value read), which is how the count heals. Every item carries a TTL, so nothing outlives its
connection for long even when nothing cleans up.

The pusher finds a user's connections with a Query of GSI1 and a topic's subscribers with a Query of the topic's
partition; neither scans.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from slotwise import aws, errors
from slotwise.data.codec import from_item
from slotwise.data.dynamo import get_item, table_name, translate_errors
from slotwise.transaction import Tag, Transaction, TransactionFailed, backoff, execute

CONNECTION_SK = "CONNECTION"
USER_SK = "CONNECTIONS"
INDEX = "GSI1"


def connection_pk(connection_id: str) -> str:
    return f"LIVECONN#{connection_id}"


def user_pk(user_id: str) -> str:
    return f"LIVEUSER#{user_id}"


def user_index_pk(user_id: str) -> str:
    return f"LIVECONNS#{user_id}"


def topic_pk(topic: str) -> str:
    return f"LIVESUB#{topic}"


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


@dataclass(frozen=True)
class ConnectionRecord:
    connection_id: str
    user_id: str
    role: str
    status: str
    connected_at: str  # ISO 8601, UTC
    expires_at: int  # epoch seconds
    subscriptions: frozenset[str] = frozenset()

    def item(self) -> dict[str, Any]:
        return {
            "PK": connection_pk(self.connection_id),
            "SK": CONNECTION_SK,
            "GSI1PK": user_index_pk(self.user_id),
            "GSI1SK": f"{self.connected_at}#{self.connection_id}",
            "type": "live_connection",
            "connectionId": self.connection_id,
            "userId": self.user_id,
            "role": self.role,
            "status": self.status,
            "connectedAt": self.connected_at,
            "expiresAt": self.expires_at,
            "ttl": self.expires_at,
        }

    @classmethod
    def from_plain(cls, plain: dict[str, Any]) -> ConnectionRecord:
        return cls(
            connection_id=str(plain["connectionId"]),
            user_id=str(plain["userId"]),
            role=str(plain["role"]),
            status=str(plain.get("status", "active")),
            connected_at=str(plain["connectedAt"]),
            expires_at=int(plain["expiresAt"]),
            subscriptions=frozenset(str(topic) for topic in plain.get("subscriptions") or ()),
        )


class CapReached(Exception):
    """The user's `open` map is full; `open` is what it held (connection id -> expiresAt)."""

    def __init__(self, open_connections: dict[str, int]) -> None:
        super().__init__(f"{len(open_connections)} connections open")
        self.open_connections = open_connections


# Connects of one user's tabs race on the user's item: a transaction that lost only to contention is tried again.
MAX_ATTEMPTS = 8


def _ensure_user_item(user_id: str) -> None:
    """The user's item with an empty `open` map if it has none: a map entry can only be set inside a map."""
    client = aws.dynamodb()
    with translate_errors("UpdateItem"):
        try:
            client.update_item(
                TableName=table_name(),
                Key=_key(user_pk(user_id), USER_SK),
                UpdateExpression="SET #open = if_not_exists(#open, :empty), #type = :type",
                ExpressionAttributeNames={"#open": "open", "#type": "type"},
                ExpressionAttributeValues={":empty": {"M": {}}, ":type": {"S": "live_connections"}},
            )
        except client.exceptions.TransactionConflictException:
            return  # a transaction on the item is under way: it exists; the caller tries again


def _open_transaction(record: ConnectionRecord, cap: int) -> Transaction:
    tx = Transaction()
    tx.add(
        Tag("other", f"live_user:{record.user_id}"),
        {
            "Update": {
                "TableName": table_name(),
                "Key": _key(user_pk(record.user_id), USER_SK),
                "UpdateExpression": "SET #open.#id = :expires, #ttl = :expires",
                "ConditionExpression": "attribute_exists(#open) AND size(#open) < :cap",
                "ExpressionAttributeNames": {"#open": "open", "#id": record.connection_id, "#ttl": "ttl"},
                "ExpressionAttributeValues": {
                    ":expires": {"N": str(record.expires_at)},
                    ":cap": {"N": str(cap)},
                },
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
    )
    tx.put_new(Tag("other", f"live_connection:{record.connection_id}"), record.item())
    return tx


def open_connection(record: ConnectionRecord, cap: int) -> None:
    """Count the connection in its user's map (only while the map holds fewer than `cap`) and store it, in one
    transaction. CapReached when the map is full; Conflict when the connection id is already stored."""
    for attempt in range(MAX_ATTEMPTS):
        try:
            execute(_open_transaction(record, cap))
            return
        except TransactionFailed as failed:
            if failed.only_contention:
                backoff(attempt)
                continue
            refused = failed.of_kind("other")
            if any(f.tag.key.startswith("live_connection:") for f in refused):
                raise errors.Conflict("This connection is already open.", code="connection_exists") from failed
            user = next((f for f in refused if f.tag.key.startswith("live_user:")), None)
            if user is None:
                raise
            if user.item is None:
                # The user has no item yet (first connection, or its TTL passed): make it, then try again.
                _ensure_user_item(record.user_id)
                continue
            held = from_item(user.item).get("open") or {}
            raise CapReached({str(k): int(v) for k, v in held.items()}) from failed
    raise errors.DependencyUnavailable("Too many connections of this user are opening at once; try again.")


def prune(user_id: str, stale: dict[str, int]) -> bool:
    """Remove these entries (connection id -> expiresAt as read) from the user's map, only if each still holds the
    value read; False when one changed meanwhile (nothing removed)."""
    if not stale:
        return True
    names: dict[str, str] = {"#open": "open"}
    values: dict[str, Any] = {}
    removals, conditions = [], []
    for position, (connection_id, expires_at) in enumerate(sorted(stale.items())):
        names[f"#c{position}"] = connection_id
        values[f":e{position}"] = {"N": str(expires_at)}
        removals.append(f"#open.#c{position}")
        conditions.append(f"#open.#c{position} = :e{position}")
    client = aws.dynamodb()
    with translate_errors("UpdateItem"):
        try:
            client.update_item(
                TableName=table_name(),
                Key=_key(user_pk(user_id), USER_SK),
                UpdateExpression="REMOVE " + ", ".join(removals),
                ConditionExpression=" AND ".join(conditions),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except client.exceptions.ConditionalCheckFailedException:
            return False
    return True


def get_connection(connection_id: str) -> ConnectionRecord | None:
    item = get_item(_key(connection_pk(connection_id), CONNECTION_SK))
    return ConnectionRecord.from_plain(from_item(item)) if item else None


def open_count(user_id: str) -> int:
    """How many connections the user's map counts (tests and the operations runbook)."""
    item = get_item(_key(user_pk(user_id), USER_SK))
    return len(from_item(item).get("open") or {}) if item else 0


def _execute(tx: Transaction) -> None:
    """Run the transaction, again after a lost race (contention only); a failed condition propagates."""
    for attempt in range(MAX_ATTEMPTS):
        try:
            execute(tx)
            return
        except TransactionFailed as failed:
            if not failed.only_contention or attempt == MAX_ATTEMPTS - 1:
                raise
            backoff(attempt)


def _close_transaction(record: ConnectionRecord, *, uncount: bool) -> Transaction:
    tx = Transaction()
    tx.add(
        Tag("other", f"live_connection:{record.connection_id}"),
        {
            "Delete": {
                "TableName": table_name(),
                "Key": _key(connection_pk(record.connection_id), CONNECTION_SK),
                "ConditionExpression": "attribute_exists(PK)",
            }
        },
    )
    if uncount:
        tx.add(
            Tag("other", f"live_user:{record.user_id}"),
            {
                "Update": {
                    "TableName": table_name(),
                    "Key": _key(user_pk(record.user_id), USER_SK),
                    "UpdateExpression": "REMOVE #open.#id",
                    # Without the map there is nothing to remove (and REMOVE of a path in a missing map is invalid).
                    "ConditionExpression": "attribute_exists(#open)",
                    "ExpressionAttributeNames": {"#open": "open", "#id": record.connection_id},
                }
            },
        )
    for topic in sorted(record.subscriptions):
        tx.delete_key(Tag("other", f"live_subscription:{topic}"), topic_pk(topic), record.connection_id)
    return tx


def close_connection(record: ConnectionRecord) -> bool:
    """Delete the connection, its entry in the user's map and its subscriptions, in one transaction; False when it
    was already gone (another close won)."""
    for uncount in (True, False):
        try:
            _execute(_close_transaction(record, uncount=uncount))
        except TransactionFailed as failed:
            refused = {f.tag.key.split(":", 1)[0] for f in failed.of_kind("other")}
            if "live_connection" in refused:
                return False
            if "live_user" in refused and uncount:
                continue  # the user's map is gone (its TTL passed): delete the connection alone
            raise
        return True
    return False


def add_subscription(record: ConnectionRecord, topic: str, cap: int) -> bool:
    """Add `topic` to the connection's set (at most `cap` topics; adding one it has is a no-op) and store the
    subscriber item, in one transaction; False when the connection is gone or its set is full."""
    tx = Transaction()
    tx.add(
        Tag("other", f"live_connection:{record.connection_id}"),
        {
            "Update": {
                "TableName": table_name(),
                "Key": _key(connection_pk(record.connection_id), CONNECTION_SK),
                "UpdateExpression": "ADD #subs :topics",
                "ConditionExpression": "attribute_exists(PK) AND (attribute_not_exists(#subs) OR size(#subs) < :cap "
                "OR contains(#subs, :topic))",
                "ExpressionAttributeNames": {"#subs": "subscriptions"},
                "ExpressionAttributeValues": {
                    ":topics": {"SS": [topic]},
                    ":topic": {"S": topic},
                    ":cap": {"N": str(cap)},
                },
            }
        },
    )
    tx.add(
        Tag("other", f"live_subscription:{topic}"),
        {
            "Put": {
                "TableName": table_name(),
                "Item": {
                    "PK": {"S": topic_pk(topic)},
                    "SK": {"S": record.connection_id},
                    "type": {"S": "live_subscription"},
                    "userId": {"S": record.user_id},
                    "ttl": {"N": str(record.expires_at)},
                },
            }
        },
    )
    try:
        _execute(tx)
    except TransactionFailed as failed:
        if failed.of_kind("other"):
            return False
        raise
    return True


def remove_subscription(record: ConnectionRecord, topic: str) -> None:
    """Drop `topic` from the connection's set and delete its subscriber item, in one transaction (idempotent)."""
    tx = Transaction()
    tx.add(
        Tag("other", f"live_connection:{record.connection_id}"),
        {
            "Update": {
                "TableName": table_name(),
                "Key": _key(connection_pk(record.connection_id), CONNECTION_SK),
                "UpdateExpression": "DELETE #subs :topics",
                "ConditionExpression": "attribute_exists(PK)",
                "ExpressionAttributeNames": {"#subs": "subscriptions"},
                "ExpressionAttributeValues": {":topics": {"SS": [topic]}},
            }
        },
    )
    tx.delete_key(Tag("other", f"live_subscription:{topic}"), topic_pk(topic), record.connection_id)
    try:
        _execute(tx)
    except TransactionFailed as failed:
        if not failed.of_kind("other"):
            raise


def delete_subscription(topic: str, connection_id: str) -> None:
    """A subscriber item whose connection is gone (its own item expired first)."""
    with translate_errors("DeleteItem"):
        aws.dynamodb().delete_item(TableName=table_name(), Key=_key(topic_pk(topic), connection_id))


def _pages(request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    client = aws.dynamodb()
    while True:
        with translate_errors("Query"):
            page = client.query(**request)
        yield from (from_item(item) for item in page.get("Items", []))
        last = page.get("LastEvaluatedKey")
        if not last:
            return
        request = {**request, "ExclusiveStartKey": last}


def user_connections(user_id: str, now_epoch: int) -> list[str]:
    """The ids of the user's connections that have not expired (a Query of GSI1)."""
    request: dict[str, Any] = {
        "TableName": table_name(),
        "IndexName": INDEX,
        "KeyConditionExpression": "GSI1PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": user_index_pk(user_id)}},
    }
    return [str(item["connectionId"]) for item in _pages(request) if int(item.get("expiresAt", 0)) > now_epoch]


def subscribers(topic: str, now_epoch: int) -> list[tuple[str, str]]:
    """(connection id, user id) of every unexpired subscriber of `topic` (a Query of its partition)."""
    request: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": topic_pk(topic)}},
    }
    return [
        (str(item["SK"]), str(item.get("userId", "")))
        for item in _pages(request)
        if int(item.get("ttl", 0)) > now_epoch
    ]


def connections_of(user_ids: Iterable[str], now_epoch: int) -> dict[str, str]:
    """Connection id -> user id for every unexpired connection of these users."""
    found: dict[str, str] = {}
    for user_id in sorted(set(user_ids)):
        for connection_id in user_connections(user_id, now_epoch):
            found[connection_id] = user_id
    return found
