"""Payments, refunds, the wallet and processed provider events in the single table.

  PAYMENT#<id>      / PAYMENT        a payment   GSI1 PAYER#<customer>/<created>#<id>   (a customer's payments)
                                                 GSI2 VENDORPAY#<vendor>/<created>#<id>  (a vendor's payments)
                                                 GSI4 PAYMENTS/<created>#<id>            (every payment, for admins)
                                                 GSI3 PAYDUE#<shard>/<due>#<id>  (open only: when the reconciler
                                                      looks at it — the hold's deadline; an authorization: 6 days
                                                      after it, or the next capture retry)
  BOOKING#<id>      / PAYREF         the booking's current payment and its attempt number (one open at a time)
  REFUND#<id>       / REFUND         a refund    GSI1 PAYREFUNDS#<payment>/<created>#<id>
                                                 GSI3 REFUNDDUE#<shard>/<due>#<id>  (a card refund the provider
                                                      has not accepted yet: the reconciler retries it)
  WALLET#<user>     / BALANCE#<CUR>  a wallet balance in one currency (never negative: debits are conditional)
  WALLET#<user>     / ENTRY#<at>#<id> a ledger entry (+ credit, - debit), each linked to its booking
  TOPUP#<id>        / TOPUP          a wallet top-up   GSI1 TOPUPS#<user>/<created>#<id>  (a user's top-ups)
  TOPUPDAY#<user>#<UTC day> / TOTAL  what a user topped up that day: one conditional ADD per top-up, in its
                                     transaction, so the daily limit holds however many race (TTL 3 days)
  PROVIDEREVENT#<id> / EVENT         a Stripe event whose effect committed (TTL 90 days): written in the same
                                     transaction as the effect, so an event applies at most once

Each writer here adds items to a `slotwise.transaction.Transaction`; every balance change travels with the
ledger entry that explains it and the payment or refund change that causes it, so they commit together or not at
all, and the conditions on the payment/refund make a repeated change fail instead of applying twice.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from slotwise import aws
from slotwise.data.codec import from_item, to_item
from slotwise.data.due import SHARDS, due_ids, sort_time
from slotwise.data.dynamo import index_page, table_name, translate_errors
from slotwise.payments.models import AUTHORIZED, OPEN_PAYMENT, Payment, Refund, TopUp, WalletEntry
from slotwise.transaction import Tag, Transaction

PROVIDER_EVENT_TTL = timedelta(days=90)
# Stripe releases an uncaptured authorization after 7 days; the reconciler acts a day before (capture if the
# session happened, else release), so an authorization is never left to lapse on its own.
AUTHORIZATION_ACT_BY = timedelta(days=6)
TOP_UP_DAY_TTL = timedelta(days=3)
ALL_PAYMENTS = "PAYMENTS"


def moment_key(at: datetime, item_id: str) -> str:
    """`<UTC second>Z<microseconds>#<id>`: newest-first listings keep the order things happened in within a second,
    and `from`/`to` bounds built by `slotwise.data.due.sort_range` still enclose every key of their seconds."""
    return f"{sort_time(at)}{at.astimezone(UTC).microsecond:06d}#{item_id}"


def _shard(item_id: str) -> int:
    return int(hashlib.sha256(item_id.encode()).hexdigest(), 16) % SHARDS


def _due_key(kind: str, item_id: str, due: datetime) -> dict[str, str]:
    return {"GSI3PK": f"{kind}#{_shard(item_id)}", "GSI3SK": f"{int(due.timestamp()):012d}#{item_id}"}


def payment_key(payment_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"PAYMENT#{payment_id}"}, "SK": {"S": "PAYMENT"}}


def payment_item(payment: Payment, *, due: datetime | None = None) -> dict[str, Any]:
    created = moment_key(payment.created_at, payment.id)
    values: dict[str, Any] = {
        "PK": f"PAYMENT#{payment.id}",
        "SK": "PAYMENT",
        "type": "payment",
        "GSI1PK": f"PAYER#{payment.customer_id}",
        "GSI1SK": created,
        "GSI2PK": f"VENDORPAY#{payment.vendor_id}",
        "GSI2SK": created,
        "GSI4PK": ALL_PAYMENTS,
        "GSI4SK": created,
        **payment.model_dump(mode="json", by_alias=True),
    }
    if payment.status in OPEN_PAYMENT:
        values.update(_due_key("PAYDUE", payment.id, due or payment.expires_at or payment.created_at))
    elif payment.status in AUTHORIZED:
        authorized = payment.authorized_at or payment.created_at
        values.update(_due_key("PAYDUE", payment.id, due or authorized + AUTHORIZATION_ACT_BY))
    return values


def refund_item(refund: Refund, *, due: datetime | None = None) -> dict[str, Any]:
    values: dict[str, Any] = {
        "PK": f"REFUND#{refund.id}",
        "SK": "REFUND",
        "type": "refund",
        "GSI1PK": f"PAYREFUNDS#{refund.payment_id}",
        "GSI1SK": moment_key(refund.created_at, refund.id),
        **refund.model_dump(mode="json", by_alias=True),
    }
    if refund.destination == "card" and refund.status == "requested":
        values.update(_due_key("REFUNDDUE", refund.id, due or refund.created_at))
    return values


def _put(item: dict[str, Any], condition: str, values: dict[str, Any] | None = None) -> Any:
    put: dict[str, Any] = {
        "TableName": table_name(),
        "Item": to_item(item),
        "ConditionExpression": condition,
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    if values:
        put["ExpressionAttributeValues"] = values
    return {"Put": put}


def add_payment(tx: Transaction, payment: Payment) -> None:
    tx.add(Tag("payment", payment.id), _put(payment_item(payment), "attribute_not_exists(PK)"))


def replace_payment(tx: Transaction, before: Payment, after: Payment, *, due: datetime | None = None) -> None:
    """The payment's next state, only if nobody moved it since `before` was read."""
    tx.add(
        Tag("payment", after.id),
        _put(
            payment_item(after, due=due),
            "version = :version",
            {":version": {"N": str(before.version)}},
        ),
    )


def set_pointer(tx: Transaction, booking_id: str, payment_id: str, attempt: int, previous: int | None) -> None:
    """Point the booking at its new payment: only one attempt can take each number."""
    item = {"PK": f"BOOKING#{booking_id}", "SK": "PAYREF", "type": "payment_ref", "paymentId": payment_id}
    item["attempt"] = attempt  # type: ignore[assignment]
    if previous is None:
        tx.add(Tag("payment_pointer", booking_id), _put(item, "attribute_not_exists(PK)"))
    else:
        tx.add(
            Tag("payment_pointer", booking_id),
            _put(item, "attempt = :previous", {":previous": {"N": str(previous)}}),
        )


def add_refund(tx: Transaction, refund: Refund) -> None:
    tx.add(Tag("refund", refund.id), _put(refund_item(refund), "attribute_not_exists(PK)"))


def replace_refund(tx: Transaction, before: Refund, after: Refund, *, due: datetime | None = None) -> None:
    tx.add(
        Tag("refund", after.id),
        _put(refund_item(after, due=due), "version = :version", {":version": {"N": str(before.version)}}),
    )


def mark_provider_event(tx: Transaction, event_id: str, event_type: str, now: datetime) -> None:
    """This provider event's effect commits with this item, once: a second delivery fails on it."""
    item = {
        "PK": f"PROVIDEREVENT#{event_id}",
        "SK": "EVENT",
        "type": "provider_event",
        "eventType": event_type,
        "at": now.isoformat(),
        "ttl": int((now + PROVIDER_EVENT_TTL).timestamp()),
    }
    tx.add(Tag("provider_event", event_id), _put(item, "attribute_not_exists(PK)"))


def _balance_key(user_id: str, currency: str) -> dict[str, Any]:
    return {"PK": {"S": f"WALLET#{user_id}"}, "SK": {"S": f"BALANCE#{currency}"}}


def wallet_change(tx: Transaction, entry: WalletEntry) -> None:
    """Move a balance by `entry.amount` and write the entry. A debit needs the balance to cover it, so a wallet is
    never negative however many debits race."""
    update: dict[str, Any] = {
        "TableName": table_name(),
        "Key": _balance_key(entry.user_id, entry.currency),
        "UpdateExpression": "SET #type = :type, currency = :currency, updatedAt = :at ADD balance :amount",
        "ExpressionAttributeNames": {"#type": "type"},
        "ExpressionAttributeValues": {
            ":type": {"S": "wallet_balance"},
            ":currency": {"S": entry.currency},
            ":at": {"S": entry.at.isoformat()},
            ":amount": {"N": str(entry.amount)},
        },
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    if entry.amount < 0:
        update["ConditionExpression"] = "balance >= :needed"
        update["ExpressionAttributeValues"][":needed"] = {"N": str(-entry.amount)}
    tx.add(Tag("wallet", entry.user_id), {"Update": update})  # type: ignore[typeddict-item]
    item = {
        "PK": f"WALLET#{entry.user_id}",
        "SK": f"ENTRY#{moment_key(entry.at, entry.id)}",
        "type": "wallet_entry",
        **entry.model_dump(mode="json", by_alias=True),
    }
    tx.add(Tag("other", entry.id), _put(item, "attribute_not_exists(PK)"))


# ----------------------------------------------------------------------------------------------------------- top-ups


def top_up_item(top_up: TopUp) -> dict[str, Any]:
    return {
        "PK": f"TOPUP#{top_up.id}",
        "SK": "TOPUP",
        "type": "top_up",
        "GSI1PK": f"TOPUPS#{top_up.user_id}",
        "GSI1SK": moment_key(top_up.created_at, top_up.id),
        **top_up.model_dump(mode="json", by_alias=True),
    }


def _day_ttl(day: str) -> str:
    return str(int((datetime.fromisoformat(day).replace(tzinfo=UTC) + TOP_UP_DAY_TTL).timestamp()))


def add_top_up(tx: Transaction, top_up: TopUp, *, daily_limit: int) -> None:
    """A new top-up and its share of the user's daily total, which may not pass `daily_limit` (the ADD and its
    condition are one item of the transaction: racing top-ups cannot both slip under the limit)."""
    tx.add(Tag("top_up", top_up.id), _put(top_up_item(top_up), "attribute_not_exists(PK)"))
    update: dict[str, Any] = {
        "TableName": table_name(),
        "Key": {"PK": {"S": f"TOPUPDAY#{top_up.user_id}#{top_up.day}"}, "SK": {"S": "TOTAL"}},
        "UpdateExpression": "SET #type = :type, #ttl = :ttl ADD toppedUp :amount",
        "ConditionExpression": "attribute_not_exists(toppedUp) OR toppedUp <= :room",
        "ExpressionAttributeNames": {"#type": "type", "#ttl": "ttl"},
        "ExpressionAttributeValues": {
            ":type": {"S": "top_up_day"},
            ":ttl": {"N": _day_ttl(top_up.day)},
            ":amount": {"N": str(top_up.amount)},
            ":room": {"N": str(daily_limit - top_up.amount)},
        },
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    tx.add(Tag("top_up_limit", top_up.user_id), {"Update": update})  # type: ignore[typeddict-item]


def release_top_up_share(tx: Transaction, top_up: TopUp) -> None:
    """Give a top-up's share of its day's total back (it failed: nothing arrived)."""
    update: dict[str, Any] = {
        "TableName": table_name(),
        "Key": {"PK": {"S": f"TOPUPDAY#{top_up.user_id}#{top_up.day}"}, "SK": {"S": "TOTAL"}},
        # No condition: the day's item may be gone (TTL) when a late failure arrives, and a failure must apply.
        "UpdateExpression": "SET #type = :type, #ttl = :ttl ADD toppedUp :amount",
        "ExpressionAttributeNames": {"#type": "type", "#ttl": "ttl"},
        "ExpressionAttributeValues": {
            ":type": {"S": "top_up_day"},
            ":ttl": {"N": _day_ttl(top_up.day)},
            ":amount": {"N": str(-top_up.amount)},
        },
    }
    tx.add(Tag("top_up_limit", top_up.user_id), {"Update": update})  # type: ignore[typeddict-item]


def replace_top_up(tx: Transaction, before: TopUp, after: TopUp) -> None:
    """The top-up's next state, only if nobody moved it since `before` was read."""
    tx.add(
        Tag("top_up", after.id),
        _put(top_up_item(after), "version = :version", {":version": {"N": str(before.version)}}),
    )


def get_top_up(top_up_id: str) -> TopUp | None:
    item = _get(f"TOPUP#{top_up_id}", "TOPUP")
    return TopUp.model_validate(item) if item else None


def top_up_day_total(user_id: str, day: str) -> int:
    item = _get(f"TOPUPDAY#{user_id}#{day}", "TOTAL")
    return int(item.get("toppedUp", 0)) if item else 0


def query_top_ups(
    user_id: str, *, limit: int, start_key: dict[str, Any] | None
) -> tuple[list[TopUp], dict[str, Any] | None]:
    items, last = index_page(
        "GSI1", f"TOPUPS#{user_id}", low=None, high=None, limit=limit, start_key=start_key, newest_first=True
    )
    return [TopUp.model_validate(i) for i in items], last


# ------------------------------------------------------------------------------------------------------------ reads


def _get(pk: str, sk: str) -> dict[str, Any] | None:
    with translate_errors("GetItem"):
        found = aws.dynamodb().get_item(
            TableName=table_name(), Key={"PK": {"S": pk}, "SK": {"S": sk}}, ConsistentRead=True
        )
    item = found.get("Item")
    return from_item(item) if item else None


def get_payment(payment_id: str) -> Payment | None:
    item = _get(f"PAYMENT#{payment_id}", "PAYMENT")
    return Payment.model_validate(item) if item else None


def get_refund(refund_id: str) -> Refund | None:
    item = _get(f"REFUND#{refund_id}", "REFUND")
    return Refund.model_validate(item) if item else None


def current_payment(booking_id: str) -> tuple[Payment | None, int | None]:
    """The booking's latest payment and its attempt number (None, None: never paid for)."""
    pointer = _get(f"BOOKING#{booking_id}", "PAYREF")
    if pointer is None:
        return None, None
    return get_payment(str(pointer["paymentId"])), int(pointer["attempt"])


def _query(request: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    with translate_errors("Query"):
        page = aws.dynamodb().query(TableName=table_name(), **request)
    return [from_item(i) for i in page.get("Items", [])], page.get("LastEvaluatedKey")


def query_payments(
    index: str, partition: str, *, low: str | None, high: str | None, limit: int, start_key: dict[str, Any] | None
) -> tuple[list[Payment], dict[str, Any] | None]:
    items, last = index_page(index, partition, low=low, high=high, limit=limit, start_key=start_key, newest_first=True)
    return [Payment.model_validate(i) for i in items], last


def refunds_of(payment_id: str) -> list[Refund]:
    items, _ = _query(
        {
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"PAYREFUNDS#{payment_id}"}},
        }
    )
    return [Refund.model_validate(i) for i in items]


def wallet_balances(user_id: str) -> dict[str, int]:
    items, _ = _query(
        {
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :balance)",
            "ExpressionAttributeValues": {":pk": {"S": f"WALLET#{user_id}"}, ":balance": {"S": "BALANCE#"}},
            "ConsistentRead": True,
        }
    )
    return {str(i["currency"]): int(i.get("balance", 0)) for i in items}


def wallet_entries(
    user_id: str, *, limit: int, start_key: dict[str, Any] | None
) -> tuple[list[WalletEntry], dict[str, Any] | None]:
    request: dict[str, Any] = {
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :entry)",
        "ExpressionAttributeValues": {":pk": {"S": f"WALLET#{user_id}"}, ":entry": {"S": "ENTRY#"}},
        "Limit": limit,
        "ScanIndexForward": False,
    }
    if start_key:
        request["ExclusiveStartKey"] = start_key
    items, last = _query(request)
    return [WalletEntry.model_validate(i) for i in items], last


def due_payments(now: datetime, limit: int = 100) -> list[str]:
    return due_ids("PAYDUE", f"{int(now.timestamp()):012d}#~", limit)


def due_refunds(now: datetime, limit: int = 100) -> list[str]:
    return due_ids("REFUNDDUE", f"{int(now.timestamp()):012d}#~", limit)
