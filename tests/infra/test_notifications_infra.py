"""The notifier in the real topology: its queue (with DLQ), the rule that feeds it every booking event, its partial
batch event source, and SES sending only for the notifier, only as the configured sender."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk.assertions import Template

from slotwise.settings import Settings
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

QUEUE = TOPOLOGY.queue("notifications")
(RULE,) = [rule for rule in TOPOLOGY.rules if rule.target_queue == QUEUE.name]


@pytest.fixture(scope="module")
def dev(layer_dir: Path) -> Template:
    return synth_stack("dev", layer_dir)


def test_every_booking_event_reaches_the_notifications_queue(dev: Template) -> None:
    assert QUEUE.consumer_group == "notifier"
    assert {"booking.confirmed", "booking.cancelled", "booking.rescheduled", "booking.reminder"} <= set(
        RULE.detail_types
    )
    queue_id, queue = queue_by_name(dev, f"{QUEUE.name}-dev")
    dlq_id, _ = queue_by_name(dev, f"{QUEUE.dlq_name}-dev")
    assert queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": [dlq_id, "Arn"]}
    (rule,) = [
        r["Properties"]
        for r in resources(dev, "AWS::Events::Rule").values()
        if r["Properties"]["Name"] == f"{RULE.name}-dev"
    ]
    assert rule["EventPattern"] == {"source": ["slotwise"], "detail-type": list(RULE.detail_types)}
    assert [t["Arn"] for t in rule["Targets"]] == [{"Fn::GetAtt": [queue_id, "Arn"]}]
    function_id, _ = functions_by_group(dev)["notifier"]
    (mapping,) = [
        m["Properties"]
        for m in resources(dev, "AWS::Lambda::EventSourceMapping").values()
        if invoked_function(dev, m["Properties"]["FunctionName"]) == function_id
    ]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_only_the_mail_senders_send_email_and_only_as_the_sender(dev: Template) -> None:
    """The notifier (booking mail), and auth and admin (set-password and reset links, sent from the request)."""
    sender = Settings.model_fields["email_from"].default
    for group in functions_by_group(dev):
        ses = [s for s in statements_of_role(dev, role_of(dev, group)) if "ses:SendRawEmail" in as_list(s["Action"])]
        if group not in ("notifier", "auth", "admin"):
            assert ses == [], group
            continue
        (statement,) = ses
        assert as_list(statement["Action"]) == ["ses:SendRawEmail"]
        # Each resource is `arn:<partition>:ses:<region>:<account>:identity/<name>`, joined by CloudFormation.
        names = [resource["Fn::Join"][1][-1].removeprefix(":identity/") for resource in as_list(statement["Resource"])]
        assert sorted(names) == sorted([sender, sender.split("@")[1]])
