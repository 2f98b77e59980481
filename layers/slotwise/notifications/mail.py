"""E-mail as one raw MIME message through SES `SendRawEmail`: text and HTML alternatives, plus the booking's
`.ics` as a `text/calendar` part (with its iTIP method, so mail clients offer to add, update or remove the event)
and, for a confirmation, the booking's PDF (`application/pdf`, slotwise.notifications.pdf)."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, formatdate

from slotwise import aws
from slotwise.notifications.ics import Method
from slotwise.notifications.templates import Rendered
from slotwise.settings import get_settings

SENDER_NAME = "Slotwise"


def sender() -> str:
    return formataddr((SENDER_NAME, get_settings().email_from))


@dataclass(frozen=True)
class PdfAttachment:
    filename: str
    content: bytes


def build_message(
    *,
    to_address: str,
    to_name: str | None,
    rendered: Rendered,
    calendar: str | None,
    method: Method | None,
    pdf: PdfAttachment | None = None,
) -> EmailMessage:
    message = EmailMessage(policy=SMTP)
    message["From"] = sender()
    message["To"] = formataddr((to_name or "", to_address))
    message["Subject"] = rendered.subject
    message["Date"] = formatdate(usegmt=True)
    message.set_content(rendered.text, charset="utf-8")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8")
    if calendar is not None and method is not None:
        message.add_attachment(
            calendar.encode(),
            maintype="text",
            subtype="calendar",
            filename="booking.ics",
            params={"method": method, "charset": "UTF-8"},
        )
    if pdf is not None:
        message.add_attachment(pdf.content, maintype="application", subtype="pdf", filename=pdf.filename)
    # After the content: set_content() drops every Content-* header already there.
    message["Content-Language"] = rendered.locale
    return message


def send(message: EmailMessage) -> str:
    """Send it; returns SES's message id. SES errors propagate (the caller marks the e-mail failed)."""
    response = aws.ses().send_raw_email(Source=sender(), RawMessage={"Data": message.as_bytes()})
    return response["MessageId"]
