"""`GET /local/outbox` and `GET /local/outbox/{id}`: the e-mail the local stack "sent", as JSON for the console.

Local runtime only: the API worker (infra.local.api_worker) answers these paths before its adapter, so no deployed
stack has them and they are not in the OpenAPI document. The mail is what moto's SES captured, read and parsed by
infra.local.mail (what `make mail` prints); moto's endpoint is the one every local process is given
(`AWS_ENDPOINT_URL`, infra.local.environment). The console shows its outbox viewer only when the list answers.

- `GET /local/outbox` → `{"items": [{id, number, time, subject, from, to}]}`, newest first.
- `GET /local/outbox/{id}` → the e-mail: those fields plus `text`, `html` and `attachments` (`filename`,
  `contentType`, `size`, `base64`, and `text` when the part is text such as the `.ics`).
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from infra.local import mail

PREFIX = "/local/outbox"
# moto's message ids are hex and dashes; anything else cannot name a captured e-mail.
_ID = re.compile(r"^[A-Za-z0-9._-]{1,200}$")
_JSON = "application/json"
_PROBLEM = "application/problem+json"

Answer = tuple[int, list[tuple[str, str]], bytes]
Fetch = Callable[[str], dict[str, Any]]


def handles(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def answer(method: str, path: str, *, moto_url: str | None = None, fetch: Fetch | None = None) -> Answer | None:
    """The outbox's answer for `method path`, or None when the path is not the outbox's (the adapter's then).

    `moto_url` defaults to this process's `AWS_ENDPOINT_URL`; `fetch` (moto's data.json) is swappable for tests."""
    if not handles(path):
        return None
    if method not in ("GET", "HEAD"):
        return _problem(405, "method_not_allowed", "The outbox is read-only: use GET.", [("allow", "GET, HEAD")])
    try:
        mails = _captured(moto_url or os.environ.get("AWS_ENDPOINT_URL", ""), fetch or mail.fetch)
    except (OSError, ValueError) as exc:  # no endpoint, moto down or restarting, or a payload that is not JSON
        return _problem(503, "outbox_unavailable", f"Cannot read the e-mail moto captured: {exc}")
    wanted = path[len(PREFIX) :].strip("/")
    if not wanted:
        return _json({"items": [summary(found) for found in reversed(mails)]})
    found = next((one for one in mails if _ID.match(wanted) and one.message_id == wanted), None)
    if found is None:
        return _problem(404, "mail_not_found", f"No e-mail {wanted!r} in the outbox.")
    return _json(detail(found))


def _captured(endpoint: str, fetch: Fetch) -> list[mail.Mail]:
    if not endpoint:
        raise ValueError("this runtime has no moto endpoint (AWS_ENDPOINT_URL)")
    return mail.parse(fetch(endpoint))


def summary(found: mail.Mail) -> dict[str, Any]:
    return {
        "id": found.message_id,
        "number": found.number,
        "time": found.sent_at.isoformat() if found.sent_at else None,
        "subject": found.subject,
        "from": found.sender,
        "to": list(found.to),
    }


def detail(found: mail.Mail) -> dict[str, Any]:
    return {
        **summary(found),
        "text": found.text,
        "html": found.html,
        "attachments": [_attachment(part) for part in found.attachments],
    }


def _attachment(part: mail.Attachment) -> dict[str, Any]:
    text: str | None = None
    if part.content_type.startswith("text/"):
        # A calendar or a note is shown as text; a part that does not decode is offered as a download only.
        try:
            text = part.content.decode("utf-8")
        except UnicodeDecodeError:
            text = None
    return {
        "filename": part.filename,
        "contentType": part.content_type,
        "size": len(part.content),
        "text": text,
        "base64": base64.b64encode(part.content).decode("ascii"),
    }


def _headers(content_type: str) -> list[tuple[str, str]]:
    # The mail holds set-password links: never cached; and never sniffed into something a browser would run.
    return [("content-type", content_type), ("cache-control", "no-store"), ("x-content-type-options", "nosniff")]


def _json(body: dict[str, Any]) -> Answer:
    return 200, _headers(_JSON), json.dumps(body, ensure_ascii=False).encode("utf-8")


def _problem(status: int, code: str, detail_text: str, extra: list[tuple[str, str]] | None = None) -> Answer:
    """The API's problem+json shape (slotwise.api.problems), so the console shows it like any other error."""
    body = {
        "type": f"urn:slotwise:problem:{code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail_text,
        "code": code,
    }
    return status, _headers(_PROBLEM) + (extra or []), json.dumps(body).encode("utf-8")
