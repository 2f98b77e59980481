"""`python -m infra.local serve` — what `make dev` runs — on free ports, spoken to over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from infra.local.ports import free_port, is_free

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


@dataclass
class Runtime:
    process: subprocess.Popen[str]
    base: str
    dynamodb_port: int
    moto_port: int
    state_dir: Path


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env.update(POWERTOOLS_METRICS_DISABLED="true", PYTHONUNBUFFERED="1")
    return env


def _start(tmp_path: Path, *extra: str) -> Runtime:
    api, ddb, moto = free_port(), free_port(), free_port()
    command = [
        sys.executable,
        "-m",
        "infra.local",
        "--state-dir",
        str(tmp_path / "state"),
        "serve",
        "--api-port",
        str(api),
        "--dynamodb-port",
        str(ddb),
        "--moto-port",
        str(moto),
        *extra,
    ]
    log = (tmp_path / "runtime.log").open("w")
    process = subprocess.Popen(command, cwd=ROOT, env=_env(), stdout=log, stderr=subprocess.STDOUT, text=True)
    return Runtime(process, f"http://127.0.0.1:{api}", ddb, moto, tmp_path / "state")


def _wait_healthy(runtime: Runtime, timeout: float = 90) -> requests.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert runtime.process.poll() is None, "the runtime exited before it served"
        try:
            return requests.get(f"{runtime.base}/api/v1/health", timeout=5)
        except requests.ConnectionError:
            time.sleep(0.5)
    raise AssertionError("the runtime did not serve /api/v1/health in time")


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    started = _start(tmp_path_factory.mktemp("runtime"))
    try:
        _wait_healthy(started)
        yield started
    finally:
        if started.process.poll() is None:
            started.process.send_signal(signal.SIGINT)
            started.process.wait(timeout=30)


def test_health_reports_dynamodb_ok(runtime: Runtime) -> None:
    response = requests.get(f"{runtime.base}/api/v1/health", timeout=5)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["dynamodb"]["status"] == "ok"


def test_swagger_ui_and_openapi_are_served(runtime: Runtime) -> None:
    docs = requests.get(f"{runtime.base}/api/v1/docs", timeout=5)
    assert docs.status_code == 200 and docs.headers["content-type"].startswith("text/html")
    assert "SwaggerUIBundle" in docs.text
    spec = requests.get(f"{runtime.base}/api/v1/openapi.json", timeout=5).json()
    assert "/api/v1/health" in spec["paths"]


def test_errors_are_problem_json_over_http(runtime: Runtime) -> None:
    missing = requests.get(f"{runtime.base}/api/v1/does-not-exist", timeout=5)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["code"] == "route_not_found"
    wrong = requests.delete(f"{runtime.base}/api/v1/health", timeout=5)
    assert (wrong.status_code, wrong.headers["allow"]) == (405, "GET")


def test_demo_data_is_loaded(runtime: Runtime) -> None:
    import boto3

    client = boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{runtime.dynamodb_port}",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        region_name="us-east-1",
    )
    items = client.scan(
        TableName="slotwise", FilterExpression="SK = :r", ExpressionAttributeValues={":r": {"S": "RESOURCE"}}
    )["Items"]
    assert len(items) == 7


def test_a_booking_over_http_and_its_conflict(runtime: Runtime) -> None:
    import boto3

    client = boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{runtime.dynamodb_port}",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        region_name="us-east-1",
    )
    rooms = client.scan(
        TableName="slotwise",
        FilterExpression="SK = :r AND #t = :t",
        ExpressionAttributeNames={"#t": "type"},
        ExpressionAttributeValues={":r": {"S": "RESOURCE"}, ":t": {"S": "meeting_room"}},
    )["Items"]
    room_id = rooms[0]["id"]["S"]
    body = {"resourceId": room_id, "startTime": "2027-03-01T10:00:00+01:00", "endTime": "2027-03-01T11:00:00+01:00"}
    headers = {"x-slotwise-user-id": "demo-customer", "x-slotwise-role": "customer"}
    made = requests.post(f"{runtime.base}/api/v1/bookings", json=body, headers=headers, timeout=10)
    assert made.status_code == 201, made.text
    assert made.headers["location"].endswith(made.json()["id"])
    clash = requests.post(f"{runtime.base}/api/v1/bookings", json=body, headers=headers, timeout=10)
    assert clash.status_code == 409 and clash.json()["code"] == "slot_unavailable"
    found = requests.get(
        f"{runtime.base}/api/v1/bookings/by-reference/{made.json()['reference']}", headers=headers, timeout=10
    )
    assert found.json()["id"] == made.json()["id"]


def test_invoke_and_tick_reach_the_running_stack(runtime: Runtime) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "infra.local", "--state-dir", str(runtime.state_dir), *args],
            cwd=ROOT,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )

    invoked = cli("invoke", "health", "http/health_get")
    assert '"statusCode": 200' in invoked.stdout
    assert "job hold-expiry: {'expired': 0}" in cli("tick").stdout


def test_ctrl_c_stops_everything(tmp_path: Path) -> None:
    started = _start(tmp_path, "--no-seed")
    _wait_healthy(started)
    started.process.send_signal(signal.SIGINT)
    assert started.process.wait(timeout=30) == 0
    for port in (started.dynamodb_port, started.moto_port, int(started.base.rsplit(":", 1)[1])):
        assert is_free(port), f"port {port} still held after Ctrl-C"


def test_taken_port_is_reported_plainly(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "infra.local",
                "--state-dir",
                str(tmp_path),
                "serve",
                "--api-port",
                str(taken),
                "--dynamodb-port",
                str(free_port()),
                "--moto-port",
                str(free_port()),
            ],
            cwd=ROOT,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2
    assert f"Port {taken} (for api) is already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_each_change_becomes_one_notification_and_one_email(runtime: Runtime) -> None:
    """Stream -> publisher -> moto EventBridge -> rule -> SQS -> notifier -> SES and the in-app inbox."""
    import boto3

    ses = boto3.client(
        "ses",
        endpoint_url=f"http://127.0.0.1:{runtime.moto_port}",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        region_name="us-east-1",
    )
    headers = {"x-slotwise-user-id": "demo-customer", "x-slotwise-role": "customer"}

    def unread() -> int:
        found = requests.get(f"{runtime.base}/api/v1/notifications/unread-count", headers=headers, timeout=10)
        assert found.status_code == 200, found.text
        return int(found.json()["unread"])

    def settle(check: Callable[[], bool], timeout: float = 45) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            assert time.monotonic() < deadline, "the event did not arrive"
            time.sleep(0.5)

    settle(lambda: unread() == unread())  # earlier tests' events have landed when two reads agree
    time.sleep(2)
    before, sent_before = unread(), ses.get_send_quota()["SentLast24Hours"]
    rooms = requests.get(f"{runtime.base}/api/v1/resources", params={"type": "meeting_room"}, timeout=10).json()
    room_id = rooms["resources"][0]["id"]
    body = {"resourceId": room_id, "startTime": "2027-04-05T10:00:00+01:00", "endTime": "2027-04-05T11:00:00+01:00"}
    made = requests.post(f"{runtime.base}/api/v1/bookings", json=body, headers=headers, timeout=10)
    assert made.status_code == 201, made.text
    settle(lambda: unread() == before + 1)
    cancel_url = f"{runtime.base}/api/v1/bookings/{made.json()['id']}/cancel"
    cancelled = requests.post(cancel_url, json={}, headers=headers, timeout=10)
    assert cancelled.status_code == 200, cancelled.text
    settle(lambda: unread() == before + 2)
    # The customer's confirmation and cancellation, and the vendor's cancellation notice.
    settle(lambda: ses.get_send_quota()["SentLast24Hours"] == sent_before + 3)
    time.sleep(3)  # nothing more arrives: no duplicates
    assert unread() == before + 2
    assert ses.get_send_quota()["SentLast24Hours"] == sent_before + 3
