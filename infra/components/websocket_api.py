"""The live concern: the WebSocket API (slotwise.live), its routes and stage, and the pusher's wiring.

- One API Gateway WebSocket API; every route of `slotwise.topology.WebSocketSpec` goes to the spec's function group
  (route selection `$request.body.action`), and the routes that answer (subscribe, unsubscribe, `$default`) have a
  route response, so the function's `body` reaches the client.
- The `$connect` route has no gateway authorizer: the function verifies the access token itself (query parameter or
  `Sec-WebSocket-Protocol`, which a Lambda REQUEST authorizer could not answer back); every other route runs on a
  connection `$connect` accepted.
- A stage named after the deployment stage, throttled, with JSON access logs (the HTTP API's log settings class).
- The pusher (the `live` queue's consumer) gets the stage's callback URL (SLOTWISE_LIVE_ENDPOINT_URL) and may
  `execute-api:ManageConnections` on this API's stage only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.components.asynchronous import SlotwiseAsync
from infra.components.functions import settings_environment
from infra.components.http_api import AccessLogSettings, Throttle
from infra.components.nag import acknowledge
from infra.components.naming import stage_name
from slotwise.topology import Topology, WebSocketSpec

# Connects and subscriptions are rare next to API calls: a client loop reconnecting cannot flood the functions.
THROTTLE = Throttle(rate=50, burst=100)
# WebSocket API context variables.
_ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "routeKey": "$context.routeKey",
        "eventType": "$context.eventType",
        "connectionId": "$context.connectionId",
        "status": "$context.status",
        "integrationLatency": "$context.integrationLatency",
        "integrationError": "$context.integrationErrorMessage",
        "error": "$context.error.message",
    },
    separators=(",", ":"),
)
_OPEN_ROUTE = (
    "The function authenticates $connect itself: it verifies the caller's access token (query parameter or the "
    "Sec-WebSocket-Protocol header, answered back as browsers require) and refuses the handshake with 401/403; "
    "message routes run only on connections it accepted and check each subscription against the caller."
)


class SlotwiseWebSocketApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: WebSocketSpec,
        api_name: str,
        stage: str,
        function: lambda_.IFunction,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec
        integration = integrations.WebSocketLambdaIntegration(f"{spec.name}-integration", function)

        def options(route: str) -> apigwv2.WebSocketRouteOptions:
            return apigwv2.WebSocketRouteOptions(
                integration=integration, return_response=route in spec.answered_routes or None
            )

        special = {"$connect", "$disconnect", "$default"}
        self.api = apigwv2.WebSocketApi(
            self,
            "Api",
            api_name=api_name,
            route_selection_expression=spec.route_selection_expression,
            connect_route_options=options("$connect") if "$connect" in spec.routes else None,
            disconnect_route_options=options("$disconnect") if "$disconnect" in spec.routes else None,
            default_route_options=options("$default") if "$default" in spec.routes else None,
        )
        for route in spec.routes:
            if route not in special:
                self.api.add_route(route, integration=integration, return_response=route in spec.answered_routes)
        for child in self.api.node.children:
            if isinstance(child, apigwv2.WebSocketRoute):
                acknowledge(child, "AwsSolutions-APIG4", _OPEN_ROUTE)

        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=removal_policy
        )
        self.stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=stage,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=THROTTLE.rate, burst_limit=THROTTLE.burst),
            access_log_settings=AccessLogSettings(self.access_logs, _ACCESS_LOG_FORMAT),
        )

    @property
    def url(self) -> str:
        return self.stage.url

    @property
    def callback_url(self) -> str:
        """The Management API endpoint of the stage (`post_to_connection`)."""
        return self.stage.callback_url

    def grant_push(self, function: lambda_.IFunction) -> iam.Grant:
        """`execute-api:ManageConnections` on this API's stage's connections, nothing more."""
        grant = self.stage.grant_management_api_access(function)
        role = function.role
        if role is not None:
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:"
                f"<{Stack.of(self).get_logical_id(self._cfn_api())}>/{self.stage.stage_name}/*/@connections/*]",
                "A connection id is only known at run time: the pusher may post to any connection of this one API "
                "stage (execute-api:ManageConnections on <api>/<stage>/*/@connections/*), no other API or stage.",
            )
        return grant

    def _cfn_api(self) -> apigwv2.CfnApi:
        child = self.api.node.default_child
        assert isinstance(child, apigwv2.CfnApi)
        return child


def wire_live(
    scope: Construct,
    *,
    topology: Topology,
    async_: SlotwiseAsync,
    functions: Mapping[str, lambda_.Function],
    invoked: Mapping[str, lambda_.IFunction],
    stage: str,
    removal_policy: RemovalPolicy,
) -> SlotwiseWebSocketApi | None:
    """The WebSocket API and its pusher's setting and grant (None for a topology without one).

    The routes integrate `invoked` (each group's alias); the pusher's setting and grant go on `functions`.
    """
    spec = topology.websocket
    if spec is None:
        return None
    live = SlotwiseWebSocketApi(
        scope,
        "WebSocketApi",
        spec=spec,
        api_name=stage_name(f"slotwise-{spec.name}", stage),
        stage=stage,
        function=invoked[spec.group],
        removal_policy=removal_policy,
    )
    built = async_.queues.get(spec.name)
    if built is not None:  # test topologies may leave the pusher's queue out
        pusher = functions[built.spec.consumer_group]
        for name, value in settings_environment(live_endpoint_url=live.callback_url).items():
            pusher.add_environment(name, value)
        live.grant_push(pusher)
    CfnOutput(Stack.of(scope), "WebSocketUrl", value=live.url, description="Live push: wss://... (docs/live.md)")
    return live
