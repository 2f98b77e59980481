"""Queue inspection and moves for operators (SQS): a queue's depth, a dead-letter queue's messages, and moving
messages from a dead-letter queue back to its source queue.

A queue is named by its topology name (`notifications`, `notifications-dlq`). Its URL comes from
`SLOTWISE_QUEUE_URLS` (a JSON object of name to URL, which the CDK stack sets on the admin function and the CLI
builds from the stack's outputs); without it, on the `local` and `test` stages only, the queue is looked up by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slotwise import aws
from slotwise.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageTypeDef

_BATCH = 10  # SQS's most per receive, send and delete call
# How long a moved or peeked message stays hidden from other readers while this code holds it.
_HOLD_SECONDS = 60


@dataclass(frozen=True)
class QueuedMessage:
    message_id: str
    body: str
    receive_count: int
    sent_at_ms: int
    attributes: dict[str, Any]


def url_of(name: str) -> str:
    configured = (get_settings().queue_urls or {}).get(name)
    return aws.queue_url(configured, name, "SLOTWISE_QUEUE_URLS")


def depth(name: str) -> tuple[int, int]:
    """(visible, in flight): SQS's approximate counts of messages waiting and messages received but not deleted."""
    attributes = aws.sqs().get_queue_attributes(
        QueueUrl=url_of(name),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes.get("ApproximateNumberOfMessages", 0)), int(
        attributes.get("ApproximateNumberOfMessagesNotVisible", 0)
    )


def _copyable_attributes(message: MessageTypeDef) -> dict[str, Any]:
    """The message attributes SendMessage accepts back (receive adds empty list fields it would refuse)."""
    copied: dict[str, Any] = {}
    for key, value in (message.get("MessageAttributes") or {}).items():
        kept = {field: value[field] for field in ("DataType", "StringValue", "BinaryValue") if field in value}
        copied[key] = kept
    return copied


def _receive(url: str, count: int, wait_seconds: int) -> list[MessageTypeDef]:
    return (
        aws.sqs()
        .receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=max(1, min(count, _BATCH)),
            VisibilityTimeout=_HOLD_SECONDS,
            WaitTimeSeconds=wait_seconds,
            MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
            MessageAttributeNames=["All"],
        )
        .get("Messages", [])
    )


def peek(name: str, limit: int) -> list[QueuedMessage]:
    """Up to `limit` messages of the queue, left in it: each is received, then made visible again at once (its
    receive count goes up by one; a dead-letter queue has no redrive policy, so that moves nothing)."""
    url = url_of(name)
    client = aws.sqs()
    seen: dict[str, QueuedMessage] = {}
    handles: list[str] = []
    try:
        while len(seen) < limit:
            received = _receive(url, limit - len(seen), wait_seconds=1)
            fresh = [m for m in received if m["MessageId"] not in seen]
            if not fresh:
                break
            for message in fresh:
                handles.append(message["ReceiptHandle"])
                system = message.get("Attributes") or {}
                seen[message["MessageId"]] = QueuedMessage(
                    message_id=message["MessageId"],
                    body=message.get("Body", ""),
                    receive_count=int(system.get("ApproximateReceiveCount", 0)),
                    sent_at_ms=int(system.get("SentTimestamp", 0)),
                    attributes=_copyable_attributes(message),
                )
    finally:
        for start in range(0, len(handles), _BATCH):
            chunk = handles[start : start + _BATCH]
            client.change_message_visibility_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0} for i, h in enumerate(chunk)],
            )
    return list(seen.values())


def move(source: str, target: str, limit: int) -> int:
    """Move up to `limit` messages from queue `source` to queue `target` (body and message attributes kept);
    returns how many moved. A message is deleted from `source` only after `target` accepted it, so a crash in
    between delivers it twice, never loses it: the consumers deduplicate on the event id."""
    source_url, target_url = url_of(source), url_of(target)
    client = aws.sqs()
    moved = 0
    while moved < limit:
        received = _receive(source_url, limit - moved, wait_seconds=1)
        if not received:
            break
        sent = client.send_message_batch(
            QueueUrl=target_url,
            Entries=[
                {"Id": str(i), "MessageBody": m.get("Body", ""), "MessageAttributes": _copyable_attributes(m)}
                for i, m in enumerate(received)
            ],
        )
        accepted = {int(entry["Id"]) for entry in sent.get("Successful", [])}
        done = [m for i, m in enumerate(received) if i in accepted]
        if done:
            client.delete_message_batch(
                QueueUrl=source_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        moved += len(done)
        if len(done) < len(received):
            break  # the target refused some: stop rather than spin; they reappear in `source` after the hold
    return moved
