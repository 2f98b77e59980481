"""Nothing fails silently: every rule target and schedule has a dead-letter queue, every DLQ an alarm, every function
error and throttle alarms, and the dashboard shows the API, the functions, DynamoDB and the queues."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from slotwise.topology import TOPOLOGY
from tests.infra.support import (
    EXTENDED,
    RULE,
    SCHEDULE,
    alarms_on,
    dead_letter_queue_ids,
    dimension,
    functions_by_group,
    only,
    queue_by_name,
    resources,
    synth_stack,
    table,
)


@pytest.fixture(scope="module")
def extended(layer_dir: Path, extended_functions_dir: Path) -> Template:
    return synth_stack("dev", layer_dir, topology=EXTENDED, functions_dir=extended_functions_dir)


@pytest.fixture(scope="module")
def dev(layer_dir: Path) -> Template:
    return synth_stack("dev", layer_dir)


@pytest.fixture(params=["dev", "extended"])
def template(request: pytest.FixtureRequest) -> Template:
    found: Template = request.getfixturevalue(request.param)
    return found


def _topic(template: Template) -> str:
    topic_id, _ = only(template, "AWS::SNS::Topic")
    return topic_id


# --- dead-letter queues --------------------------------------------------------------------------------------------


def test_every_rule_target_has_a_dead_letter_queue(extended: Template) -> None:
    rules = resources(extended, "AWS::Events::Rule")
    assert rules
    queues = resources(extended, "AWS::SQS::Queue")
    for logical_id, rule in rules.items():
        for target in rule["Properties"]["Targets"]:
            dlq_id = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
            assert dlq_id in queues, logical_id
            assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
    dlq_id, _ = queue_by_name(extended, f"{RULE.name}-rule-dlq-dev")
    assert dead_letter_queue_ids(extended)[dlq_id].startswith("rule ")


def test_rule_dead_letter_queue_accepts_only_its_rule(extended: Template) -> None:
    dlq_id, _ = queue_by_name(extended, f"{RULE.name}-rule-dlq-dev")
    rule_id, _ = only(extended, "AWS::Events::Rule")
    grants = [
        {key: value for key, value in statement.items() if key != "Sid"}
        for policy in resources(extended, "AWS::SQS::QueuePolicy").values()
        if {"Ref": dlq_id} in policy["Properties"]["Queues"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Allow"
    ]
    assert grants == [
        {
            "Action": "sqs:SendMessage",
            "Condition": {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}},
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Resource": {"Fn::GetAtt": [dlq_id, "Arn"]},
        }
    ]


def test_every_queue_is_a_dead_letter_queue_or_has_one(template: Template) -> None:
    dlqs = dead_letter_queue_ids(template)
    for logical_id, queue in resources(template, "AWS::SQS::Queue").items():
        assert logical_id in dlqs or "RedrivePolicy" in queue["Properties"], queue["Properties"]["QueueName"]


def test_work_queues_redrive_after_their_receives_and_outlast_their_consumer(extended: Template) -> None:
    for queue in resources(extended, "AWS::SQS::Queue").values():
        redrive = queue["Properties"].get("RedrivePolicy")
        if redrive:
            assert redrive["maxReceiveCount"] <= 5
            assert queue["Properties"]["VisibilityTimeout"] >= 6 * 30


# --- alarms --------------------------------------------------------------------------------------------------------


def test_every_dead_letter_queue_has_an_alarm(template: Template) -> None:
    dlqs = dead_letter_queue_ids(template)
    assert dlqs
    alarmed = {
        dimension(alarm, "QueueName")["Fn::GetAtt"][0]: alarm
        for alarm in alarms_on(template, "ApproximateNumberOfMessagesVisible")
    }
    assert set(alarmed) == set(dlqs)
    for alarm in alarmed.values():
        assert alarm["Threshold"] == 1
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["Statistic"] == "Maximum"


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_alarms_on_errors_and_throttles(template: Template, metric: str) -> None:
    alarmed = {dimension(alarm, "FunctionName")["Ref"] for alarm in alarms_on(template, metric)}
    assert alarmed >= {logical_id for logical_id, _ in functions_by_group(template).values()}


def test_api_5xx_rate_alarm(dev: Template) -> None:
    (alarm,) = [
        a["Properties"]
        for a in resources(dev, "AWS::CloudWatch::Alarm").values()
        if "5xx" in json.dumps(a["Properties"].get("Metrics", []))
    ]
    metrics = {m["Id"]: m for m in alarm["Metrics"]}
    assert metrics["errors"]["MetricStat"]["Metric"]["MetricName"] == "5xx"
    assert metrics["requests"]["MetricStat"]["Metric"]["MetricName"] == "Count"
    (expression,) = [m for m in alarm["Metrics"] if "Expression" in m]
    assert "errors / requests" in expression["Expression"]
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_suspected_password_sprays_alarm(dev: Template) -> None:
    (alarm,) = alarms_on(dev, "LoginSpraySuspected")
    assert alarm["Namespace"] == "Slotwise"
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "slotwise"}]
    assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == ("Sum", 300, 20)
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"


def test_dynamodb_throttle_alarms_cover_the_table_and_every_index(dev: Template) -> None:
    """The table and its indexes exceed CloudWatch's 10 metrics per expression: one alarm for the table, one per
    five indexes; together they watch every read and write throttle metric exactly once."""
    table_id, _ = table(dev)
    alarms = [
        a["Properties"]
        for a in resources(dev, "AWS::CloudWatch::Alarm").values()
        if "ThrottleEvents" in json.dumps(a["Properties"].get("Metrics", []))
    ]
    assert len(alarms) == 1 + -(-len(TOPOLOGY.table.global_indexes) // 5)
    watched: list[tuple[str, str | None]] = []
    for alarm in alarms:
        stats = [m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m]
        assert len(stats) <= 10
        for stat in stats:
            dims = {d["Name"]: d["Value"] for d in stat["Dimensions"]}
            assert dims["TableName"] == {"Ref": table_id}
            watched.append((stat["MetricName"], dims.get("GlobalSecondaryIndexName")))
    assert len(watched) == len(set(watched))
    indexes = [None, *(index.name for index in TOPOLOGY.table.global_indexes)]
    assert set(watched) == {(f"{kind}ThrottleEvents", index) for kind in ("Read", "Write") for index in indexes}


def test_scheduled_job_alarms_on_repeated_failure_and_on_not_running(extended: Template) -> None:
    function_id, _ = functions_by_group(extended)[SCHEDULE.group]
    failing = [a for a in alarms_on(extended, "Errors") if dimension(a, "FunctionName") == {"Ref": function_id}]
    # One per function (any error) and one for the job (3 failed runs of 5, one period per run).
    assert sorted((a["Period"], a.get("DatapointsToAlarm", 1), a["EvaluationPeriods"]) for a in failing) == [
        (300, 1, 1),
        (300, 3, 5),
    ]
    (not_running,) = [
        a for a in alarms_on(extended, "Invocations") if dimension(a, "FunctionName") == {"Ref": function_id}
    ]
    assert not_running["ComparisonOperator"] == "LessThanThreshold"
    assert not_running["TreatMissingData"] == "breaching"
    assert not_running["Period"] == 5 * SCHEDULE.every_seconds


def test_every_alarm_notifies_the_alarm_topic_and_its_recovery(template: Template) -> None:
    topic = {"Ref": _topic(template)}
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    assert len(alarms) >= 2 * len(functions_by_group(template)) + 3  # API 5xx, table throttles, sprays
    for logical_id, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [topic], logical_id
        assert alarm["Properties"]["OKActions"] == [topic], logical_id


def test_alarm_topic_refuses_plaintext(dev: Template) -> None:
    _, policy = only(dev, "AWS::SNS::TopicPolicy")
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_alarm_email_subscribes_to_the_topic(layer_dir: Path) -> None:
    template = synth_stack("dev", layer_dir, alarm_email="oncall@example.com")
    _, subscription = only(template, "AWS::SNS::Subscription")
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == "oncall@example.com"
    assert subscription["Properties"]["TopicArn"] == {"Ref": _topic(template)}


# --- dashboard -----------------------------------------------------------------------------------------------------


def _dashboard_text(template: Template) -> str:
    _, dashboard = only(template, "AWS::CloudWatch::Dashboard")
    body: Any = dashboard["Properties"]["DashboardBody"]
    return json.dumps(body)


def test_one_dashboard_shows_api_functions_dynamodb_and_queues(extended: Template) -> None:
    text = _dashboard_text(extended)
    for namespace in ("AWS/ApiGateway", "AWS/Lambda", "AWS/DynamoDB", "AWS/SQS"):
        assert namespace in text, namespace
    for section in ("## API", "## Functions", "## DynamoDB", "## Queues"):
        assert section in text, section
    for logical_id, _ in functions_by_group(extended).values():
        assert logical_id in text
    assert "ApproximateAgeOfOldestMessage" in text
    assert "alarm" in text.lower()


def test_the_table_stream_feeds_the_publisher_with_a_dead_letter_queue(dev: Template) -> None:
    (mapping,) = [
        m["Properties"]
        for m in resources(dev, "AWS::Lambda::EventSourceMapping").values()
        if "StartingPosition" in m["Properties"]
    ]
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == 10
    assert "OnFailure" in mapping["DestinationConfig"]
    (pattern,) = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
    assert pattern["dynamodb"]["Keys"]["SK"]["S"] == ["BOOKING", "RESOURCE", "PAYMENT", "REFUND", "REVIEW", "NOTICE"]
