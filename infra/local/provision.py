"""Creates the table, bus, queues, DLQs and rules on the local engines from `slotwise.topology`.

The CDK stacks read the same definitions, so what runs on a laptop has AWS's key schema, indexes, stream settings
and queue names. Every step is idempotent: `make dev` on a persisted database finds its table already there.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slotwise.topology import QueueSpec, TableSpec, Topology

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_ses import SESClient
    from mypy_boto3_sqs import SQSClient


def create_table_request(spec: TableSpec, table_name: str) -> dict[str, Any]:
    """CreateTable arguments for the single table (on-demand, stream on), as the CDK stack declares it."""
    key_names = {spec.partition_key, spec.sort_key}
    for index in spec.global_indexes:
        key_names.update({index.partition_key, index.sort_key})
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": name, "AttributeType": "S"} for name in sorted(key_names)],
        "KeySchema": [
            {"AttributeName": spec.partition_key, "KeyType": "HASH"},
            {"AttributeName": spec.sort_key, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": index.partition_key, "KeyType": "HASH"},
                    {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in spec.global_indexes
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": spec.stream_view},
    }


def ensure_table(client: DynamoDBClient, spec: TableSpec, table_name: str) -> None:
    try:
        client.create_table(**create_table_request(spec, table_name))
    except client.exceptions.ResourceInUseException:
        return
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    client.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute}
    )


def ensure_queue(client: SQSClient, spec: QueueSpec) -> str:
    """The queue and its DLQ, redriving after `max_receive_count` receives; returns the queue URL."""
    dlq_url = client.create_queue(
        QueueName=spec.dlq_name,
        Attributes={"MessageRetentionPeriod": str(spec.dlq_retention_days * 86400)},
    )["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(spec.max_receive_count)}
    return client.create_queue(
        QueueName=spec.name,
        Attributes={
            "VisibilityTimeout": str(spec.visibility_timeout_seconds),
            "RedrivePolicy": json.dumps(redrive),
        },
    )["QueueUrl"]


def verify_sender(client: SESClient, address: str) -> None:
    """Verify the notifier's sender in (moto's) SES: SES refuses to send from an unverified identity."""
    client.verify_email_identity(EmailAddress=address)


@dataclass
class LocalResources:
    table_name: str
    event_bus_name: str
    queue_urls: dict[str, str] = field(default_factory=dict)


def provision(
    topology: Topology,
    *,
    table_name: str,
    dynamodb: DynamoDBClient,
    sqs: SQSClient,
    events: EventBridgeClient,
    ses: SESClient | None = None,
    email_from: str | None = None,
) -> LocalResources:
    ensure_table(dynamodb, topology.table, table_name)
    if ses is not None and email_from:
        verify_sender(ses, email_from)
    with contextlib.suppress(events.exceptions.ResourceAlreadyExistsException):
        events.create_event_bus(Name=topology.event_bus_name)
    resources = LocalResources(table_name=table_name, event_bus_name=topology.event_bus_name)
    for queue in topology.queues:
        resources.queue_urls[queue.name] = ensure_queue(sqs, queue)
    for consumer in topology.stream_consumers:
        resources.queue_urls[consumer.dlq_name] = sqs.create_queue(QueueName=consumer.dlq_name)["QueueUrl"]
    for rule in topology.rules:
        pattern = {"source": list(rule.sources), "detail-type": list(rule.detail_types)}
        events.put_rule(Name=rule.name, EventBusName=topology.event_bus_name, EventPattern=json.dumps(pattern))
        queue_url = resources.queue_urls[rule.target_queue]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_targets(
            Rule=rule.name,
            EventBusName=topology.event_bus_name,
            Targets=[{"Id": rule.target_queue, "Arn": queue_arn}],
        )
    return resources
