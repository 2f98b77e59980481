from __future__ import annotations

import json

from events import load
from functions.health.handler import lambda_handler
from infra.local.lambda_context import LocalLambdaContext


def invoke(event_name: str = "http/health_get") -> tuple[int, dict[str, object]]:
    response = lambda_handler(load(event_name), LocalLambdaContext(function_name="slotwise-health"))
    return response["statusCode"], json.loads(response["body"])


def test_health_ok_when_table_answers(table: str) -> None:
    status, body = invoke()
    assert status == 200
    assert body["status"] == "ok"
    assert body["version"] == "0.1.0"
    assert body["checks"] == {
        "dynamodb": {
            "status": "ok",
            "latencyMs": body["checks"]["dynamodb"]["latencyMs"],  # type: ignore[index]
            "detail": None,
        }
    }
    assert isinstance(body["uptimeSeconds"], float)


def test_health_degraded_503_when_table_missing(aws: None) -> None:
    status, body = invoke()
    assert status == 503
    assert body["status"] == "degraded"
    check = body["checks"]["dynamodb"]  # type: ignore[index]
    assert check["status"] == "error" and "ResourceNotFoundException" in check["detail"]


def test_unknown_route_from_default_integration_is_404_problem(aws: None) -> None:
    status, body = invoke("http/unknown_route_default")
    assert status == 404 and body["code"] == "route_not_found"
