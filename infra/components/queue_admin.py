"""The admin function's queue wiring (`GET /admin/queues`, `POST /admin/queues/{name}/redrive`, slotwise.ops):
every work queue's and dead-letter queue's URL as one setting, reading depths, and the redrive's moves (receive and
delete from a DLQ, send to its work queue). The stack's outputs name the same URLs for the `slotwise` CLI."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_lambda as lambda_

from infra.components.asynchronous import SlotwiseAsync
from infra.components.functions import settings_environment
from infra.components.naming import pascal

ADMIN_GROUP = "admin"


def queue_urls(async_: SlotwiseAsync) -> dict[str, str]:
    """Topology name → URL token, for every work queue and its DLQ."""
    urls: dict[str, str] = {}
    for name, built in async_.queues.items():
        urls[name] = built.queue.queue_url
        urls[built.spec.dlq_name] = built.dlq.queue_url
    return urls


def wire_queue_admin(stack: Stack, async_: SlotwiseAsync, functions: Mapping[str, lambda_.Function]) -> None:
    urls = queue_urls(async_)
    function = functions.get(ADMIN_GROUP)
    if function is not None:
        for name, value in settings_environment(queue_urls=stack.to_json_string(urls)).items():
            function.add_environment(name, value)
        for built in async_.queues.values():
            # Depths of both; a redrive receives and deletes from the DLQ and sends to the work queue.
            built.queue.grant(function, "sqs:GetQueueAttributes")
            built.queue.grant_send_messages(function)
            built.dlq.grant_consume_messages(function)
    for name, value in urls.items():
        CfnOutput(stack, f"{pascal(name)}QueueUrl", value=value, description=f"SQS queue '{name}' (slotwise CLI)")
