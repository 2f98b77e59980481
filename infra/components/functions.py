"""Every function group's Lambda, the shared layer, their environment and their least-privilege grants."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.components.group_function import API_TIMEOUT, ARCHITECTURE, RUNTIME, GroupFunction
from infra.components.nag import acknowledge, arn_token
from infra.components.naming import pascal
from slotwise.settings import Settings

# Groups that only read one item (the health probe's GetItem); every other group reads and writes the table and
# publishes events. A new read-only group gets exactly the actions it calls.
TABLE_ACTIONS_OF_READ_ONLY_GROUPS: Mapping[str, tuple[str, ...]] = {"health": ("dynamodb:GetItem",)}
POWERTOOLS_LOG_LEVEL = "INFO"


def settings_environment(**values: str) -> dict[str, str]:
    """Environment variables named by `slotwise.settings.Settings`, so the stack and the code cannot disagree.

    `settings_environment(table_name=...)` -> `{"SLOTWISE_TABLE_NAME": ...}`; an unknown field fails synth.
    """
    environment = {}
    for field_name, value in values.items():
        alias = Settings.model_fields[field_name].alias
        if alias is None:
            raise ValueError(f"settings field {field_name!r} is not read from the environment")
        environment[alias] = value
    return environment


class SlotwiseFunctions(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        groups: Iterable[str],
        functions_dir: Path,
        layer_dir: Path,
        stage: str,
        table: dynamodb.TableV2,
        event_bus: events.IEventBus,
        timeouts: Mapping[str, Duration],
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.layer = lambda_.LayerVersion(
            self,
            "SharedLayer",
            description="slotwise package and its runtime dependencies",
            code=lambda_.Code.from_asset(str(layer_dir)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
        )
        environment = {
            **settings_environment(
                stage=stage,
                table_name=table.table_name,
                event_bus_name=event_bus.event_bus_name,
                service_name="slotwise",
            ),
            "POWERTOOLS_METRICS_NAMESPACE": "Slotwise",
            "POWERTOOLS_LOG_LEVEL": POWERTOOLS_LOG_LEVEL,
        }
        self.groups: dict[str, GroupFunction] = {}
        for group in groups:
            built = GroupFunction(
                self,
                pascal(group),
                group=group,
                functions_dir=functions_dir,
                layer=self.layer,
                environment=environment,
                timeout=timeouts.get(group, API_TIMEOUT),
                removal_policy=removal_policy,
            )
            read_only = TABLE_ACTIONS_OF_READ_ONLY_GROUPS.get(group)
            if read_only is not None:
                table.grant(built.function, *read_only)
            else:
                table.grant_read_write_data(built.function)
                event_bus.grant_put_events_to(built.function)
            _acknowledge_index_wildcard(built, table)
            self.groups[group] = built

    @property
    def functions(self) -> dict[str, lambda_.Function]:
        return {group: built.function for group, built in self.groups.items()}


def _acknowledge_index_wildcard(built: GroupFunction, table: dynamodb.TableV2) -> None:
    acknowledge(
        built.role,
        f"AwsSolutions-IAM5[Resource::{arn_token(table)}/index/*]",
        "CDK's table grants always add this table's global secondary indexes (`<table ARN>/index/*`): the engine "
        "queries them, and for a GetItem-only grant they allow nothing (GetItem does not apply to an index). "
        "The wildcard stays inside the one table and names no other resource.",
    )
