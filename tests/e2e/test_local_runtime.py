"""`python -m infra.local serve` — what `make dev` runs — on free ports, spoken to over HTTP."""

from __future__ import annotations

import io
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from infra.local.ports import free_ports, is_free
from tests.e2e.runtime import ROOT, Runtime, running, runtime_env, start, wait_healthy

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    with running(tmp_path_factory.mktemp("runtime")) as started:
        yield started


def test_health_reports_dynamodb_and_the_bus_ok(runtime: Runtime) -> None:
    response = requests.get(f"{runtime.base}/api/v1/health", timeout=5)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["dynamodb"]["status"] == "ok"
    # Locally the stream poller waits on the bus, so the health route reports it (never in AWS: no per-request cost).
    assert body["checks"]["eventbridge"]["status"] == "ok"


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
            env=runtime_env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )

    invoked = cli("invoke", "health", "http/health_get")
    assert '"statusCode": 200' in invoked.stdout
    assert "job hold-expiry: {'expired': 0}" in cli("tick").stdout


def test_ctrl_c_stops_everything(tmp_path: Path) -> None:
    started = start(tmp_path, "--no-seed")
    wait_healthy(started)
    started.process.send_signal(signal.SIGINT)
    assert started.process.wait(timeout=30) == 0
    for port in (started.dynamodb_port, started.moto_port, int(started.base.rsplit(":", 1)[1])):
        assert is_free(port), f"port {port} still held after Ctrl-C"


def test_taken_port_is_reported_plainly(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        dynamodb_port, moto_port = free_ports(2)
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
                str(dynamodb_port),
                "--moto-port",
                str(moto_port),
            ],
            cwd=ROOT,
            env=runtime_env(),
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


def test_a_hostel_booking_is_held_paid_confirmed_by_webhook_and_refunded(runtime: Runtime) -> None:
    """Hold -> payment (simulated provider) -> signed webhook -> stripe-events queue -> processor -> confirmed;
    then a tiered cancellation refunds to the card (refund webhook) or to the wallet."""
    headers = {"x-slotwise-user-id": "pay-e2e", "x-slotwise-role": "customer"}
    rooms = requests.get(f"{runtime.base}/api/v1/resources", params={"type": "room"}, timeout=10).json()
    room = next(r for r in rooms["resources"] if r["name"] == "Private double")

    def booking(check_in: str, check_out: str) -> dict[str, object]:
        body = {"resourceId": room["id"], "checkIn": check_in, "checkOut": check_out}
        made = requests.post(f"{runtime.base}/api/v1/bookings", json=body, headers=headers, timeout=10)
        assert made.status_code == 201, made.text
        assert made.json()["status"] == "held"
        return dict(made.json())

    def settle(url: str, check: Callable[[dict[str, object]], bool], timeout: float = 45) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        while True:
            found = requests.get(url, headers=headers, timeout=10).json()
            if check(found):
                return dict(found)
            assert time.monotonic() < deadline, f"{url} did not settle: {found}"
            time.sleep(0.5)

    def pay_and_confirm(held: dict[str, object]) -> str:
        paid = requests.post(
            f"{runtime.base}/api/v1/bookings/{held['id']}/payment", json={}, headers=headers, timeout=10
        )
        assert paid.status_code == 201, paid.text
        assert paid.json()["payment"]["amount"] == 13000  # two weekday nights at 65.00, computed by the server
        assert paid.json()["clientSecret"]
        payment_id = paid.json()["payment"]["id"]
        outcome = requests.post(
            f"{runtime.base}/api/v1/dev/payments/{payment_id}/succeed", json={}, headers=headers, timeout=10
        )
        assert outcome.status_code == 200, outcome.text
        settle(f"{runtime.base}/api/v1/bookings/{held['id']}", lambda b: b["status"] == "confirmed")
        return str(payment_id)

    card = booking("2027-05-03", "2027-05-05")
    payment_id = pay_and_confirm(card)
    quote = requests.get(f"{runtime.base}/api/v1/bookings/{card['id']}/cancellation-quote", headers=headers, timeout=10)
    assert quote.json()["percent"] == 100 and quote.json()["refundAmount"] == 13000 - 500
    cancel = requests.post(
        f"{runtime.base}/api/v1/bookings/{card['id']}/cancel", json={"refundTo": "card"}, headers=headers, timeout=10
    )
    assert cancel.status_code == 200, cancel.text
    refunded = settle(
        f"{runtime.base}/api/v1/payments/{payment_id}",
        lambda p: [r["status"] for r in p["refunds"]] == ["succeeded"],  # type: ignore[union-attr]
    )
    assert refunded["refunds"][0]["amount"] == 12500  # type: ignore[index]

    wallet_before = requests.get(f"{runtime.base}/api/v1/wallet", headers=headers, timeout=10).json()["balances"]
    assert wallet_before == []
    to_wallet = booking("2027-05-10", "2027-05-12")
    pay_and_confirm(to_wallet)
    cancel = requests.post(
        f"{runtime.base}/api/v1/bookings/{to_wallet['id']}/cancel",
        json={"refundTo": "wallet"},
        headers=headers,
        timeout=10,
    )
    assert cancel.status_code == 200, cancel.text
    wallet = requests.get(f"{runtime.base}/api/v1/wallet", headers=headers, timeout=10).json()
    assert wallet["balances"] == [{"currency": "EUR", "balance": 12500}]
    # The wallet pays the next stay by itself: confirmed at once, no provider.
    third = booking("2027-05-17", "2027-05-18")
    paid = requests.post(
        f"{runtime.base}/api/v1/bookings/{third['id']}/payment",
        json={"walletAmount": "max"},
        headers=headers,
        timeout=10,
    )
    assert paid.status_code == 201 and paid.json()["booking"]["status"] == "confirmed", paid.text
    wallet = requests.get(f"{runtime.base}/api/v1/wallet", headers=headers, timeout=10).json()
    assert wallet["balances"] == [{"currency": "EUR", "balance": 12500 - 6500}]


def test_a_wallet_top_up_is_paid_through_the_simulated_provider_and_credited_once(runtime: Runtime) -> None:
    """Top-up -> client secret (simulated provider) -> signed webhook -> stripe-events queue -> processor -> one
    ledger credit; the booking's PDF confirmation comes back as application/pdf through the HTTP front."""
    headers = {"x-slotwise-user-id": "top-up-e2e", "x-slotwise-role": "customer"}
    made = requests.post(
        f"{runtime.base}/api/v1/wallet/top-ups", json={"amount": 2500, "currency": "EUR"}, headers=headers, timeout=10
    )
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "pending" and made.json()["clientSecret"]
    top_up_id = made.json()["id"]
    outcome = requests.post(
        f"{runtime.base}/api/v1/dev/payments/{top_up_id}/succeed", json={}, headers=headers, timeout=10
    )
    assert outcome.status_code == 200, outcome.text
    deadline = time.monotonic() + 45
    while (
        requests.get(f"{runtime.base}/api/v1/wallet/top-ups/{top_up_id}", headers=headers, timeout=10).json()["status"]
        != "succeeded"
    ):
        assert time.monotonic() < deadline, "the top-up did not settle"
        time.sleep(0.5)
    wallet = requests.get(f"{runtime.base}/api/v1/wallet", headers=headers, timeout=10).json()
    assert wallet["balances"] == [{"currency": "EUR", "balance": 2500}]
    entries = requests.get(f"{runtime.base}/api/v1/wallet/transactions", headers=headers, timeout=10).json()
    assert [(e["kind"], e["amount"]) for e in entries["transactions"]] == [("top_up", 2500)]

    rooms = requests.get(f"{runtime.base}/api/v1/resources", params={"type": "room"}, timeout=10).json()
    room = next(r for r in rooms["resources"] if r["name"] == "Private double")
    body = {"resourceId": room["id"], "checkIn": "2027-06-07", "checkOut": "2027-06-08"}
    booked = requests.post(f"{runtime.base}/api/v1/bookings", json=body, headers=headers, timeout=10)
    assert booked.status_code == 201, booked.text
    document = requests.get(
        f"{runtime.base}/api/v1/bookings/{booked.json()['id']}/confirmation.pdf", headers=headers, timeout=30
    )
    assert document.status_code == 200
    assert document.headers["content-type"] == "application/pdf"
    assert document.content.startswith(b"%PDF-")
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(document.content)).pages)
    assert booked.json()["reference"] in text
