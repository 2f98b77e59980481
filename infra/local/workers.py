"""The async side of the local runtime: SQS consumers and scheduled jobs, run in threads.

Emulators store EventBridge schedules but never fire them, so the runtime runs each ScheduleSpec itself; it also
polls each queue and hands batches to the consumer's handler in Lambda's SQS event shape, deleting only the
records the handler did not report in `batchItemFailures` (the rest come back after the visibility timeout and
move to the DLQ after `max_receive_count` receives, as with a real event source mapping).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from slotwise.topology import QueueSpec, ScheduleSpec

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

Invoker = Callable[[str, dict[str, Any]], Any]


class StreamPollerLike(Protocol):
    def poll_once(self) -> int: ...


def sqs_event(messages: list[MessageTypeDef], queue_arn: str) -> dict[str, Any]:
    """Lambda's SQS event for a batch of received messages."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": message.get("MessageAttributes", {}),
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": queue_arn.split(":")[3],
            }
            for message in messages
        ]
    }


def scheduled_event(schedule: ScheduleSpec, now: datetime | None = None) -> dict[str, Any]:
    """The event EventBridge Scheduler / a scheduled rule delivers."""
    now = now or datetime.now(UTC)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:000000000000:rule/{schedule.name}"],
        "detail": {},
    }


def failed_message_ids(result: Any) -> set[str]:
    if not isinstance(result, dict):
        return set()
    return {failure["itemIdentifier"] for failure in result.get("batchItemFailures", [])}


_QUEUE_ARNS: dict[str, str] = {}


def _queue_arn(sqs: SQSClient, queue_url: str) -> str:
    """A queue's ARN never changes: asked once per queue, not once per batch."""
    if queue_url not in _QUEUE_ARNS:
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
        _QUEUE_ARNS[queue_url] = attributes["QueueArn"]
    return _QUEUE_ARNS[queue_url]


def drain_once(sqs: SQSClient, queue: QueueSpec, queue_url: str, invoke: Invoker, wait_seconds: int = 1) -> int:
    """Receive one batch (up to the spec's batch size, at most SQS's 10), run the consumer, delete what it
    processed; returns how many messages it handled."""
    received = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=min(queue.batch_size, 10),
        WaitTimeSeconds=wait_seconds,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    ).get("Messages", [])
    if not received:
        return 0
    queue_arn = _queue_arn(sqs, queue_url)
    try:
        failed = failed_message_ids(invoke(queue.consumer_group, sqs_event(received, queue_arn)))
    except Exception:
        failed = {m["MessageId"] for m in received}
    done = [m for m in received if m["MessageId"] not in failed]
    if done:
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
        )
    return len(received)


class Workers:
    """Background threads for every queue consumer and schedule; `stop()` ends them all."""

    def __init__(self, invoke: Invoker, log: Callable[[str], None] = print) -> None:
        self._invoke = invoke
        self._log = log
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def add_queue(
        self, sqs: SQSClient, queue: QueueSpec, queue_url: str, concurrency: int = 1, wait_seconds: int = 1
    ) -> None:
        """`concurrency` pollers on the queue: up to that many batches in flight, as Lambda scales an SQS event
        source out while the queue has messages (each batch borrows its own handler copy). `wait_seconds` is the
        long poll: an idle queue costs one ReceiveMessage per poller per that many seconds, and a message that
        arrives meanwhile is answered at once."""

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    drain_once(sqs, queue, queue_url, self._invoke, wait_seconds=wait_seconds)
                except Exception as exc:
                    self._log(f"queue {queue.name}: {exc}")
                    self._stop.wait(1)

        for index in range(max(1, concurrency)):
            self._start(f"queue:{queue.name}:{index}", loop)

    def add_stream(self, poller: StreamPollerLike, every_seconds: float = 0.5) -> None:
        def loop() -> None:
            while not self._stop.wait(every_seconds):
                try:
                    poller.poll_once()
                except Exception as exc:
                    self._log(f"stream: {exc!r}")
                    self._stop.wait(1)

        self._start("stream", loop)

    def add_schedule(self, schedule: ScheduleSpec) -> None:
        def loop() -> None:
            while not self._stop.wait(schedule.every_seconds):
                run_job(schedule, self._invoke, self._log)

        self._start(f"schedule:{schedule.name}", loop)

    def _start(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)


def run_job(schedule: ScheduleSpec, invoke: Invoker, log: Callable[[str], None] = print) -> Any:
    try:
        result = invoke(schedule.group, scheduled_event(schedule))
    except Exception as exc:
        log(f"job {schedule.name} failed: {exc!r}")
        return None
    log(f"job {schedule.name}: {result}")
    return result
