"""The `slotwise` console script against a running local runtime, run as an operator would: from another
directory, its exit codes and `--json` read by the test (docs/cli.md)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from infra.local.ports import free_port
from slotwise.events.envelope import DomainEvent
from slotwise.ops.export import CSV_COLUMNS
from slotwise.topology import TOPOLOGY
from tests.e2e.journey import sign_in, until
from tests.e2e.runtime import Runtime, running, runtime_env

pytestmark = pytest.mark.e2e
SCRIPT = Path(sys.executable).with_name("slotwise")
CUSTOMER = {"x-slotwise-user-id": "demo-customer", "x-slotwise-role": "customer"}
DAY = "2027-05-04"


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    with running(tmp_path_factory.mktemp("cli-runtime")) as started:
        yield started


def slotwise(
    runtime: Runtime | None, *args: str, state_dir: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    folder = state_dir or (runtime.state_dir if runtime else Path("/nonexistent"))
    return subprocess.run(
        [str(SCRIPT), "--state-dir", str(folder), *args],
        cwd="/",  # any directory: the console script finds its own packages
        env=runtime_env(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def as_json(done: subprocess.CompletedProcess[str], code: int = 0) -> Any:
    assert done.returncode == code, f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return json.loads(done.stdout)


def book(runtime: Runtime, start: str, end: str) -> dict[str, Any]:
    rooms = requests.get(f"{runtime.base}/api/v1/resources", params={"type": "meeting_room"}, timeout=10).json()
    body = {"resourceId": rooms["resources"][0]["id"], "startTime": start, "endTime": end}
    made = requests.post(f"{runtime.base}/api/v1/bookings", json=body, headers=CUSTOMER, timeout=10)
    assert made.status_code == 201, made.text
    return dict(made.json())


def notifications(runtime: Runtime) -> list[dict[str, Any]]:
    listed = requests.get(f"{runtime.base}/api/v1/notifications", params={"limit": 100}, headers=CUSTOMER, timeout=10)
    assert listed.status_code == 200, listed.text
    return list(listed.json()["notifications"])


def of_event(runtime: Runtime, event_id: str) -> list[dict[str, Any]]:
    return [n for n in notifications(runtime) if n["eventId"] == event_id]


def queues_idle(runtime: Runtime) -> bool:
    items = as_json(slotwise(runtime, "dlq", "list", "--json"))["items"]
    return all(item["visible"] == 0 and item["inFlight"] == 0 for item in items)


@pytest.fixture(scope="module")
def confirmed(runtime: Runtime) -> dict[str, Any]:
    """A confirmed booking whose `booking.confirmed` notification the customer already has."""
    made = book(runtime, f"{DAY}T10:00:00+01:00", f"{DAY}T11:00:00+01:00")
    assert made["status"] == "confirmed"
    until(lambda: of_event(runtime, f"booking:{made['id']}:{made['version']}"), 45)
    return made


def test_help_lists_every_command_from_any_directory() -> None:
    done = subprocess.run([str(SCRIPT), "--help"], cwd="/", capture_output=True, text=True, timeout=60, check=True)
    for command in ("users", "seed", "dlq", "events", "bookings", "jobs", "doctor"):
        assert command in done.stdout
    for group, commands in {"dlq": ("list", "show", "redrive"), "events": ("replay",), "bookings": ("export",)}.items():
        listed = subprocess.run([str(SCRIPT), group, "--help"], capture_output=True, text=True, timeout=60, check=True)
        assert all(name in listed.stdout for name in commands), listed.stdout
    assert slotwise(None, "dlq", "nonsense").returncode == 2  # usage


def test_doctor_says_what_is_up_and_fails_when_something_is_down(runtime: Runtime, tmp_path: Path) -> None:
    report = as_json(slotwise(runtime, "doctor", "--json"))
    assert report["ok"] is True
    assert {c["name"] for c in report["checks"] if c["ok"]} >= {"python", "java", "dynamodb-local", "moto", "api"}

    # The same runtime with moto "gone": its port answers nothing.
    endpoints = json.loads((runtime.state_dir / "runtime.json").read_text())
    endpoints["moto"] = f"http://127.0.0.1:{free_port()}"
    (tmp_path / "runtime.json").write_text(json.dumps(endpoints))
    down = as_json(slotwise(runtime, "doctor", "--json", state_dir=tmp_path), code=1)
    assert down["ok"] is False
    assert [c["name"] for c in down["checks"] if not c["ok"]] == ["moto"]
    # Any other command against it cannot reach the stack: exit 3, the reason on stderr.
    unreachable = slotwise(runtime, "dlq", "list", state_dir=tmp_path)
    assert unreachable.returncode == 3 and "moto" in unreachable.stderr
    # No runtime at all.
    assert slotwise(None, "doctor", state_dir=tmp_path / "none").returncode == 1
    assert slotwise(None, "dlq", "list", "--json", state_dir=tmp_path / "none").returncode == 3


def test_a_poisoned_message_redriven_from_the_dlq_is_processed_exactly_once(
    runtime: Runtime, confirmed: dict[str, Any]
) -> None:
    """A reminder event the notifier gave up on sits in its DLQ; `dlq redrive` moves it back, the customer is reminded
    once, and moving the same message back again (a duplicate) reminds nobody twice."""
    booking = requests.get(f"{runtime.base}/api/v1/bookings/{confirmed['id']}", headers=CUSTOMER, timeout=10).json()
    event = DomainEvent(
        type="booking.reminder",
        aggregate="booking",
        aggregate_id=booking["id"],
        aggregate_version=booking["version"],
        occurred_at=datetime.now(UTC),
        data=booking,
        qualifier="reminder-60",
        previous={"reminderMinutes": 60},
    )
    import boto3

    moto = json.loads((runtime.state_dir / "runtime.json").read_text())["moto"]
    sqs = boto3.client("sqs", endpoint_url=moto, region_name="us-east-1")
    dlq_url = sqs.get_queue_url(QueueName=TOPOLOGY.queue("notifications").dlq_name)["QueueUrl"]
    sqs.send_message(QueueUrl=dlq_url, MessageBody=json.dumps(event.bus_event(), default=str))

    listed = {i["name"]: i for i in as_json(slotwise(runtime, "dlq", "list", "--json"))["items"]}
    assert listed["notifications"]["deadLetter"] == {"name": "notifications-dlq", "visible": 1}
    shown = as_json(slotwise(runtime, "dlq", "show", "notifications", "--json"))["messages"]
    assert [(m["eventId"], m["eventType"]) for m in shown] == [(event.id, "booking.reminder")]
    assert of_event(runtime, event.id) == []

    assert as_json(slotwise(runtime, "dlq", "redrive", "notifications", "--json")) == {
        "queue": "notifications",
        "moved": 1,
    }
    reminded = until(lambda: of_event(runtime, event.id), 45)
    assert len(reminded) == 1
    assert as_json(slotwise(runtime, "dlq", "redrive", "notifications", "--json"))["moved"] == 0

    # The same message dead-lettered and moved back once more: handled again, reminded once all the same.
    sqs.send_message(QueueUrl=dlq_url, MessageBody=json.dumps(event.bus_event(), default=str))
    assert as_json(slotwise(runtime, "dlq", "redrive", "notifications", "--json"))["moved"] == 1
    until(lambda: queues_idle(runtime), 45)
    assert len(of_event(runtime, event.id)) == 1
    depths = {i["name"]: i for i in as_json(slotwise(runtime, "dlq", "list", "--json"))["items"]}
    assert depths["notifications"]["deadLetter"]["visible"] == 0


def test_a_replay_republishes_the_windows_events_and_consumers_add_nothing(
    runtime: Runtime, confirmed: dict[str, Any]
) -> None:
    until(lambda: queues_idle(runtime), 45)
    before = sorted((n["id"], n["eventId"]) for n in notifications(runtime))
    start = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    end = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()

    dry = as_json(slotwise(runtime, "events", "replay", "--from", start, "--to", end, "--dry-run", "--json"))
    assert dry["published"] == 0 and dry["events"] >= 1
    assert dry["byType"].get("booking.confirmed", 0) >= 1

    replayed = as_json(slotwise(runtime, "events", "replay", "--from", start, "--to", end, "--json"))
    assert replayed["published"] == replayed["events"] == dry["events"]
    assert replayed["refused"] == []
    # The bus delivered them again (the notifier's queue had work), and the consumers deduplicated every one.
    until(lambda: queues_idle(runtime), 60)
    after = sorted((n["id"], n["eventId"]) for n in notifications(runtime))
    assert after == before

    # A window with no change in it publishes nothing; a reversed one is a usage error.
    old = as_json(
        slotwise(runtime, "events", "replay", "--from", "2020-01-01T00:00:00Z", "--to", "2020-01-02T00:00Z", "--json")
    )
    assert (old["records"], old["published"]) == (0, 0)
    assert slotwise(runtime, "events", "replay", "--from", end, "--to", start).returncode == 2
    assert slotwise(runtime, "events", "replay", "--from", "2026-01-01T00:00:00", "--to", end).returncode == 2


def test_bookings_export_as_csv_and_jsonl_holds_exactly_the_window(
    runtime: Runtime, confirmed: dict[str, Any], tmp_path: Path
) -> None:
    later = book(runtime, "2027-05-06T10:00:00+01:00", "2027-05-06T11:00:00+01:00")
    window = ("--from", f"{DAY}T00:00:00Z", "--to", "2027-05-05T00:00:00Z")

    exported = slotwise(runtime, "bookings", "export", *window, "--format", "csv")
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert tuple(csv.DictReader(io.StringIO(exported.stdout)).fieldnames or ()) == CSV_COLUMNS
    assert [row["id"] for row in rows] == [confirmed["id"]]
    row = rows[0]
    assert (row["reference"], row["status"], row["currency"]) == (
        confirmed["reference"],
        "confirmed",
        confirmed["price"]["currency"],
    )
    assert int(row["amount"]) == confirmed["price"]["amount"]
    assert row["startTime"] == confirmed["startTime"]

    out = tmp_path / "bookings.jsonl"
    wide = ("--from", f"{DAY}T00:00:00Z", "--to", "2027-05-07T00:00:00Z")
    summary = as_json(slotwise(runtime, "bookings", "export", *wide, "--format", "jsonl", "--out", str(out), "--json"))
    assert summary["bookings"] == 2 and summary["out"] == str(out)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(b["id"] for b in lines) == sorted([confirmed["id"], later["id"]])
    assert all("lockKeys" not in b for b in lines)  # the API's shape, not the item
    assert slotwise(runtime, "bookings", "export", *window, "--format", "xml").returncode == 2


def test_jobs_run_one_scheduled_job(runtime: Runtime) -> None:
    done = as_json(slotwise(runtime, "jobs", "run", "booking-timers", "--json"))
    assert done["job"] == "booking-timers"
    missing = slotwise(runtime, "jobs", "run", "no-such-job")
    assert missing.returncode == 2 and "hold-expiry" in missing.stderr


def test_an_admin_made_by_the_cli_signs_in(runtime: Runtime) -> None:
    password = "Operator-keys-42"
    made = as_json(
        slotwise(
            runtime,
            "users",
            "create-admin",
            "--email",
            "ops@x.test",
            "--name",
            "Ops",
            "--password-stdin",
            "--json",
            stdin=password + "\n",
        )
    )
    assert (made["role"], made["status"], made["email"]) == ("admin", "active", "ops@x.test")
    headers = sign_in(runtime, "ops@x.test", password)
    assert requests.get(f"{runtime.base}/api/v1/admin/queues", headers=headers, timeout=10).status_code == 200
    again = slotwise(
        runtime, "users", "create-admin", "--email", "ops@x.test", "--password-stdin", stdin="Other-keys-43\n"
    )
    assert again.returncode == 1 and "already exists" in again.stderr
    weak = slotwise(runtime, "users", "create-admin", "--email", "weak@x.test", "--password-stdin", stdin="short\n")
    assert weak.returncode == 2 and "too weak" in weak.stderr


def test_seed_is_local_only_and_loads_once(runtime: Runtime) -> None:
    counts = as_json(slotwise(runtime, "seed", "--json"))
    assert counts["venues"] == 0 and counts["users"] == 0  # `make dev` loaded it already
    assert slotwise(runtime, "--stack", "prod", "seed").returncode == 2
