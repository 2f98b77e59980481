"""Topologies, synth helpers and template queries shared by the infrastructure tests."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from infra.stacks.slotwise_stack import SlotwiseStack, Stage
from slotwise.topology import TOPOLOGY, EventRuleSpec, QueueSpec, ScheduleSpec

Resources = dict[str, Any]

QUEUE = QueueSpec(name="notifications", consumer_group="notifier", max_receive_count=3, batch_size=7)
RULE = EventRuleSpec(
    name="booking-events", detail_types=("BookingConfirmed", "BookingCancelled"), target_queue=QUEUE.name
)
SCHEDULE = ScheduleSpec(name="expire-holds", group="housekeeping", every_seconds=300, description="Release stale holds")
# One of each kind, no stream consumer: the counts in its tests stay small and exact.
EXTENDED = replace(TOPOLOGY, queues=(QUEUE,), rules=(RULE,), schedules=(SCHEDULE,), stream_consumers=())


def synth_stack(stage: Stage, layer_dir: Path, **kwargs: Any) -> Template:
    app = cdk.App()
    stack = SlotwiseStack(app, f"Test-{stage}", stage=stage, layer_dir=layer_dir, **kwargs)
    return flat_template(stack)


def flat_template(stack: cdk.Stack) -> Template:
    """The stack's template with its nested stacks' resources merged in, as if they were one stack.

    The HTTP API is a nested stack (CloudFormation's 500-resource limit): a value crossing the boundary is a
    nested-stack parameter or output there. Here each parameter reference is replaced by the parent's expression it
    was given and each `Outputs.X` attribute by the output's value, so tests check what references what (an
    integration's URI names the function's alias) whichever stack holds it. tests/infra/test_resource_budget.py
    looks at the stacks one by one.
    """
    merged: dict[str, Any] = Template.from_stack(stack).to_json()
    for child in stack.node.find_all():
        if isinstance(child, cdk.NestedStack) and child.nested_stack_parent is stack:
            merged = _merge_nested(merged, stack, child)
    return Template.from_json(merged)


def _merge_nested(merged: dict[str, Any], stack: cdk.Stack, child: cdk.NestedStack) -> dict[str, Any]:
    resource = child.nested_stack_resource
    assert resource is not None
    stack_id = stack.get_logical_id(resource)  # type: ignore[arg-type]
    nested = flat_template(child).to_json()
    given = merged["Resources"].pop(stack_id)["Properties"].get("Parameters", {})
    nested = _replace(nested, lambda node: given.get(node["Ref"]) if set(node) == {"Ref"} else None)
    outputs = {f"Outputs.{key}": output["Value"] for key, output in nested.get("Outputs", {}).items()}
    merged = _replace(merged, lambda node: _output_value(node, stack_id, outputs))
    clashes = set(merged["Resources"]) & set(nested["Resources"])
    assert not clashes, f"logical ids in both {stack.node.path} and {child.node.path}: {sorted(clashes)}"
    merged["Resources"].update(nested["Resources"])
    for found in merged["Resources"].values():
        depends = [d for d in as_list(found.pop("DependsOn", [])) if d != stack_id]
        if depends:
            found["DependsOn"] = depends
    return merged


def _output_value(node: dict[str, Any], stack_id: str, outputs: dict[str, Any]) -> Any:
    attribute = node.get("Fn::GetAtt")
    if set(node) == {"Fn::GetAtt"} and isinstance(attribute, list) and attribute[0] == stack_id:
        return outputs[attribute[1]]
    return None


def _replace(value: Any, replacement_of: Any) -> Any:
    """`value` with every dict node for which `replacement_of(node)` is not None replaced by that (recursively)."""
    if isinstance(value, dict):
        replaced = replacement_of(value) if len(value) == 1 else None
        if replaced is not None:
            return replaced
        return {key: _replace(item, replacement_of) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace(item, replacement_of) for item in value]
    return value


def backend_stack(app: cdk.App) -> SlotwiseStack:
    """The app's backend stack (the app also holds the console's stack)."""
    (stack,) = [child for child in app.node.children if isinstance(child, SlotwiseStack)]
    return stack


def resources(template: Template, kind: str) -> Resources:
    return dict(template.find_resources(kind))


def only(template: Template, kind: str) -> tuple[str, dict[str, Any]]:
    found = resources(template, kind)
    assert len(found) == 1, f"expected one {kind}, found {sorted(found)}"
    return next(iter(found.items()))


def table(template: Template) -> tuple[str, dict[str, Any]]:
    return only(template, "AWS::DynamoDB::GlobalTable")


def functions_by_group(template: Template) -> dict[str, tuple[str, dict[str, Any]]]:
    by_group = {}
    for logical_id, resource in resources(template, "AWS::Lambda::Function").items():
        description = resource["Properties"]["Description"]
        group = description.split("'")[1]
        by_group[group] = (logical_id, resource["Properties"])
    return by_group


def queue_by_name(template: Template, name: str) -> tuple[str, dict[str, Any]]:
    matches = [
        (k, v) for k, v in resources(template, "AWS::SQS::Queue").items() if v["Properties"]["QueueName"] == name
    ]
    assert len(matches) == 1, f"queue {name} not found once"
    return matches[0]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements_of_role(template: Template, role_id: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def actions_of_role(template: Template, role_id: str) -> set[str]:
    return {action for statement in statements_of_role(template, role_id) for action in as_list(statement["Action"])}


def role_of(template: Template, group: str) -> str:
    _, props = functions_by_group(template)[group]
    role_id: str = props["Role"]["Fn::GetAtt"][0]
    return role_id


def dead_letter_queue_ids(template: Template) -> dict[str, str]:
    """Logical id of every queue used as a dead-letter queue -> what it catches for."""
    found: dict[str, str] = {}
    for logical_id, queue in resources(template, "AWS::SQS::Queue").items():
        redrive = queue["Properties"].get("RedrivePolicy")
        if redrive:
            found[redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]] = f"queue {logical_id}"
    for logical_id, rule in resources(template, "AWS::Events::Rule").items():
        for target in rule["Properties"].get("Targets", []):
            if "DeadLetterConfig" in target:
                found[target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]] = f"rule {logical_id}"
    for logical_id, schedule in resources(template, "AWS::Scheduler::Schedule").items():
        config = schedule["Properties"]["Target"].get("DeadLetterConfig")
        if config:
            found[config["Arn"]["Fn::GetAtt"][0]] = f"schedule {logical_id}"
    for logical_id, mapping in resources(template, "AWS::Lambda::EventSourceMapping").items():
        on_failure = mapping["Properties"].get("DestinationConfig", {}).get("OnFailure")
        if on_failure:
            found[on_failure["Destination"]["Fn::GetAtt"][0]] = f"event source {logical_id}"
    return found


def alarms_on(template: Template, metric_name: str) -> list[dict[str, Any]]:
    """Single-metric alarms on this metric (their Properties)."""
    return [
        alarm["Properties"]
        for alarm in resources(template, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == metric_name
    ]


def dimension(alarm: dict[str, Any], name: str) -> Any:
    (value,) = [d["Value"] for d in alarm["Dimensions"] if d["Name"] == name]
    return value


def http_api_resources(template: Template, kind: str) -> Resources:
    """The HTTP API's resources of `kind` (`AWS::ApiGatewayV2::Api`, `Route`, `Stage`…): the stack also holds the
    WebSocket API, whose resources tests/infra/test_live_infra.py checks."""
    apis = resources(template, "AWS::ApiGatewayV2::Api")
    http_ids = {key for key, api in apis.items() if api["Properties"].get("ProtocolType") == "HTTP"}
    if kind == "AWS::ApiGatewayV2::Api":
        return {key: apis[key] for key in http_ids}
    return {
        key: found
        for key, found in resources(template, kind).items()
        if (found["Properties"].get("ApiId") or {}).get("Ref") in http_ids
    }


def only_http_api(template: Template, kind: str) -> tuple[str, dict[str, Any]]:
    found = http_api_resources(template, kind)
    assert len(found) == 1, f"expected one {kind} of the HTTP API, found {sorted(found)}"
    return next(iter(found.items()))


def invoked_function(template: Template, target: Any) -> str:
    """The logical id of the function whose `live` alias `target` (an ARN, a URI, a FunctionName) invokes.

    Triggers invoke the alias (SnapStart restores published versions only); a target naming the function itself
    (its `$LATEST`) or no alias fails here.
    """
    text = json.dumps(target)
    found = [
        alias["Properties"]["FunctionName"]["Ref"]
        for alias_id, alias in resources(template, "AWS::Lambda::Alias").items()
        if f'{{"Ref": "{alias_id}"}}' in text
    ]
    assert len(found) == 1, f"expected one function alias in {text}"
    return str(found[0])
