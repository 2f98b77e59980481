"""The admin function's queue wiring (`GET /admin/queues`, the redrive) and the outputs the `slotwise` CLI reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from infra.components.naming import pascal
from slotwise.topology import TOPOLOGY
from tests.infra.support import (
    as_list,
    functions_by_group,
    http_api_resources,
    queue_by_name,
    role_of,
    statements_of_role,
    synth_stack,
)


@pytest.fixture(scope="module")
def dev(layer_dir: Path) -> Template:
    return synth_stack("dev", layer_dir)


def _arn(queue_id: str) -> str:
    return str({"Fn::GetAtt": [queue_id, "Arn"]})


def _granted(template: Template, group: str, action: str) -> set[str]:
    return {
        str(statement["Resource"])
        for statement in statements_of_role(template, role_of(template, group))
        if action in as_list(statement["Action"])
    }


def test_the_admin_function_knows_every_queue_url(dev: Template) -> None:
    _, props = functions_by_group(dev)["admin"]
    setting = props["Environment"]["Variables"]["SLOTWISE_QUEUE_URLS"]
    rendered = json.dumps(setting)
    for spec in TOPOLOGY.queues:
        for name in (spec.name, spec.dlq_name):
            queue_id, _ = queue_by_name(dev, f"{name}-dev")
            assert f'\\"{name}\\":\\"' in rendered, name
            assert json.dumps({"Ref": queue_id}) in rendered, name


def test_the_admin_function_may_move_dead_letters_back_and_nothing_more(dev: Template) -> None:
    work = {_arn(queue_by_name(dev, f"{spec.name}-dev")[0]) for spec in TOPOLOGY.queues}
    dead = {_arn(queue_by_name(dev, f"{spec.dlq_name}-dev")[0]) for spec in TOPOLOGY.queues}
    assert _granted(dev, "admin", "sqs:SendMessage") == work
    assert _granted(dev, "admin", "sqs:ReceiveMessage") == dead
    assert _granted(dev, "admin", "sqs:DeleteMessage") == dead
    assert _granted(dev, "admin", "sqs:GetQueueAttributes") == work | dead
    # No other API function reads or moves the dead-letter queues' messages.
    for group in ("catalog", "bookings", "auth", "health"):
        assert not (_granted(dev, group, "sqs:ReceiveMessage") & dead), group


def test_the_outputs_name_what_the_cli_needs(dev: Template) -> None:
    outputs: dict[str, Any] = dev.to_json()["Outputs"]
    assert outputs["Stage"]["Value"] == "dev"
    for spec in TOPOLOGY.queues:
        for name in (spec.name, spec.dlq_name):
            queue_id, _ = queue_by_name(dev, f"{name}-dev")
            assert outputs[f"{pascal(name)}QueueUrl"]["Value"] == {"Ref": queue_id}
    for schedule in TOPOLOGY.schedules:
        assert (
            "Arn" in json.dumps(outputs[f"{pascal(schedule.name)}JobFunctionArn"]["Value"])
            or outputs[f"{pascal(schedule.name)}JobFunctionArn"]["Value"]
        )


def only_http_api_integrations(template: Template) -> dict[str, Any]:
    return http_api_resources(template, "AWS::ApiGatewayV2::Integration")
