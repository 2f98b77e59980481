"""`GET /local/outbox[/{id}]` (infra.local.outbox): the e-mail moto's SES captured, as the console's JSON.

The payload is the one moto itself builds (its data.json view, called in process) after the notifier's own MIME
builder sent a message through moto's SES, as in tests/unit/test_mail_viewer.py.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from infra.local import outbox
from slotwise.notifications.templates import Rendered
from slotwise.settings import get_settings
from tests.support.moto_mail import CALENDAR, send_and_capture

MOTO = "http://127.0.0.1:5050"


@pytest.fixture
def captured(aws: None) -> dict[str, Any]:
    rendered = Rendered(
        locale="en",
        subject="Booking confirmed — Room 1",
        text="Hello Ana,\nYour booking is confirmed.",
        html="<p>Hello Ana,</p><script>alert(1)</script>",
        title="Booking confirmed",
        body="Room 1",
    )
    return send_and_capture(rendered, to_name="Ana")


def _get(path: str, data: dict[str, Any], method: str = "GET") -> tuple[int, dict[str, str], dict[str, Any]]:
    asked: list[str] = []

    def fetch(url: str) -> dict[str, Any]:
        asked.append(url)
        return data

    answered = outbox.answer(method, path, moto_url=MOTO, fetch=fetch)
    assert answered is not None
    status, headers, body = answered
    assert asked == ([MOTO] if status != 405 else [])
    return status, dict(headers), json.loads(body)


def test_the_list_is_newest_first_with_time_sender_recipients_and_subject(captured: dict[str, Any]) -> None:
    status, headers, body = _get("/local/outbox", captured)
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert headers["cache-control"] == "no-store"  # it holds set-password links
    plain, confirmation = body["items"]
    assert plain["subject"] == "Plain note" and plain["number"] == 2 and plain["to"] == ["ops@example.test"]
    assert plain["time"] is None  # SendEmail keeps no Date header
    assert confirmation["number"] == 1
    assert confirmation["subject"] == "Booking confirmed — Room 1"
    assert confirmation["from"] == f"Slotwise <{get_settings().email_from}>"
    assert confirmation["to"] == ["Ana <ana@example.test>"]
    assert "+00:00" in confirmation["time"] or confirmation["time"].endswith("Z")
    assert set(confirmation) == {"id", "number", "time", "subject", "from", "to"}
    assert confirmation["id"] and confirmation["id"] != plain["id"]


def test_one_email_has_its_bodies_and_the_ics_as_text_and_bytes(captured: dict[str, Any]) -> None:
    _, _, listed = _get("/local/outbox", captured)
    wanted = listed["items"][1]["id"]
    status, _, body = _get(f"/local/outbox/{wanted}", captured)
    assert status == 200
    assert body["id"] == wanted and body["subject"] == "Booking confirmed — Room 1"
    assert "Your booking is confirmed." in body["text"]
    assert "<p>Hello Ana,</p>" in body["html"]  # as sent: the console shows it in a sandboxed frame
    (ics,) = body["attachments"]
    assert (ics["filename"], ics["contentType"]) == ("booking.ics", "text/calendar")
    assert ics["text"] == CALENDAR
    assert base64.b64decode(ics["base64"]) == CALENDAR.encode()
    assert ics["size"] == len(CALENDAR.encode())


def test_an_unknown_or_hostile_id_is_a_404_problem(captured: dict[str, Any]) -> None:
    for path in ("/local/outbox/nope", "/local/outbox/../../etc/passwd", "/local/outbox/a b"):
        status, headers, body = _get(path, captured)
        assert status == 404, path
        assert headers["content-type"] == "application/problem+json"
        assert body["code"] == "mail_not_found" and body["status"] == 404


def test_only_reads_and_only_its_own_paths(captured: dict[str, Any]) -> None:
    status, headers, body = _get("/local/outbox", captured, method="POST")
    assert (status, body["code"], headers["allow"]) == (405, "method_not_allowed", "GET, HEAD")
    assert outbox.answer("GET", "/local/outboxes", moto_url=MOTO, fetch=lambda _: captured) is None
    assert outbox.answer("GET", "/api/v1/health", moto_url=MOTO, fetch=lambda _: captured) is None


def test_moto_unreachable_or_unset_is_a_503_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    def down(url: str) -> dict[str, Any]:
        raise ConnectionRefusedError(111, "Connection refused")

    answered = outbox.answer("GET", "/local/outbox", moto_url=MOTO, fetch=down)
    assert answered is not None and answered[0] == 503
    assert json.loads(answered[2])["code"] == "outbox_unavailable"
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    answered = outbox.answer("GET", "/local/outbox", fetch=lambda _: {})
    assert answered is not None and answered[0] == 503
    assert "AWS_ENDPOINT_URL" in json.loads(answered[2])["detail"]


def test_the_api_document_does_not_list_it() -> None:
    from slotwise.api.docs import SPEC_PATH

    paths = json.loads(SPEC_PATH.read_text(encoding="utf-8"))["paths"]
    assert not [path for path in paths if "/local/" in path]
