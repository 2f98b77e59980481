"""Live push in the real topology: the WebSocket API (routes, route responses, stage, access logs), the `live`
queue with its DLQ and the rule that feeds it, the pusher's partial-batch event source, its endpoint setting, and
`execute-api:ManageConnections` for the pusher alone, on this API's stage alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from slotwise.events.catalogue import LIVE_EVENT_TYPES
from slotwise.topology import TOPOLOGY
from tests.infra.support import (
    as_list,
    functions_by_group,
    invoked_function,
    queue_by_name,
    resources,
    role_of,
    statements_of_role,
    synth_stack,
)

SPEC = TOPOLOGY.websocket
QUEUE = TOPOLOGY.queue("live")
(RULE,) = [rule for rule in TOPOLOGY.rules if rule.target_queue == QUEUE.name]


@pytest.fixture(scope="module")
def dev(layer_dir: Path) -> Template:
    return synth_stack("dev", layer_dir)


def websocket_api(template: Template) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (k, v["Properties"])
        for k, v in resources(template, "AWS::ApiGatewayV2::Api").items()
        if v["Properties"].get("ProtocolType") == "WEBSOCKET"
    ]
    return found


def test_the_websocket_api_routes_every_action_to_the_live_function(dev: Template) -> None:
    assert SPEC is not None
    api_id, api = websocket_api(dev)
    assert api["RouteSelectionExpression"] == "$request.body.action"
    assert api["Name"] == "slotwise-live-dev"
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in resources(dev, "AWS::ApiGatewayV2::Route").values()
        if r["Properties"]["ApiId"] == {"Ref": api_id}
    }
    assert set(routes) == {"$connect", "$disconnect", "$default", "subscribe", "unsubscribe"}
    function_id, _ = functions_by_group(dev)[SPEC.group]
    integrations = {
        k: v["Properties"]
        for k, v in resources(dev, "AWS::ApiGatewayV2::Integration").items()
        if v["Properties"]["ApiId"] == {"Ref": api_id}
    }
    for key, route in routes.items():
        integration_id = route["Target"]["Fn::Join"][1][-1]["Ref"]
        assert invoked_function(dev, integrations[integration_id]["IntegrationUri"]) == function_id, key
        # The function authenticates $connect itself (the token may come as a subprotocol a gateway cannot answer).
        assert route.get("AuthorizationType", "NONE") == "NONE"
    answered = {
        r["Properties"]["RouteId"]["Ref"]
        for r in resources(dev, "AWS::ApiGatewayV2::RouteResponse").values()
        if r["Properties"]["ApiId"] == {"Ref": api_id}
    }
    route_ids = {
        r["Properties"]["RouteKey"]: k
        for k, r in resources(dev, "AWS::ApiGatewayV2::Route").items()
        if r["Properties"]["ApiId"] == {"Ref": api_id}
    }
    assert answered == {route_ids[key] for key in ("subscribe", "unsubscribe", "$default")}
    # Lambda lets API Gateway invoke the function.
    permissions = [
        p["Properties"]
        for p in resources(dev, "AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "apigateway.amazonaws.com"
        and invoked_function(dev, p["Properties"]["FunctionName"]) == function_id
    ]
    assert permissions


def test_the_stage_is_throttled_and_logs_access(dev: Template) -> None:
    api_id, _ = websocket_api(dev)
    (stage,) = [
        s["Properties"]
        for s in resources(dev, "AWS::ApiGatewayV2::Stage").values()
        if s["Properties"]["ApiId"] == {"Ref": api_id}
    ]
    assert stage["StageName"] == "dev"
    assert stage["AutoDeploy"] is True
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    assert "$context.connectionId" in stage["AccessLogSettings"]["Format"]
    assert "WebSocketUrl" in dev.to_json()["Outputs"]


def test_events_reach_the_live_queue_and_its_consumer_with_a_dlq_on_each_path(dev: Template) -> None:
    assert QUEUE.consumer_group == "live_push"
    assert set(RULE.detail_types) == set(LIVE_EVENT_TYPES)
    assert {"booking.confirmed", "booking.cancelled", "booking.updated", "payment.succeeded"} <= set(LIVE_EVENT_TYPES)
    assert "booking.reminder" not in LIVE_EVENT_TYPES
    queue_id, queue = queue_by_name(dev, "live-dev")
    dlq_id, _ = queue_by_name(dev, "live-dlq-dev")
    assert queue["Properties"]["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
        "maxReceiveCount": QUEUE.max_receive_count,
    }
    (rule,) = [
        r["Properties"]
        for r in resources(dev, "AWS::Events::Rule").values()
        if r["Properties"]["Name"] == f"{RULE.name}-dev"
    ]
    assert rule["EventPattern"] == {"source": ["slotwise"], "detail-type": list(RULE.detail_types)}
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    rule_dlq_id, _ = queue_by_name(dev, f"{RULE.name}-rule-dlq-dev")
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": [rule_dlq_id, "Arn"]}
    function_id, _ = functions_by_group(dev)["live_push"]
    (mapping,) = [
        m["Properties"]
        for m in resources(dev, "AWS::Lambda::EventSourceMapping").values()
        if invoked_function(dev, m["Properties"]["FunctionName"]) == function_id
    ]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_only_the_pusher_manages_connections_and_only_of_this_stage(dev: Template) -> None:
    api_id, _ = websocket_api(dev)
    for group in functions_by_group(dev):
        statements = [
            s
            for s in statements_of_role(dev, role_of(dev, group))
            if any(str(action).startswith("execute-api:") for action in as_list(s["Action"]))
        ]
        if group != "live_push":
            assert statements == [], group
            continue
        (statement,) = statements
        assert as_list(statement["Action"]) == ["execute-api:ManageConnections"]
        (resource,) = as_list(statement["Resource"])
        parts = resource["Fn::Join"][1]
        assert {"Ref": api_id} in parts
        assert parts[-1] == "/dev/*/@connections/*"
    _, pusher = functions_by_group(dev)["live_push"]
    endpoint = json.dumps(pusher["Environment"]["Variables"]["SLOTWISE_LIVE_ENDPOINT_URL"])
    assert api_id in endpoint and endpoint.endswith('"/dev"]]}')


def test_the_live_function_reads_tokens_and_the_table_but_sends_nothing(dev: Template) -> None:
    assert SPEC is not None
    actions = {
        action
        for statement in statements_of_role(dev, role_of(dev, SPEC.group))
        for action in as_list(statement["Action"])
    }
    assert "secretsmanager:GetSecretValue" in actions  # the JWT signing key
    assert {"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"} <= actions  # connections and counts
    assert not any(a.startswith(("execute-api:", "sqs:SendMessage", "ses:")) for a in actions)
