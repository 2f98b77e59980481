"""`python -m infra.local mail`: the e-mail moto's SES captured, read from its `/moto-api/data.json` payload.

The payload here is the one moto itself builds (its data.json view, called in process: no sockets), after the
notifier's own MIME builder sent a message through moto's SES, so the parser is judged on what `make dev` sees.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.local import __main__ as cli
from infra.local import mail
from slotwise.notifications.templates import Rendered
from slotwise.settings import get_settings
from tests.support.moto_mail import CALENDAR, send_and_capture


@pytest.fixture
def captured(aws: None) -> dict[str, Any]:
    rendered = Rendered(
        locale="pt",
        subject="Reserva confirmada — Sala Tejo",
        text="Olá Ana,\nA sua reserva está confirmada.",
        html="<p>Olá Ana,</p><p>A sua reserva está confirmada.</p>",
        title="Reserva confirmada",
        body="Sala Tejo",
    )
    return send_and_capture(rendered, to_name="Ana Çarvalho")


def test_the_payload_lists_each_email_with_time_sender_recipients_and_subject(captured: dict[str, Any]) -> None:
    first, second = mail.parse(captured)
    assert first.number == 1
    assert first.sent_at is not None and first.sent_at.tzinfo is not None
    assert first.sender == f"Slotwise <{get_settings().email_from}>"
    assert first.to == ("Ana Çarvalho <ana@example.test>",)
    assert first.subject == "Reserva confirmada — Sala Tejo"
    assert second.number == 2 and second.subject == "Plain note" and second.to == ("ops@example.test",)
    assert second.sent_at is None and second.text == "just text"

    table = mail.listing([first, second])
    header, row1, row2 = table.splitlines()
    assert header.split() == ["#", "time", "from", "to", "subject"]
    assert row1.startswith("1 ") and row1.endswith("Reserva confirmada — Sala Tejo") and "ana@example.test" in row1
    assert row2.startswith("2 ") and row2.endswith("Plain note")
    assert mail.listing([]) == "no e-mail captured yet"


def test_one_email_shows_its_bodies_and_the_ics(captured: dict[str, Any]) -> None:
    first = mail.parse(captured)[0]
    assert first.text is not None and "A sua reserva está confirmada." in first.text
    assert first.html is not None and "<p>Olá Ana,</p>" in first.html
    (ics,) = first.attachments
    assert (ics.filename, ics.content_type) == ("booking.ics", "text/calendar")
    assert ics.content.decode() == CALENDAR
    shown = mail.show(first)
    assert "Subject: Reserva confirmada — Sala Tejo" in shown
    assert "booking.ics (text/calendar" in shown
    assert "--- text ---" in shown and "--- html ---" in shown


def test_out_writes_bodies_and_attachments(captured: dict[str, Any], tmp_path: Path) -> None:
    first, second = mail.parse(captured)
    written = {path.relative_to(tmp_path).as_posix() for path in mail.write(first, tmp_path)}
    assert written == {"001/message.eml", "001/body.txt", "001/body.html", "001/booking.ics"}
    assert (tmp_path / "001" / "booking.ics").read_bytes() == CALENDAR.encode()
    assert "Olá Ana" in (tmp_path / "001" / "body.html").read_text(encoding="utf-8")
    assert [p.name for p in mail.write(second, tmp_path)] == ["body.txt"]


def test_attachment_names_cannot_leave_the_folder(tmp_path: Path) -> None:
    hostile = mail.Mail(
        number=7,
        message_id="m",
        sent_at=None,
        sender="a@x.test",
        to=(),
        subject="s",
        attachments=(
            mail.Attachment("../../etc/passwd", "text/plain", b"x"),
            mail.Attachment("..", "text/plain", b"y"),
        ),
    )
    written = mail.write(hostile, tmp_path)
    assert all(path.parent == tmp_path / "007" for path in written)
    assert sorted(path.name for path in written) == ["attachment", "passwd"]


def test_the_cli_lists_shows_and_saves(
    captured: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked: list[str] = []

    def fake_fetch(url: str, timeout: float = 10) -> dict[str, Any]:
        asked.append(url)
        return captured

    monkeypatch.setattr(mail, "fetch", fake_fetch)
    assert cli.main(["mail", "--moto-url", "http://127.0.0.1:5050"]) == 0
    assert "Reserva confirmada — Sala Tejo" in capsys.readouterr().out
    assert cli.main(["mail", "--moto-url", "http://127.0.0.1:5050", "--show", "1", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "booking.ics" in out and f"wrote {tmp_path / '001' / 'booking.ics'}" in out
    assert cli.main(["mail", "--moto-url", "http://127.0.0.1:5050", "--show", "9"]) == 2
    assert "no e-mail #9 (2 captured)" in capsys.readouterr().err
    assert asked == ["http://127.0.0.1:5050"] * 3


def test_without_a_running_stack_the_cli_says_so(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="make dev"):
        cli.main(["--state-dir", str(tmp_path), "mail"])
