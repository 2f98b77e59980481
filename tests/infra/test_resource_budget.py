"""Every stack the app synthesizes stays well below CloudFormation's 500 resources per stack.

At 496 resources one more route would have made the backend stack undeployable (CloudFormation refuses a template
over 500, and only at deploy time). Two changes brought it down: API Gateway's permission to invoke a function is one
per function and resource collection instead of one per route, and the HTTP API is a nested stack of its own
(docs/adr/0015-api-permissions-per-collection.md). The budget leaves room to grow; a stack that reaches it needs
another split (a cohesive part into a nested stack), not a higher budget.
"""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from infra.app import build_app
from tests.infra.support import backend_stack

CLOUDFORMATION_LIMIT = 500
# 70% of the limit per stack: about a hundred and fifty resources of headroom for new routes, functions, queues and
# alarms before anyone is near the hard limit.
BUDGET = 350


@pytest.fixture(scope="module", params=["dev", "prod"])
def app(request: pytest.FixtureRequest, app_dirs: dict[str, str], no_cdk_context: None) -> cdk.App:
    return build_app({**app_dirs, "stage": request.param})


def _stacks(app: cdk.App) -> list[cdk.Stack]:
    return [construct for construct in app.node.find_all() if isinstance(construct, cdk.Stack)]


def test_every_stack_stays_within_the_resource_budget(app: cdk.App) -> None:
    counts = {stack.node.path: len(Template.from_stack(stack).to_json()["Resources"]) for stack in _stacks(app)}
    over = {path: count for path, count in counts.items() if count >= BUDGET}
    assert not over, (
        f"stacks at or over the budget of {BUDGET} resources (CloudFormation refuses more than "
        f"{CLOUDFORMATION_LIMIT} per stack): {over}. Move a cohesive part into a nested stack; see "
        "docs/adr/0015-api-permissions-per-collection.md."
    )


def test_the_api_is_a_nested_stack_and_the_console_a_stack_of_its_own(app: cdk.App) -> None:
    backend = backend_stack(app)
    nested = [stack for stack in _stacks(app) if stack.nested_stack_parent is backend]
    assert [stack.node.id for stack in nested] == ["Api"]
    assert backend.http_api.api.stack is nested[0]
    top = sorted(stack.stack_name for stack in _stacks(app) if stack.nested_stack_parent is None)
    assert top == sorted([backend.stack_name, backend.stack_name.replace("Slotwise-", "SlotwiseConsole-")])


def test_http_routes_do_not_count_against_the_backend_stack(app: cdk.App) -> None:
    """The part that grows with every route (a route each, an integration per group) is in the nested stack; the
    backend stack keeps the WebSocket API's few routes (`$connect`, `subscribe`, ...: no method and path)."""
    backend = Template.from_stack(backend_stack(app)).to_json()["Resources"]
    route_keys = [r["Properties"]["RouteKey"] for r in backend.values() if r["Type"] == "AWS::ApiGatewayV2::Route"]
    assert [key for key in route_keys if " " in key] == []
    assert "AWS::CloudFormation::Stack" in {r["Type"] for r in backend.values()}
