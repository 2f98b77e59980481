"""The webhook delivery function's own wiring: it writes delayed attempt messages to its queue and the final one
of a delivery that ran out of retries to the queue's DLQ (slotwise.webhooks.delivery), so it gets both URLs as
settings and may send to both queues, nothing more."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import aws_lambda as lambda_

from infra.components.asynchronous import SlotwiseAsync
from infra.components.functions import settings_environment
from slotwise.webhooks.queue import QUEUE_NAME


def wire_webhook_delivery(async_: SlotwiseAsync, functions: Mapping[str, lambda_.Function]) -> None:
    built = async_.queues.get(QUEUE_NAME)
    if built is None:
        return  # a topology without outbound webhooks
    function = functions[built.spec.consumer_group]
    urls = settings_environment(webhook_queue_url=built.queue.queue_url, webhook_dlq_url=built.dlq.queue_url)
    for name, value in urls.items():
        function.add_environment(name, value)
    built.queue.grant_send_messages(function)
    built.dlq.grant_send_messages(function)
