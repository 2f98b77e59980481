"""SQS queues with the settings every Slotwise queue shares, and a work queue paired with its dead-letter queue."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.components.nag import acknowledge
from slotwise.topology import QueueSpec

# AWS guidance for SQS event sources: a message must stay invisible through several retries of one invocation.
VISIBILITY_TO_TIMEOUT_RATIO = 6
DLQ_RETENTION = Duration.days(14)


def secure_queue(
    scope: Construct,
    construct_id: str,
    *,
    queue_name: str,
    retention: Duration | None = None,
    visibility_timeout: Duration | None = None,
    dead_letter_queue: sqs.DeadLetterQueue | None = None,
) -> sqs.Queue:
    """A queue encrypted at rest with SQS-managed keys and refusing plaintext transport.

    SQS-managed SSE rather than KMS: EventBridge and Scheduler can write to it without a key policy.
    """
    return sqs.Queue(
        scope,
        construct_id,
        queue_name=queue_name,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=retention,
        visibility_timeout=visibility_timeout,
        dead_letter_queue=dead_letter_queue,
    )


def acknowledge_dead_letter_queue(queue: sqs.IQueue, of_what: str) -> None:
    """cdk-nag only recognises a DLQ named in another queue's RedrivePolicy; target DLQs need saying so."""
    acknowledge(
        queue,
        "AwsSolutions-SQS3",
        f"This queue is itself a dead-letter queue ({of_what}); a DLQ of a DLQ would only move the problem. "
        "Its depth is alarmed (ops construct).",
    )


class QueueWithDlq(Construct):
    """A work queue from a `QueueSpec` and the dead-letter queue its poison messages end up in."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: QueueSpec,
        queue_name: str,
        dlq_name: str,
        consumer_timeout: Duration,
    ) -> None:
        super().__init__(scope, construct_id)
        minimum = consumer_timeout.to_seconds() * VISIBILITY_TO_TIMEOUT_RATIO
        if spec.visibility_timeout_seconds < minimum:
            raise ValueError(
                f"queue {spec.name!r}: visibility timeout {spec.visibility_timeout_seconds}s is below "
                f"{VISIBILITY_TO_TIMEOUT_RATIO} x the consumer timeout ({minimum:.0f}s)"
            )
        self.spec = spec
        self.dlq = secure_queue(
            self,
            "DeadLetterQueue",
            queue_name=dlq_name,
            retention=Duration.days(spec.dlq_retention_days),
        )
        self.queue = secure_queue(
            self,
            "Queue",
            queue_name=queue_name,
            visibility_timeout=Duration.seconds(spec.visibility_timeout_seconds),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dlq, max_receive_count=spec.max_receive_count),
        )
