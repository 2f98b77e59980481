"""The Slotwise stack: table, event bus, queues, schedules, functions and HTTP API, all derived from
`slotwise.topology.TOPOLOGY` and `slotwise.api.routes.ROUTES` so nothing here can drift from the code.

The stack is environment-agnostic: it makes no AWS call at synth time and works offline.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk.aws_lambda_event_sources import SqsEventSource
from constructs import Construct

from infra.components.group_function import (
    API_TIMEOUT,
    ARCHITECTURE,
    QUEUE_CONSUMER_TIMEOUT,
    RUNTIME,
    GroupFunction,
    missing_groups,
)
from infra.components.http_api import SlotwiseHttpApi
from infra.components.queues import QueueWithDlq
from infra.components.schedule import GroupSchedule
from infra.components.table import single_table
from slotwise.api import routes as api_routes
from slotwise.topology import TOPOLOGY, Topology

Stage = Literal["dev", "prod"]
STAGES: tuple[Stage, ...] = ("dev", "prod")

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"
# Groups whose code only reads the table; every other group may write it and publish events.
READ_ONLY_GROUPS = frozenset({"health"})


def stage_name(name: str, stage: Stage) -> str:
    """Physical name of a named resource: dev and prod may share an account, so names carry the stage."""
    return f"{name}-{stage}"


def pascal(name: str) -> str:
    """`booking-reminders` -> `BookingReminders`, for readable construct ids and logical ids."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)


def function_groups(topology: Topology, routes: tuple[api_routes.Route, ...], fallback_group: str) -> list[str]:
    """Every group that needs a function: API routes, the API fallback, queue consumers and scheduled jobs."""
    return sorted(
        {
            *api_routes.groups(routes),
            fallback_group,
            *(queue.consumer_group for queue in topology.queues),
            *(schedule.group for schedule in topology.schedules),
        }
    )


class SlotwiseStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: Stage,
        layer_dir: str | Path,
        topology: Topology = TOPOLOGY,
        routes: tuple[api_routes.Route, ...] = api_routes.ROUTES,
        fallback_group: str = api_routes.FALLBACK_GROUP,
        functions_dir: Path = FUNCTIONS_DIR,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        groups = function_groups(topology, routes, fallback_group)
        _check_inputs(topology, groups, Path(layer_dir), functions_dir)
        prod = stage == "prod"
        removal_policy = RemovalPolicy.RETAIN if prod else RemovalPolicy.DESTROY

        self.table = single_table(self, "Table", topology.table, protect=prod)
        self.event_bus = events.EventBus(self, "EventBus", event_bus_name=stage_name(topology.event_bus_name, stage))
        layer = lambda_.LayerVersion(
            self,
            "SharedLayer",
            description="slotwise package and its runtime dependencies",
            code=lambda_.Code.from_asset(str(layer_dir)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
        )

        environment = {
            "SLOTWISE_STAGE": stage,
            "SLOTWISE_TABLE_NAME": self.table.table_name,
            "SLOTWISE_EVENT_BUS_NAME": self.event_bus.event_bus_name,
            "POWERTOOLS_SERVICE_NAME": "slotwise",
            "POWERTOOLS_METRICS_NAMESPACE": "Slotwise",
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }
        consumer_groups = {queue.consumer_group for queue in topology.queues}
        self.functions: dict[str, lambda_.Function] = {}
        for group in groups:
            built = GroupFunction(
                self,
                f"{pascal(group)}Function",
                group=group,
                functions_dir=functions_dir,
                layer=layer,
                environment=environment,
                timeout=QUEUE_CONSUMER_TIMEOUT if group in consumer_groups else API_TIMEOUT,
                removal_policy=removal_policy,
            )
            if group in READ_ONLY_GROUPS:
                self.table.grant_read_data(built.function)
            else:
                self.table.grant_read_write_data(built.function)
                self.event_bus.grant_put_events_to(built.function)
            self.functions[group] = built.function

        self.queues: dict[str, QueueWithDlq] = {}
        for spec in topology.queues:
            queue = QueueWithDlq(
                self,
                f"{pascal(spec.name)}Queue",
                spec=spec,
                queue_name=stage_name(spec.name, stage),
                dlq_name=stage_name(spec.dlq_name, stage),
                consumer_timeout=QUEUE_CONSUMER_TIMEOUT,
            )
            # Partial batch responses: one poison message must not send its healthy batch-mates to retry.
            self.functions[spec.consumer_group].add_event_source(
                SqsEventSource(queue.queue, batch_size=spec.batch_size, report_batch_item_failures=True)
            )
            self.queues[spec.name] = queue

        for rule in topology.rules:
            events.Rule(
                self,
                f"{pascal(rule.name)}Rule",
                rule_name=stage_name(rule.name, stage),
                event_bus=self.event_bus,
                event_pattern=events.EventPattern(source=list(rule.sources), detail_type=list(rule.detail_types)),
                targets=[events_targets.SqsQueue(self.queues[rule.target_queue].queue)],
            )

        for schedule in topology.schedules:
            GroupSchedule(
                self,
                f"{pascal(schedule.name)}Schedule",
                spec=schedule,
                schedule_name=stage_name(schedule.name, stage),
                dlq_name=stage_name(f"{schedule.name}-schedule-dlq", stage),
                function=self.functions[schedule.group],
            )

        self.http_api = SlotwiseHttpApi(
            self,
            "HttpApi",
            api_name=stage_name("slotwise", stage),
            routes=routes,
            functions=self.functions,
            fallback_group=fallback_group,
            removal_policy=removal_policy,
        )

        CfnOutput(self, "ApiUrl", value=self.http_api.url, description="Base URL of the HTTP API")
        CfnOutput(self, "TableName", value=self.table.table_name)
        CfnOutput(self, "EventBusName", value=self.event_bus.event_bus_name)


def _check_inputs(topology: Topology, groups: list[str], layer_dir: Path, functions_dir: Path) -> None:
    """Fail with the fix in the message; CDK's own errors for these arrive later and name no remedy."""
    if not (layer_dir / "python").is_dir():
        raise ValueError(
            f"layer directory {layer_dir} has no python/ folder: run `python -m infra.layer_build --out {layer_dir}`"
        )
    missing = missing_groups(functions_dir, groups)
    if missing:
        raise ValueError(f"no {functions_dir}/<group>/handler.py for function groups {missing}")
    queue_names = {queue.name for queue in topology.queues}
    unknown = sorted({rule.target_queue for rule in topology.rules} - queue_names)
    if unknown:
        raise ValueError(f"event rules target queues missing from the topology: {unknown}")
