"""The webhook delivery function may send to its own queue and DLQ, and knows their URLs; nothing else may."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk.assertions import Template

from infra.components.queue_admin import ADMIN_GROUP as REDRIVER
from tests.infra.support import (
    as_list,
    functions_by_group,
    queue_by_name,
    resources,
    role_of,
    statements_of_role,
    synth_stack,
)


@pytest.fixture(scope="module")
def dev(layer_dir: Path) -> Template:
    return synth_stack("dev", layer_dir)


def test_the_delivery_function_knows_and_may_write_its_queues(dev: Template) -> None:
    queue_id, queue = queue_by_name(dev, "webhooks-dev")
    dlq_id, _ = queue_by_name(dev, "webhooks-dlq-dev")
    assert queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": [dlq_id, "Arn"]}
    _, props = functions_by_group(dev)["webhooks"]
    env = props["Environment"]["Variables"]
    assert env["SLOTWISE_WEBHOOK_QUEUE_URL"] == {"Ref": queue_id}
    assert env["SLOTWISE_WEBHOOK_DLQ_URL"] == {"Ref": dlq_id}
    sends = [
        statement
        for statement in statements_of_role(dev, role_of(dev, "webhooks"))
        if "sqs:SendMessage" in as_list(statement["Action"])
    ]
    assert {str(s["Resource"]) for s in sends} == {
        str({"Fn::GetAtt": [queue_id, "Arn"]}),
        str({"Fn::GetAtt": [dlq_id, "Arn"]}),
    }


def test_no_other_function_may_send_to_the_webhook_queues(dev: Template) -> None:
    queue_id, _ = queue_by_name(dev, "webhooks-dev")
    for group in functions_by_group(dev):
        if group == "webhooks":
            continue
        for statement in statements_of_role(dev, role_of(dev, group)):
            # The admin function's dead-letter redrive moves the queue's own DLQ messages back to it, and nothing else
            # (tests/infra/test_queue_admin_infra.py).
            if "sqs:SendMessage" in as_list(statement["Action"]) and group != REDRIVER:
                assert queue_id not in str(statement["Resource"]), group
        env = functions_by_group(dev)[group][1]["Environment"]["Variables"]
        assert "SLOTWISE_WEBHOOK_QUEUE_URL" not in env, group


def test_the_rule_feeds_the_webhook_queue(dev: Template) -> None:
    queue_id, _ = queue_by_name(dev, "webhooks-dev")
    (rule,) = [
        r
        for r in resources(dev, "AWS::Events::Rule").values()
        if r["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    ]
    assert "booking.confirmed" in rule["Properties"]["EventPattern"]["detail-type"]
