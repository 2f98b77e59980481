"""`python -m infra.local mail` (`make mail`) against a running local runtime: a booking made over HTTP becomes the
notifier's e-mail in moto's SES, and the viewer lists it, shows it and saves its `.ics`; an invitation's link too."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.e2e.runtime import ROOT, Runtime, running, runtime_env

pytestmark = pytest.mark.e2e
CUSTOMER = {"x-slotwise-user-id": "demo-customer", "x-slotwise-role": "customer"}


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    with running(tmp_path_factory.mktemp("mail-runtime")) as started:
        yield started


def mail(runtime: Runtime, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "infra.local", "--state-dir", str(runtime.state_dir), "mail", *args],
        cwd=ROOT,
        env=runtime_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def test_a_confirmation_email_is_listed_shown_and_saved(runtime: Runtime, tmp_path: Path) -> None:
    assert "no e-mail captured yet" in mail(runtime)
    rooms = requests.get(f"{runtime.base}/api/v1/resources", params={"type": "meeting_room"}, timeout=10).json()
    body = {
        "resourceId": rooms["resources"][0]["id"],
        "startTime": "2027-05-04T10:00:00+01:00",
        "endTime": "2027-05-04T11:00:00+01:00",
    }
    made = requests.post(f"{runtime.base}/api/v1/bookings", json=body, headers=CUSTOMER, timeout=10)
    assert made.status_code == 201, made.text

    deadline = time.monotonic() + 45
    while not re.search(r"^1 .*customer@demo\.slotwise\.test.*Booking confirmed", listing := mail(runtime), re.M):
        assert time.monotonic() < deadline, f"the confirmation e-mail did not arrive:\n{listing}"
        time.sleep(0.5)

    shown = mail(runtime, "--show", "1", "--out", str(tmp_path))
    assert "Subject: Booking confirmed" in shown
    assert "booking.ics (text/calendar" in shown
    assert made.json()["reference"] in shown
    ics = (tmp_path / "001" / "booking.ics").read_text(encoding="utf-8")
    assert "METHOD:REQUEST" in ics and f"UID:{made.json()['id']}@slotwise" in ics
    assert (tmp_path / "001" / "message.eml").exists()


def test_an_invitations_link_is_shown_and_sets_the_password(runtime: Runtime) -> None:
    """POST /admin/users e-mails a set-password link (sent by the admin function itself, not the notifier); the
    viewer shows it, and its token sets the password once."""
    admin = {"x-slotwise-user-id": "demo-admin", "x-slotwise-role": "admin"}
    body = {"email": "sam@hostel.test", "name": "Sam Staff", "role": "staff"}
    made = requests.post(f"{runtime.base}/api/v1/admin/users", json=body, headers=admin, timeout=10)
    assert made.status_code == 201, made.text
    line = re.search(r"^(\d+) .*sam@hostel\.test.*choose a password", mail(runtime), re.M)
    assert line, "the invitation e-mail was not captured"
    shown = mail(runtime, "--show", line.group(1))
    token = re.search(r"token=([\w.-]+)", shown)
    assert token and token.group(1).startswith(made.json()["id"] + ".")
    chosen = {"token": token.group(1), "password": "Another-pony-77"}
    assert requests.post(f"{runtime.base}/api/v1/auth/password/set", json=chosen, timeout=30).status_code == 204
    again = requests.post(f"{runtime.base}/api/v1/auth/password/set", json=chosen, timeout=30)
    assert (again.status_code, again.json()["code"]) == (400, "invalid_password_token")
    login = {"email": "sam@hostel.test", "password": "Another-pony-77"}
    assert requests.post(f"{runtime.base}/api/v1/auth/login", json=login, timeout=30).status_code == 200


def test_the_local_outbox_route_serves_the_same_mail_as_json(runtime: Runtime) -> None:
    """`GET /local/outbox[/{id}]` (infra.local.outbox, what the console's outbox viewer reads) answers from the API
    port with the e-mail the tests above made, the booking's `.ics` included; the API's own document omits it."""
    listed = requests.get(f"{runtime.base}/local/outbox", timeout=30)
    assert listed.status_code == 200, listed.text
    assert listed.headers["cache-control"] == "no-store"
    items = listed.json()["items"]
    assert [item["number"] for item in items] == sorted((item["number"] for item in items), reverse=True)
    confirmation = next(item for item in items if item["subject"].startswith("Booking confirmed"))
    assert any("customer@demo.slotwise.test" in address for address in confirmation["to"])

    opened = requests.get(f"{runtime.base}/local/outbox/{confirmation['id']}", timeout=30)
    assert opened.status_code == 200, opened.text
    body = opened.json()
    assert body["html"] and body["text"]
    (ics,) = [part for part in body["attachments"] if part["filename"] == "booking.ics"]
    assert ics["contentType"] == "text/calendar" and "METHOD:REQUEST" in ics["text"]

    missing = requests.get(f"{runtime.base}/local/outbox/no-such-mail", timeout=30)
    assert (missing.status_code, missing.json()["code"]) == (404, "mail_not_found")
    document = requests.get(f"{runtime.base}/api/v1/openapi.json", timeout=30).json()
    assert not [path for path in document["paths"] if path.startswith("/local")]
