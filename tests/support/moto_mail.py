"""E-mail through moto's SES, read back as `make dev` sees it: the notifier's own MIME builder sends one message
with a calendar attachment, a plain SES send adds a second, and moto's `/moto-api/data.json` view (called in process:
no sockets) is the payload the local mail tools parse (`infra.local.mail`, `infra.local.outbox`)."""

from __future__ import annotations

import json
from typing import Any

import boto3

from slotwise.notifications import mail as notifier_mail
from slotwise.notifications.templates import Rendered
from slotwise.settings import get_settings

CALENDAR = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:b-1@slotwise\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"


def moto_data_json() -> dict[str, Any]:
    """What GET /moto-api/data.json answers, from moto's own handler."""
    from moto.moto_api._internal.responses import MotoAPIResponse

    status, _, body = MotoAPIResponse().model_data(None, "", {})
    assert status == 200
    data: dict[str, Any] = json.loads(body)
    return data


def send_and_capture(rendered: Rendered, *, to_name: str) -> dict[str, Any]:
    """Inside `mock_aws`: only these two messages (moto's view spans the process), then moto's data.json payload."""
    from moto.core.model_instances import reset_model_data

    reset_model_data()
    ses = boto3.client("ses")
    ses.verify_email_identity(EmailAddress=get_settings().email_from)
    message = notifier_mail.build_message(
        to_address="ana@example.test", to_name=to_name, rendered=rendered, calendar=CALENDAR, method="REQUEST"
    )
    notifier_mail.send(message)
    ses.send_email(
        Source=get_settings().email_from,
        Destination={"ToAddresses": ["ops@example.test"]},
        Message={"Subject": {"Data": "Plain note"}, "Body": {"Text": {"Data": "just text"}}},
    )
    return moto_data_json()
