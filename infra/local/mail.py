"""`python -m infra.local mail` — the e-mail the local stack "sent": what moto's SES captured, listed and opened.

Locally the notifier sends through moto's SES (`SendRawEmail`), which delivers nothing and keeps every message in
memory. moto shows its state at `/moto-api/data.json` (`ses` -> `RawMessage`: id, source, destinations and the raw
MIME text; `Message` for plain `SendEmail`); this module reads that, parses the MIME and prints or saves it.
"""

from __future__ import annotations

import email
import json
import re
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

DATA_PATH = "/moto-api/data.json"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Mail:
    """One captured e-mail; `number` (1, 2, …) is its place in sending order, what `--show N` takes."""

    number: int
    message_id: str
    sent_at: datetime | None
    sender: str
    to: tuple[str, ...]
    subject: str
    text: str | None = None
    html: str | None = None
    attachments: tuple[Attachment, ...] = field(default=())
    raw: str | None = None


def fetch(moto_url: str, timeout: float = 10) -> dict[str, Any]:
    """moto's whole state as JSON (a running moto server's `/moto-api/data.json`)."""
    url = moto_url.rstrip("/") + DATA_PATH
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url}")
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - scheme checked above
        data: dict[str, Any] = json.loads(response.read())
    return data


def parse(data: Mapping[str, Any]) -> list[Mail]:
    """Every e-mail in a data.json payload, in the order moto received them."""
    ses = data.get("ses", {})
    found: list[Mail] = []
    for item in ses.get("RawMessage", []):
        found.append(_raw_mail(len(found) + 1, item))
    for item in ses.get("Message", []):
        found.append(_plain_mail(len(found) + 1, item))
    return found


def _raw_mail(number: int, item: Mapping[str, Any]) -> Mail:
    raw = str(item.get("raw_data", ""))
    # moto keeps the bytes it was sent decoded as UTF-8; parsing them as bytes again lets 8bit parts decode right.
    message = email.message_from_bytes(raw.encode("utf-8"), policy=default_policy)
    assert isinstance(message, EmailMessage)
    text = _body(message, "plain")
    html = _body(message, "html")
    attachments = tuple(
        Attachment(
            filename=part.get_filename() or f"part-{position}",
            content_type=part.get_content_type(),
            content=_payload(part),
        )
        for position, part in enumerate(message.iter_attachments(), start=1)
    )
    recipients = message.get_all("To") or item.get("destinations") or []
    return Mail(
        number=number,
        message_id=str(item.get("id", "")),
        sent_at=_date(message.get("Date")),
        sender=str(message.get("From") or item.get("source", "")),
        to=tuple(str(address) for address in recipients),
        subject=str(message.get("Subject", "")),
        text=text,
        html=html,
        attachments=attachments,
        raw=raw,
    )


def _plain_mail(number: int, item: Mapping[str, Any]) -> Mail:
    destinations = item.get("destinations") or {}
    to = [address for kind in ("ToAddresses", "CcAddresses", "BccAddresses") for address in destinations.get(kind, [])]
    return Mail(
        number=number,
        message_id=str(item.get("id", "")),
        sent_at=None,
        sender=str(item.get("source", "")),
        to=tuple(to),
        subject=str(item.get("subject", "")),
        text=str(item.get("body", "")),
    )


def _payload(part: EmailMessage) -> bytes:
    content = part.get_payload(decode=True)
    return content if isinstance(content, bytes) else b""


def _body(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return None
    content = part.get_content()
    return content if isinstance(content, str) else bytes(content).decode("utf-8", "replace")


def _date(value: object) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None


# --- output ------------------------------------------------------------------------------------------------------


def listing(mails: Iterable[Mail]) -> str:
    rows = [("#", "time", "from", "to", "subject")]
    for mail in mails:
        when = mail.sent_at.strftime("%Y-%m-%d %H:%M:%S") if mail.sent_at else "-"
        rows.append((str(mail.number), when, mail.sender, ", ".join(mail.to), mail.subject))
    if len(rows) == 1:
        return "no e-mail captured yet"
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    return "\n".join(
        "  ".join([*(value.ljust(width) for value, width in zip(row[:4], widths, strict=True)), row[4]]).rstrip()
        for row in rows
    )


def show(mail: Mail) -> str:
    lines = [
        f"#{mail.number}  {mail.message_id}",
        f"Date:    {mail.sent_at.isoformat() if mail.sent_at else '-'}",
        f"From:    {mail.sender}",
        f"To:      {', '.join(mail.to)}",
        f"Subject: {mail.subject}",
    ]
    if mail.attachments:
        lines.append(
            "Attachments: "
            + ", ".join(f"{a.filename} ({a.content_type}, {len(a.content)} bytes)" for a in mail.attachments)
        )
    if mail.text is not None:
        lines += ["", "--- text ---", mail.text.rstrip()]
    if mail.html is not None:
        lines += ["", "--- html ---", mail.html.rstrip()]
    return "\n".join(lines)


def _safe(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name).strip("._")
    return cleaned or "attachment"


def write(mail: Mail, out: Path) -> list[Path]:
    """Save one e-mail under `out/<number>/`: message.eml, body.txt, body.html and each attachment."""
    folder = out / f"{mail.number:03d}"
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def save(name: str, content: bytes) -> None:
        path = folder / name
        path.write_bytes(content)
        written.append(path)

    if mail.raw is not None:
        save("message.eml", mail.raw.encode("utf-8"))
    if mail.text is not None:
        save("body.txt", mail.text.encode("utf-8"))
    if mail.html is not None:
        save("body.html", mail.html.encode("utf-8"))
    for attachment in mail.attachments:
        name = _safe(attachment.filename)
        if name in {"message.eml", "body.txt", "body.html"}:
            name = f"attachment-{name}"
        save(name, attachment.content)
    return written
