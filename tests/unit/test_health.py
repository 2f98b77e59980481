from __future__ import annotations

import json
import time

import pytest

from events import load
from functions.health.handler import lambda_handler
from infra.local.lambda_context import LocalLambdaContext
from slotwise.health import service


def invoke(event_name: str = "http/health_get") -> tuple[int, dict[str, object]]:
    response = lambda_handler(load(event_name), LocalLambdaContext(function_name="slotwise-health"))
    return response["statusCode"], json.loads(response["body"])


class SteppingClock:
    """Stands in for the `time` module of the health service: perf_counter returns the given readings in turn."""

    def __init__(self, *readings: float) -> None:
        self._readings = list(readings)

    def perf_counter(self) -> float:
        return self._readings.pop(0)

    @staticmethod
    def monotonic() -> float:
        return time.monotonic()


def test_health_ok_when_table_answers(table: str) -> None:
    status, body = invoke()
    assert status == 200
    assert body["status"] == "ok"
    assert body["version"] == "0.1.0"
    checks = body["checks"]
    assert isinstance(checks, dict) and set(checks) == {"dynamodb"}
    check = checks["dynamodb"]
    assert set(check) == {"status", "latencyMs", "detail"}
    assert check["status"] == "ok" and check["detail"] is None
    latency = check["latencyMs"]
    assert isinstance(latency, int | float) and not isinstance(latency, bool)
    assert 0 <= latency < 5_000  # one GetItem against moto, in milliseconds
    assert isinstance(body["uptimeSeconds"], float) and body["uptimeSeconds"] >= 0


def test_health_reports_the_probe_latency_in_milliseconds(table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "time", SteppingClock(10.0, 10.0421))
    status, body = invoke()
    assert status == 200
    assert body["checks"]["dynamodb"]["latencyMs"] == 42.1  # type: ignore[index]


def test_health_degraded_503_when_table_missing(aws: None) -> None:
    status, body = invoke()
    assert status == 503
    assert body["status"] == "degraded"
    check = body["checks"]["dynamodb"]  # type: ignore[index]
    assert check["status"] == "error" and "ResourceNotFoundException" in check["detail"]


def test_unknown_route_from_default_integration_is_404_problem(aws: None) -> None:
    status, body = invoke("http/unknown_route_default")
    assert status == 404 and body["code"] == "route_not_found"


def test_the_bus_is_probed_on_the_local_stage_only(table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    from slotwise.settings import get_settings

    assert set(service.default_probes()) == {"dynamodb"}  # AWS stages: no control-plane call per request
    monkeypatch.setenv("SLOTWISE_STAGE", "local")
    get_settings.cache_clear()
    # No bus yet: degraded, and the check names EventBridge.
    status, body = invoke()
    assert status == 503
    bus = body["checks"]["eventbridge"]  # type: ignore[index]
    assert bus["status"] == "error" and bus["detail"].startswith("EventBridge DescribeEventBus failed")
    boto3.client("events").create_event_bus(Name=get_settings().event_bus_name)
    status, body = invoke()
    assert status == 200 and set(body["checks"]) == {"dynamodb", "eventbridge"}  # type: ignore[arg-type]
