"""The synthesized CloudFormation template must express TOPOLOGY and ROUTES exactly, and stay least-privilege."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from infra.app import build_app
from infra.components.payments import PROVIDER_CALLING_API_GROUPS
from infra.stacks.slotwise_stack import SlotwiseStack, function_groups
from slotwise.api.routes import FALLBACK_GROUP, ROUTES
from slotwise.topology import TOPOLOGY, Topology
from tests.infra.support import (
    EXTENDED,
    QUEUE,
    RULE,
    SCHEDULE,
    actions_of_role,
    as_list,
    functions_by_group,
    http_api_resources,
    invoked_function,
    only,
    only_http_api,
    queue_by_name,
    resources,
    role_of,
    statements_of_role,
    synth_stack,
    table,
)


@pytest.fixture(scope="module")
def dev(layer_dir: Path) -> Template:
    return synth_stack("dev", layer_dir)


@pytest.fixture(scope="module")
def prod(layer_dir: Path) -> Template:
    return synth_stack("prod", layer_dir)


@pytest.fixture(scope="module")
def extended(layer_dir: Path, extended_functions_dir: Path) -> Template:
    return synth_stack("dev", layer_dir, topology=EXTENDED, functions_dir=extended_functions_dir)


@pytest.fixture(params=["dev", "prod", "extended"])
def any_template(request: pytest.FixtureRequest) -> Template:
    template: Template = request.getfixturevalue(request.param)
    return template


def key_schema(partition_key: str, sort_key: str) -> list[dict[str, str]]:
    return [{"AttributeName": partition_key, "KeyType": "HASH"}, {"AttributeName": sort_key, "KeyType": "RANGE"}]


# --- table ---------------------------------------------------------------------------------------------------------


def test_table_keys_and_indexes_match_topology(dev: Template) -> None:
    spec = TOPOLOGY.table
    _, resource = table(dev)
    props = resource["Properties"]
    assert props["KeySchema"] == key_schema(spec.partition_key, spec.sort_key)
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    indexes = {index["IndexName"]: index for index in props["GlobalSecondaryIndexes"]}
    assert set(indexes) == {index.name for index in spec.global_indexes}
    for index in spec.global_indexes:
        assert indexes[index.name]["KeySchema"] == key_schema(index.partition_key, index.sort_key)
        assert indexes[index.name]["Projection"] == {"ProjectionType": "ALL"}
    key_names = {spec.partition_key, spec.sort_key} | {
        name for index in spec.global_indexes for name in (index.partition_key, index.sort_key)
    }
    assert {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]} == dict.fromkeys(
        key_names, "S"
    )


def test_table_stream_ttl_and_point_in_time_recovery(dev: Template) -> None:
    _, resource = table(dev)
    props = resource["Properties"]
    assert props["StreamSpecification"] == {"StreamViewType": TOPOLOGY.table.stream_view}
    assert props["TimeToLiveSpecification"] == {"AttributeName": TOPOLOGY.table.ttl_attribute, "Enabled": True}
    (replica,) = props["Replicas"]
    assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


@pytest.mark.parametrize(("stage", "protected"), [("dev", False), ("prod", True)])
def test_only_prod_protects_its_data(stage: str, protected: bool, request: pytest.FixtureRequest) -> None:
    template: Template = request.getfixturevalue(stage)
    _, resource = table(template)
    (replica,) = resource["Properties"]["Replicas"]
    assert replica.get("DeletionProtectionEnabled", False) is protected
    assert resource["DeletionPolicy"] == ("Retain" if protected else "Delete")
    for log_group in resources(template, "AWS::Logs::LogGroup").values():
        assert log_group["DeletionPolicy"] == ("Retain" if protected else "Delete")


# --- functions -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("config", ["dev", "extended"])
def test_one_function_per_group_built_alike(config: str, request: pytest.FixtureRequest) -> None:
    template: Template = request.getfixturevalue(config)
    topology = EXTENDED if config == "extended" else TOPOLOGY
    table_id, _ = table(template)
    bus_id, _ = only(template, "AWS::Events::EventBus")
    layer_id, _ = only(template, "AWS::Lambda::LayerVersion")
    functions = functions_by_group(template)
    assert sorted(functions) == function_groups(topology, ROUTES, FALLBACK_GROUP)
    consumers = {queue.consumer_group for queue in topology.queues}
    for group, (_, props) in functions.items():
        assert props["Architectures"] == ["arm64"]
        assert props["Runtime"] == "python3.13"
        assert props["Handler"] == "handler.lambda_handler"
        assert props["MemorySize"] == (1769 if group == "auth" else 512)  # auth: scrypt's 128 MiB and a full vCPU
        expected = 30 if group in consumers else 25 if group in PROVIDER_CALLING_API_GROUPS else 10
        assert props["Timeout"] == expected
        assert props["Layers"] == [{"Ref": layer_id}]
        assert props["LoggingConfig"]["LogGroup"]["Ref"] in resources(template, "AWS::Logs::LogGroup")
        env = props["Environment"]["Variables"]
        assert env["SLOTWISE_TABLE_NAME"] == {"Ref": table_id}
        assert env["SLOTWISE_EVENT_BUS_NAME"] == {"Ref": bus_id}
        assert env["SLOTWISE_STAGE"] == "dev"
        assert env["POWERTOOLS_SERVICE_NAME"] == "slotwise"
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Slotwise"
        assert env["POWERTOOLS_LOG_LEVEL"] == "INFO"


def test_log_groups_keep_logs_one_month(any_template: Template) -> None:
    log_groups = resources(any_template, "AWS::Logs::LogGroup")
    assert log_groups
    assert {lg["Properties"]["RetentionInDays"] for lg in log_groups.values()} == {30}


def test_event_bus_name_carries_the_stage(dev: Template, prod: Template) -> None:
    assert only(dev, "AWS::Events::EventBus")[1]["Properties"]["Name"] == f"{TOPOLOGY.event_bus_name}-dev"
    assert only(prod, "AWS::Events::EventBus")[1]["Properties"]["Name"] == f"{TOPOLOGY.event_bus_name}-prod"


# --- IAM -----------------------------------------------------------------------------------------------------------


def test_no_policy_grants_everything(any_template: Template) -> None:
    policies = resources(any_template, "AWS::IAM::Policy")
    assert policies
    for logical_id, policy in policies.items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert "*" not in as_list(statement["Resource"]), f"{logical_id}: {statement}"
            assert "*" not in as_list(statement["Action"]), f"{logical_id}: {statement}"


def test_health_may_only_get_one_item(dev: Template) -> None:
    actions = actions_of_role(dev, role_of(dev, "health"))
    assert {a for a in actions if not a.startswith("logs:")} == {"dynamodb:GetItem"}


def test_functions_write_only_their_own_log_group(dev: Template) -> None:
    managed = [role["Properties"].get("ManagedPolicyArns") for role in resources(dev, "AWS::IAM::Role").values()]
    assert managed == [None] * len(managed), "no managed policy (AWSLambdaBasicExecutionRole reaches every log group)"
    for group, (_, props) in functions_by_group(dev).items():
        log_group = props["LoggingConfig"]["LogGroup"]["Ref"]
        statements = statements_of_role(dev, role_of(dev, group))
        logs = [s for s in statements if any(a.startswith("logs:") for a in as_list(s["Action"]))]
        assert logs == [
            {
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [log_group, "Arn"]},
            }
        ], group


def test_writer_groups_may_write_and_publish(extended: Template) -> None:
    actions = actions_of_role(extended, role_of(extended, SCHEDULE.group))
    assert {"dynamodb:PutItem", "dynamodb:UpdateItem", "events:PutEvents"} <= actions


# --- HTTP API ------------------------------------------------------------------------------------------------------


def _route_groups(template: Template) -> dict[str, str]:
    """Route key -> group of the function its integration invokes."""
    integrations = http_api_resources(template, "AWS::ApiGatewayV2::Integration")
    group_of_function = {logical_id: group for group, (logical_id, _) in functions_by_group(template).items()}
    routes = {}
    for route in http_api_resources(template, "AWS::ApiGatewayV2::Route").values():
        target = route["Properties"]["Target"]["Fn::Join"][1]
        assert target[0] == "integrations/"
        integration = integrations[target[1]["Ref"]]["Properties"]
        assert integration["IntegrationType"] == "AWS_PROXY"
        assert integration["PayloadFormatVersion"] == "2.0"
        function_id = invoked_function(template, integration["IntegrationUri"])
        routes[route["Properties"]["RouteKey"]] = group_of_function[function_id]
    return routes


def test_routes_are_exactly_the_route_table_plus_default(dev: Template) -> None:
    routes = _route_groups(dev)
    assert set(routes) == {f"{r.method} {r.path}" for r in ROUTES} | {"$default"}
    for route in ROUTES:
        assert routes[route.route_key] == route.group
    assert routes["$default"] == FALLBACK_GROUP


def test_default_stage_is_throttled_and_logged(dev: Template) -> None:
    _, stage = only_http_api(dev, "AWS::ApiGatewayV2::Stage")
    props = stage["Properties"]
    assert props["StageName"] == "$default"
    assert props["AutoDeploy"] is True
    assert props["DefaultRouteSettings"] == {"ThrottlingBurstLimit": 200, "ThrottlingRateLimit": 100}
    log_group_id = props["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0]
    assert log_group_id in resources(dev, "AWS::Logs::LogGroup")
    assert "$context.requestId" in props["AccessLogSettings"]["Format"]


def test_outputs(dev: Template) -> None:
    outputs = dev.find_outputs("*")
    table_id, _ = table(dev)
    bus_id, _ = only(dev, "AWS::Events::EventBus")
    assert outputs["TableName"]["Value"] == {"Ref": table_id}
    assert outputs["EventBusName"]["Value"] == {"Ref": bus_id}
    assert "execute-api" in str(outputs["ApiUrl"]["Value"])


# --- queues, rules, schedules --------------------------------------------------------------------------------------


def test_queue_has_dlq_with_redrive(extended: Template) -> None:
    _, queue = queue_by_name(extended, f"{QUEUE.name}-dev")
    dlq_id, dlq = queue_by_name(extended, f"{QUEUE.dlq_name}-dev")
    assert queue["Properties"]["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
        "maxReceiveCount": QUEUE.max_receive_count,
    }
    assert queue["Properties"]["VisibilityTimeout"] == QUEUE.visibility_timeout_seconds
    assert dlq["Properties"]["MessageRetentionPeriod"] == QUEUE.dlq_retention_days * 24 * 3600


def test_every_work_queue_has_a_redrive_policy_and_all_are_encrypted(extended: Template) -> None:
    queues = resources(extended, "AWS::SQS::Queue")
    assert len(queues) == 4  # work queue, its DLQ, the rule target's DLQ, the schedule's DLQ
    for queue in queues.values():
        props = queue["Properties"]
        assert props["SqsManagedSseEnabled"] is True
        if "-dlq" not in props["QueueName"]:
            assert "RedrivePolicy" in props, props["QueueName"]


def test_every_queue_refuses_plaintext_transport(extended: Template) -> None:
    denied: set[str] = set()
    for policy in resources(extended, "AWS::SQS::QueuePolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Deny" and statement.get("Condition") == {
                "Bool": {"aws:SecureTransport": "false"}
            }:
                denied.update(ref["Ref"] for ref in policy["Properties"]["Queues"])
    assert denied == set(resources(extended, "AWS::SQS::Queue"))


def test_consumer_polls_its_queue_with_partial_batch_failures(extended: Template) -> None:
    queue_id, _ = queue_by_name(extended, f"{QUEUE.name}-dev")
    function_id, _ = functions_by_group(extended)[QUEUE.consumer_group]
    _, mapping = only(extended, "AWS::Lambda::EventSourceMapping")
    props = mapping["Properties"]
    assert props["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert invoked_function(extended, props["FunctionName"]) == function_id
    assert props["BatchSize"] == QUEUE.batch_size
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_rule_routes_bus_events_to_queue(extended: Template) -> None:
    queue_id, _ = queue_by_name(extended, f"{QUEUE.name}-dev")
    bus_id, _ = only(extended, "AWS::Events::EventBus")
    _, rule = only(extended, "AWS::Events::Rule")
    props = rule["Properties"]
    assert props["Name"] == f"{RULE.name}-dev"
    assert props["EventBusName"] == {"Ref": bus_id}
    assert props["EventPattern"] == {"source": list(RULE.sources), "detail-type": list(RULE.detail_types)}
    (target,) = props["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [queue_id, "Arn"]}


def test_schedule_invokes_its_group_with_a_dlq(extended: Template) -> None:
    function_id, _ = functions_by_group(extended)[SCHEDULE.group]
    dlq_id, _ = queue_by_name(extended, f"{SCHEDULE.name}-schedule-dlq-dev")
    _, schedule = only(extended, "AWS::Scheduler::Schedule")
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == "rate(5 minutes)"
    assert props["Name"] == f"{SCHEDULE.name}-dev"
    assert props["State"] == "ENABLED"
    assert invoked_function(extended, props["Target"]["Arn"]) == function_id
    assert props["Target"]["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq_id, "Arn"]}}


def test_visibility_timeout_shorter_than_six_consumer_timeouts_is_refused(
    layer_dir: Path, extended_functions_dir: Path
) -> None:
    short = replace(QUEUE, visibility_timeout_seconds=60)
    topology: Topology = replace(EXTENDED, queues=(short,))
    with pytest.raises(ValueError, match="visibility timeout"):
        SlotwiseStack(
            cdk.App(),
            "Short",
            stage="dev",
            layer_dir=layer_dir,
            topology=topology,
            functions_dir=extended_functions_dir,
        )


def test_missing_function_code_is_named(layer_dir: Path) -> None:
    with pytest.raises(ValueError, match=r"\['housekeeping'"):
        SlotwiseStack(cdk.App(), "Missing", stage="dev", layer_dir=layer_dir, topology=EXTENDED)


def test_missing_layer_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"infra\.layer_build"):
        SlotwiseStack(cdk.App(), "NoLayer", stage="dev", layer_dir=tmp_path)


# --- app -----------------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("no_cdk_context")
@pytest.mark.parametrize(
    ("context", "stack_name", "protected"), [({}, "Slotwise-dev", False), ({"stage": "prod"}, "Slotwise-prod", True)]
)
def test_app_builds_the_stage_from_context(
    app_dirs: dict[str, str], context: dict[str, str], stack_name: str, protected: bool
) -> None:
    app = build_app({**context, **app_dirs})
    stack = app.node.find_child(stack_name)
    assert isinstance(stack, SlotwiseStack)
    assert stack.termination_protection is protected


@pytest.mark.usefixtures("no_cdk_context")
def test_app_rejects_unknown_stage(app_dirs: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="unknown stage"):
        build_app({"stage": "staging", **app_dirs})


def test_cdk_cli_is_pinned_to_a_release_that_reads_this_library() -> None:
    # npm's `latest` (3.x) refuses aws-cdk-lib 2.275's cloud assembly; 2.1148.x reads it (make synth runs this CLI).
    package = json.loads((Path(__file__).resolve().parents[2] / "infra" / "package.json").read_text())
    assert package["dependencies"]["aws-cdk"] == "2.1148.1"


def test_jwt_signing_key_is_a_generated_secret_caller_reading_functions_may_read(dev: Template) -> None:
    # The stack has other secrets too (Stripe's, infra/components/payments.py): this one signs access tokens.
    ((secret_id, secret),) = [
        (logical_id, found)
        for logical_id, found in resources(dev, "AWS::SecretsManager::Secret").items()
        if "HS256" in found["Properties"].get("Description", "")
    ]
    assert secret["Properties"]["GenerateSecretString"]["PasswordLength"] == 64
    by_group = functions_by_group(dev)
    for group in ("bookings", "auth", "admin", "catalog", "availability"):
        _, properties = by_group[group]
        assert properties["Environment"]["Variables"]["SLOTWISE_JWT_SECRET_ARN"] == {"Ref": secret_id}
        actions = actions_of_role(dev, role_of(dev, group))
        assert "secretsmanager:GetSecretValue" in actions
    assert "secretsmanager:GetSecretValue" not in actions_of_role(dev, role_of(dev, "health"))
