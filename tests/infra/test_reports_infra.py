"""The report aggregator in the real topology: its queue (with DLQ), the rule that feeds it every booking change
(not reminders), and its partial-batch event source; the report routes on API Gateway."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk.assertions import Template

from slotwise.topology import TOPOLOGY
from tests.infra.support import functions_by_group, invoked_function, queue_by_name, resources, synth_stack

QUEUE = TOPOLOGY.queue("reports")
(RULE,) = [rule for rule in TOPOLOGY.rules if rule.target_queue == QUEUE.name]


@pytest.fixture(scope="module")
def dev(layer_dir: Path) -> Template:
    return synth_stack("dev", layer_dir)


def test_every_booking_change_reaches_the_report_aggregator(dev: Template) -> None:
    assert QUEUE.consumer_group == "report_aggregates"
    assert {"booking.confirmed", "booking.cancelled", "booking.rescheduled", "booking.no_show"} <= set(
        RULE.detail_types
    )
    assert "booking.reminder" not in RULE.detail_types
    assert "payment.refund_failed" in RULE.detail_types  # a card refund credited to the wallet instead
    queue_id, queue = queue_by_name(dev, f"{QUEUE.name}-dev")
    dlq_id, _ = queue_by_name(dev, f"{QUEUE.dlq_name}-dev")
    assert queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": [dlq_id, "Arn"]}
    (rule,) = [
        r["Properties"]
        for r in resources(dev, "AWS::Events::Rule").values()
        if r["Properties"]["Name"] == f"{RULE.name}-dev"
    ]
    assert [t["Arn"] for t in rule["Targets"]] == [{"Fn::GetAtt": [queue_id, "Arn"]}]
    function_id, _ = functions_by_group(dev)["report_aggregates"]
    (mapping,) = [
        m["Properties"]
        for m in resources(dev, "AWS::Lambda::EventSourceMapping").values()
        if invoked_function(dev, m["Properties"]["FunctionName"]) == function_id  # its `live` alias
    ]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_report_routes_are_served_by_their_function(dev: Template) -> None:
    keys = {r["Properties"]["RouteKey"] for r in resources(dev, "AWS::ApiGatewayV2::Route").values()}
    assert {"GET /api/v1/reports/occupancy", "GET /api/v1/reports/revenue"} <= keys
    assert "reports" in functions_by_group(dev)
