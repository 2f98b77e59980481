"""The Slotwise stack, composed of one small construct per concern, all derived from `slotwise.topology.TOPOLOGY`
and `slotwise.api.routes.ROUTES` so nothing here can drift from the code:

    data       the single table                                   infra/components/data.py
    async      event bus, rules (+DLQs), queues (+DLQs), jobs     infra/components/asynchronous.py
    functions  one Lambda per group, the layer, grants            infra/components/functions.py (GroupFunction)
    api        HTTP API, routes, throttles, logs, CORS, JWT       infra/components/http_api.py
    auth       own issuer or external OIDC, for api + functions   infra/components/auth.py
    ops        alarm topic, alarms, dashboard                     infra/components/ops.py
    payments   Stripe webhook ingress, Stripe secrets, provider   infra/components/payments.py
    live       WebSocket API, routes, stage, the pusher's grant   infra/components/websocket_api.py

The stack is environment-agnostic: it makes no AWS call at synth time and works offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from aws_cdk import Aws, CfnOutput, Duration, RemovalPolicy, Stack
from constructs import Construct

from infra.components.asynchronous import SlotwiseAsync
from infra.components.auth import OidcSettings, OwnIssuerSettings
from infra.components.data import SlotwiseData
from infra.components.functions import SlotwiseFunctions
from infra.components.group_function import QUEUE_CONSUMER_TIMEOUT, missing_groups
from infra.components.http_api import SlotwiseHttpApi
from infra.components.naming import pascal, stage_name
from infra.components.ops import Monitored, SlotwiseOps
from infra.components.payments import PROVIDER_CALL_TIMEOUT, PROVIDER_CALLING_API_GROUPS, wire_payments
from infra.components.queue_admin import wire_queue_admin
from infra.components.webhooks import wire_webhook_delivery
from infra.components.websocket_api import wire_live
from slotwise.api import routes as api_routes
from slotwise.topology import TOPOLOGY, Topology

Stage = Literal["dev", "prod"]
STAGES: tuple[Stage, ...] = ("dev", "prod")

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"


def function_groups(topology: Topology, routes: tuple[api_routes.Route, ...], fallback_group: str) -> list[str]:
    """Every group that needs a function: API routes, the API fallback, queue and stream consumers, scheduled jobs,
    the WebSocket API's routes."""
    return sorted(
        {
            *api_routes.groups(routes),
            fallback_group,
            *(queue.consumer_group for queue in topology.queues),
            *(schedule.group for schedule in topology.schedules),
            *(consumer.consumer_group for consumer in topology.stream_consumers),
            *((topology.websocket.group,) if topology.websocket is not None else ()),
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
        cors_origins: Sequence[str] = (),
        oidc: OidcSettings | None = None,
        alarm_email: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        groups = function_groups(topology, routes, fallback_group)
        _check_inputs(topology, groups, Path(layer_dir), functions_dir)
        prod = stage == "prod"
        removal_policy = RemovalPolicy.RETAIN if prod else RemovalPolicy.DESTROY
        # One auth configuration for the gateway's authorizer (external OIDC only) and every function's environment.
        self.auth = oidc if oidc is not None else OwnIssuerSettings.for_stage(stage)

        self.data = SlotwiseData(self, "Data", spec=topology.table, protect=prod)
        self.async_ = SlotwiseAsync(
            self, "Async", topology=topology, stage=stage, consumer_timeout=QUEUE_CONSUMER_TIMEOUT
        )
        timeouts: dict[str, Duration] = dict.fromkeys(PROVIDER_CALLING_API_GROUPS, PROVIDER_CALL_TIMEOUT)
        timeouts.update({q.consumer_group: QUEUE_CONSUMER_TIMEOUT for q in topology.queues})
        self.compute = SlotwiseFunctions(
            self,
            "Functions",
            groups=groups,
            functions_dir=functions_dir,
            layer_dir=Path(layer_dir),
            stage=stage,
            auth=self.auth,
            table=self.data.table,
            event_bus=self.async_.event_bus,
            timeouts=timeouts,
            removal_policy=removal_policy,
        )
        self.functions = self.compute.functions
        # Triggers invoke the aliases (SnapStart); settings and grants go on the functions.
        self.aliases = self.compute.aliases
        self.async_.attach(self.aliases, self.data.table)
        wire_webhook_delivery(self.async_, self.functions)
        wire_queue_admin(self, self.async_, self.functions)
        self.payments = wire_payments(self, self.async_, self.functions, removal_policy)
        self.http_api = SlotwiseHttpApi(
            self,
            "HttpApi",
            api_name=stage_name("slotwise", stage),
            routes=routes,
            functions=self.aliases,
            fallback_group=fallback_group,
            removal_policy=removal_policy,
            cors_origins=cors_origins,
            oidc=oidc,
        )
        self.live = wire_live(
            self,
            topology=topology,
            async_=self.async_,
            functions=self.functions,
            invoked=self.aliases,
            stage=stage,
            removal_policy=removal_policy,
        )
        self.ops = SlotwiseOps(
            self,
            "Ops",
            stage=stage,
            alarm_email=alarm_email,
            monitored=Monitored(
                api=self.http_api.api,
                functions=self.functions,
                table=self.data.table,
                index_names=self.data.index_names,
                work_queues={name: queue.queue for name, queue in self.async_.queues.items()},
                dead_letter_queues=self.async_.dead_letter_queues,
                schedules=self.async_.schedules,
            ),
        )

        CfnOutput(self, "ApiUrl", value=self.http_api.url, description="Base URL of the HTTP API")
        CfnOutput(self, "TableName", value=self.data.table.table_name)
        CfnOutput(self, "EventBusName", value=self.async_.event_bus.event_bus_name)
        # For the `slotwise` CLI (docs/cli.md): the stage its settings take, and each job's function for `jobs run`.
        CfnOutput(self, "Stage", value=stage)
        for schedule in topology.schedules:
            CfnOutput(self, f"{pascal(schedule.name)}JobFunctionArn", value=self.aliases[schedule.group].function_arn)
        CfnOutput(self, "AlarmTopicArn", value=self.ops.topic.topic_arn, description="Subscribe on-call to this topic")
        CfnOutput(
            self,
            "DashboardUrl",
            value=f"https://{Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region={Aws.REGION}"
            f"#dashboards:name={self.ops.dashboard.dashboard_name}",
        )


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
