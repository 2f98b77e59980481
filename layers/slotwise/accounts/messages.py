"""The e-mails that carry set-password and reset links, in English and Portuguese (the account's locale).

They are sent at once, from the request that made the link (the `admin` and `auth` functions may send through
SES), not through the outbox: an event would store the raw token in the table and on the bus, and only its hash
may be stored anywhere. A send that fails is logged and counted (metric `AccountMailFailed`); the link's owner can
ask for a new one with `POST /auth/password/forgot`.
"""

from __future__ import annotations

import html
from typing import Literal
from urllib.parse import quote

from aws_lambda_powertools.metrics import MetricUnit

from slotwise.identity.account_links import TOKEN_SECONDS, Purpose
from slotwise.notifications import mail
from slotwise.notifications.templates import Rendered
from slotwise.observability import logger, metrics
from slotwise.settings import get_settings

Language = Literal["en", "pt"]
_HOURS = TOKEN_SECONDS // 3600

TEXTS: dict[Language, dict[str, str]] = {
    "en": {
        "set_subject": "Your Slotwise account: choose a password",
        "set_lead": "An account was made for you on Slotwise ({email}, {role}). Choose your password with this link:",
        "reset_subject": "Reset your Slotwise password",
        "reset_lead": "Someone asked to reset the password of your Slotwise account ({email}). If it was you, "
        "choose a new password with this link:",
        "expiry": "The link works once, for {hours} hours.",
        "reset_ignore": "If it was not you, ignore this message: your password stays as it is.",
        "hello": "Hello {name},",
    },
    "pt": {
        "set_subject": "A sua conta Slotwise: escolha uma palavra-passe",
        "set_lead": "Foi criada uma conta para si na Slotwise ({email}, {role}). Escolha a sua palavra-passe com "
        "esta ligação:",
        "reset_subject": "Redefinir a sua palavra-passe Slotwise",
        "reset_lead": "Alguém pediu para redefinir a palavra-passe da sua conta Slotwise ({email}). Se foi você, "
        "escolha uma nova palavra-passe com esta ligação:",
        "expiry": "A ligação funciona uma vez, durante {hours} horas.",
        "reset_ignore": "Se não foi você, ignore esta mensagem: a sua palavra-passe não muda.",
        "hello": "Olá {name},",
    },
}


def language(locale: str) -> Language:
    return "pt" if locale.lower().split("-", 1)[0] == "pt" else "en"


def link(purpose: Purpose, token: str) -> str:
    """The link the e-mail carries (SLOTWISE_ACCOUNT_LINK_URL with the purpose and the token filled in)."""
    template = get_settings().account_link_url
    return template.replace("{PURPOSE}", purpose).replace("{TOKEN}", quote(token, safe=""))


def render(purpose: Purpose, *, token: str, name: str, email: str, role: str, locale: str) -> Rendered:
    lang = language(locale)
    texts = TEXTS[lang]
    url = link(purpose, token)
    lead = texts[f"{purpose}_lead"].format(email=email, role=role)
    hello = texts["hello"].format(name=name)
    notes = [texts["expiry"].format(hours=_HOURS)]
    if purpose == "reset":
        notes.append(texts["reset_ignore"])
    text = "\n\n".join([hello, lead, url, *notes]) + "\n"
    escaped = html.escape(url, quote=True)
    paragraphs = "".join(f"<p>{html.escape(note)}</p>" for note in notes)
    body_html = (
        f'<p>{html.escape(hello)}</p><p>{html.escape(lead)}</p><p><a href="{escaped}">{escaped}</a></p>{paragraphs}'
    )
    subject = texts[f"{purpose}_subject"]
    return Rendered(locale=lang, subject=subject, text=text, html=body_html, title=subject, body=lead)


def send(rendered: Rendered, *, to_address: str, to_name: str) -> bool:
    """Send one link e-mail; False (logged, counted) when SES refused or failed."""
    message = mail.build_message(to_address=to_address, to_name=to_name, rendered=rendered, calendar=None, method=None)
    try:
        mail.send(message)
    except Exception:  # the link stays valid; its owner can ask for another (see the module's docstring)
        logger.exception("account e-mail failed")
        metrics.add_metric(name="AccountMailFailed", unit=MetricUnit.Count, value=1)
        return False
    return True
