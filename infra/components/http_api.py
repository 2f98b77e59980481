"""The public HTTP API: one API Gateway route per entry of the route table, everything else to the fallback group."""

from __future__ import annotations

import json
from collections.abc import Mapping

import jsii
from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from slotwise.api.routes import Route

DEFAULT_ROUTE_KEY = "$default"
THROTTLE = apigwv2.ThrottleSettings(burst_limit=200, rate_limit=100)

# HTTP API context variables only (several REST API ones, e.g. $context.identity.caller, are empty here).
_ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "routeKey": "$context.routeKey",
        "method": "$context.httpMethod",
        "path": "$context.path",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "responseLatency": "$context.responseLatency",
        "integrationLatency": "$context.integrationLatency",
        "integrationError": "$context.integrationErrorMessage",
        "error": "$context.error.message",
    },
    separators=(",", ":"),
)


class SlotwiseHttpApi(Construct):
    """Routes are declared explicitly rather than as one proxy so API Gateway metrics and logs are per route."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api_name: str,
        routes: tuple[Route, ...],
        functions: Mapping[str, lambda_.IFunction],
        fallback_group: str,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        # One integration per group: API Gateway shares it between that group's routes.
        self._integrations = {
            group: integrations.HttpLambdaIntegration(f"{group}-integration", fn) for group, fn in functions.items()
        }
        self.api = apigwv2.HttpApi(
            self,
            "Api",
            api_name=api_name,
            # Unknown paths must still reach the app so clients get its problem+json 404/405, not API Gateway's.
            default_integration=self._integration(fallback_group),
            # The auto-created stage cannot be throttled or given access logs.
            create_default_stage=False,
        )
        for route in routes:
            self.api.add_routes(
                path=route.path,
                methods=[apigwv2.HttpMethod[route.method]],
                integration=self._integration(route.group),
            )
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=removal_policy
        )
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            stage_name=DEFAULT_ROUTE_KEY,
            auto_deploy=True,
            throttle=THROTTLE,
            access_log_settings=_AccessLogSettings(self.access_logs),
        )

    @property
    def url(self) -> str:
        url = self.stage.url
        assert url is not None, "a $default stage always has a URL"
        return url

    def _integration(self, group: str) -> integrations.HttpLambdaIntegration:
        try:
            return self._integrations[group]
        except KeyError:
            raise ValueError(f"no function for group {group!r}") from None


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    """JSON access logs to a log group.

    `IAccessLogSettings` is a jsii interface, not a struct: a plain dict (as in the CDK docs) fails to deserialize.
    """

    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return apigw.AccessLogFormat.custom(_ACCESS_LOG_FORMAT)
