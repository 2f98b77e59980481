"""Message templates, in code: subject, plain text and simple HTML per kind of message, in English and Portuguese.

The language is the recipient's profile locale (`pt-BR` and `pt-PT` read `pt`); any other language, or no profile,
falls back to English. Adding a language is one more entry in `TEXTS` with every key of English (a test checks).
Every value a client wrote (resource name, title, reason) is HTML-escaped in the HTML part.

Money is stored in integer minor units; `format_money` writes it with the ISO code (never a symbol: `$` is a dozen
currencies), the currency's own number of decimals (ISO 4217: JPY none, EUR two, KWD three) and the language's
decimal and grouping marks (`EUR 1,234.50` in English, `EUR 1.234,50` in Portuguese).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Kind = Literal[
    "held",
    "requested",
    "approval_request",
    "confirmed",
    "rescheduled",
    "schedule_changed",
    "updated",
    "cancelled",
    "expired",
    "rejected",
    "completed",
    "no_show",
    "reminder",
    "payment_pending",
    "refunded",
    "refund_failed",
    "message",
    "payment_received",
    # issue 15: the decider's half-way reminder, a session started, and a request or accepted hold lapsing
    # (told to the vendor and advisor too).
    "approval_reminder",
    "started",
    "lapsed",
]
# Messages about money rather than about the booking's time: they name the amount, and their in-app body is the
# lead alone (a "When" after a refund would read as the refund's time, not the booking's).
MONEY_KINDS: frozenset[str] = frozenset({"refunded", "refund_failed"})
DEFAULT_LOCALE = "en"
EN_DASH = "\u2013"

# Per language: (subject, lead) per kind, then the labels and the number marks. `{resource}`, `{reference}`,
# `{starts_in}`, `{amount}` and `{destination}` (`to_card` / `to_wallet`) are filled in.
TEXTS: dict[str, dict[str, tuple[str, str] | str]] = {
    "en": {
        "held": (
            "Booking held: {resource}",
            "We are holding {resource} for you ({reference}). Complete the booking before the hold lapses.",
        ),
        "requested": ("Request sent: {resource}", "Your request {reference} for {resource} is waiting for approval."),
        "approval_request": (
            "Approval needed: {resource} ({reference})",
            "A booking request {reference} for {resource} is waiting for your approval.",
        ),
        "confirmed": ("Booking confirmed: {resource}", "Your booking {reference} for {resource} is confirmed."),
        "rescheduled": (
            "Booking changed: {resource}",
            "Your booking {reference} for {resource} has moved to a new time.",
        ),
        "schedule_changed": (
            "Schedule change: {resource}",
            "{resource} has a new time, and your booking {reference} moved with it. You may cancel it with a full "
            "refund within 7 days.",
        ),
        "updated": (
            "Booking updated: {resource}",
            "The details of your booking {reference} for {resource} have changed.",
        ),
        "cancelled": ("Booking cancelled: {resource}", "The booking {reference} for {resource} has been cancelled."),
        "expired": (
            "Booking expired: {resource}",
            "Your hold {reference} for {resource} expired before it was confirmed, and the time was released.",
        ),
        "rejected": ("Booking declined: {resource}", "Your request {reference} for {resource} was declined."),
        "completed": (
            "Booking completed: {resource}",
            "Thank you: your booking {reference} for {resource} is complete.",
        ),
        "no_show": (
            "Marked as no-show: {resource}",
            "Your booking {reference} for {resource} was marked as a no-show.",
        ),
        "reminder": ("Reminder: {resource} {starts_in}", "Your booking {reference} for {resource} starts {starts_in}."),
        "payment_pending": (
            "Payment processing: {resource}",
            "Your payment for booking {reference} for {resource} is processing; your slot is kept meanwhile.",
        ),
        "refunded": (
            "Refund of {amount}: {resource}",
            "A refund of {amount} for your booking {reference} ({resource}) has been made {destination}.",
        ),
        "refund_failed": (
            "Refund credited to your wallet: {resource}",
            "Your card refund of {amount} for booking {reference} ({resource}) could not be made; the amount was "
            "credited to your wallet.",
        ),
        "message": ("New message: {resource} ({reference})", "You have a new message about booking {reference}."),
        "payment_received": (
            "Booking paid: {resource} ({reference})",
            "The booking {reference} for {resource} is paid and confirmed.",
        ),
        "approval_reminder": (
            "Still waiting for you: {resource} ({reference})",
            "The booking request {reference} for {resource} is still waiting for your answer; it lapses if nobody "
            "decides in time.",
        ),
        "started": ("Session started: {resource}", "Your session {reference} for {resource} has started."),
        "lapsed": (
            "Booking lapsed: {resource} ({reference})",
            "The booking {reference} for {resource} was not approved or not paid in time; the time was released.",
        ),
        "to_card": "to your card",
        "to_wallet": "to your wallet",
        "starts_in_24h": "in 24 hours",
        "starts_in_1h": "in 1 hour",
        "starts_in_soon": "soon",
        "hello_name": "Hello {name},",
        "hello": "Hello,",
        "when": "When",
        "previously": "Previously",
        "where": "Where",
        "reference": "Reference",
        "title": "Title",
        "reason": "Reason",
        "amount": "Amount",
        "refunded_to": "Refunded to",
        "card": "Card",
        "wallet": "Wallet",
        "decimal_mark": ".",
        "group_mark": ",",
        "footer": "Slotwise sent this message about a booking. You can manage your bookings in the app.",
    },
    "pt": {
        "held": (
            "Reserva pendente: {resource}",
            "{resource} está reservado temporariamente ({reference}). Conclua a reserva antes que o prazo expire.",
        ),
        "requested": ("Pedido enviado: {resource}", "O seu pedido {reference} para {resource} aguarda aprovação."),
        "approval_request": (
            "Aprovação necessária: {resource} ({reference})",
            "Um pedido de reserva {reference} para {resource} aguarda a sua aprovação.",
        ),
        "confirmed": ("Reserva confirmada: {resource}", "A sua reserva {reference} para {resource} está confirmada."),
        "rescheduled": (
            "Reserva alterada: {resource}",
            "A sua reserva {reference} para {resource} passou para um novo horário.",
        ),
        "schedule_changed": (
            "Alteração de horário: {resource}",
            "{resource} tem um novo horário e a sua reserva {reference} acompanhou a alteração. Pode cancelá-la com "
            "reembolso total nos próximos 7 dias.",
        ),
        "updated": (
            "Reserva atualizada: {resource}",
            "Os detalhes da sua reserva {reference} para {resource} foram alterados.",
        ),
        "cancelled": ("Reserva cancelada: {resource}", "A reserva {reference} para {resource} foi cancelada."),
        "expired": (
            "Reserva expirada: {resource}",
            "A sua reserva provisória {reference} para {resource} expirou antes de ser confirmada e o horário ficou "
            "disponível novamente.",
        ),
        "rejected": ("Reserva recusada: {resource}", "O seu pedido {reference} para {resource} foi recusado."),
        "completed": (
            "Reserva concluída: {resource}",
            "Obrigado: a sua reserva {reference} para {resource} foi concluída.",
        ),
        "no_show": (
            "Não comparência: {resource}",
            "A sua reserva {reference} para {resource} foi marcada como não comparência.",
        ),
        "reminder": (
            "Lembrete: {resource} {starts_in}",
            "A sua reserva {reference} para {resource} começa {starts_in}.",
        ),
        "payment_pending": (
            "Pagamento em processamento: {resource}",
            "O pagamento da sua reserva {reference} para {resource} está em processamento; o seu horário continua "
            "reservado entretanto.",
        ),
        "refunded": (
            "Reembolso de {amount}: {resource}",
            "Foi feito um reembolso de {amount} da sua reserva {reference} ({resource}) {destination}.",
        ),
        "refund_failed": (
            "Reembolso creditado na carteira: {resource}",
            "Não foi possível reembolsar {amount} da reserva {reference} ({resource}) no seu cartão; o valor foi "
            "creditado na sua carteira.",
        ),
        "message": ("Nova mensagem: {resource} ({reference})", "Tem uma nova mensagem sobre a reserva {reference}."),
        "payment_received": (
            "Reserva paga: {resource} ({reference})",
            "A reserva {reference} para {resource} está paga e confirmada.",
        ),
        "approval_reminder": (
            "Ainda aguarda a sua resposta: {resource} ({reference})",
            "O pedido de reserva {reference} para {resource} ainda aguarda a sua resposta; expira se ninguém decidir a "
            "tempo.",
        ),
        "started": ("Sessão iniciada: {resource}", "A sua sessão {reference} para {resource} começou."),
        "lapsed": (
            "Reserva expirada: {resource} ({reference})",
            "A reserva {reference} para {resource} não foi aprovada ou paga a tempo; o horário ficou disponível.",
        ),
        "to_card": "para o seu cartão",
        "to_wallet": "para a sua carteira",
        "starts_in_24h": "daqui a 24 horas",
        "starts_in_1h": "daqui a 1 hora",
        "starts_in_soon": "em breve",
        "hello_name": "Olá {name},",
        "hello": "Olá,",
        "when": "Quando",
        "previously": "Antes",
        "where": "Onde",
        "reference": "Referência",
        "title": "Título",
        "reason": "Motivo",
        "amount": "Valor",
        "refunded_to": "Reembolsado para",
        "card": "Cartão",
        "wallet": "Carteira",
        "decimal_mark": ",",
        "group_mark": ".",
        "footer": "O Slotwise enviou esta mensagem sobre uma reserva. Pode gerir as suas reservas na aplicação.",
    },
}
LOCALES: tuple[str, ...] = tuple(TEXTS)


def pick_locale(tag: str | None) -> str:
    """The template language for a profile's locale tag: its primary language if there are templates, else en."""
    if not tag:
        return DEFAULT_LOCALE
    language = tag.replace("_", "-").split("-", 1)[0].lower()
    return language if language in TEXTS else DEFAULT_LOCALE


@dataclass(frozen=True)
class MessageFacts:
    """What a message says about a booking (taken from the event's data)."""

    reference: str
    resource: str
    timezone: str
    start: datetime
    end: datetime
    title: str = ""
    previous_start: datetime | None = None
    previous_end: datetime | None = None
    reason: str = ""
    reminder: str | None = None  # "24h" | "1h"
    # A refund's money (minor units) and where it went; only the money kinds show them.
    amount: int | None = None
    currency: str = ""
    refund_to: Literal["card", "wallet"] | None = None


@dataclass(frozen=True)
class Rendered:
    locale: str
    subject: str
    text: str
    html: str
    # The in-app notification: a title and one short paragraph.
    title: str
    body: str


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def format_span(start: datetime, end: datetime, timezone: str) -> str:
    """`2027-03-01 10:00` en dash `11:00 (Europe/Lisbon)`, in the booking's own time zone (numbers read the same in
    every language)."""
    zone = _zone(timezone)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    if local_start.date() == local_end.date():
        return f"{local_start:%Y-%m-%d %H:%M}{EN_DASH}{local_end:%H:%M} ({zone.key})"
    return f"{local_start:%Y-%m-%d %H:%M} {EN_DASH} {local_end:%Y-%m-%d %H:%M} ({zone.key})"


def _text(texts: dict[str, tuple[str, str] | str], key: str) -> str:
    value = texts[key]
    assert isinstance(value, str)
    return value


# ISO 4217 minor-unit exponents other than the usual 2 (a currency not listed has cents).
# fmt: off
_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF",
         "XOF", "XPF"),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}
# fmt: on


def format_money(amount: int, currency: str, locale: str | None = None) -> str:
    """`EUR 20.00` from (2000, "EUR"); `JPY 2,000` from (2000, "JPY"): integer minor units, exact (no float)."""
    texts = TEXTS[pick_locale(locale)]
    code = currency.upper()
    exponent = _EXPONENTS.get(code, 2)
    whole, minor = divmod(abs(amount), 10**exponent)
    digits = f"{whole:,}".replace(",", _text(texts, "group_mark"))
    if exponent:
        digits += f"{_text(texts, 'decimal_mark')}{minor:0{exponent}d}"
    return f"{code} {'-' if amount < 0 else ''}{digits}"


def render(kind: Kind, facts: MessageFacts, *, locale: str | None, name: str | None = None) -> Rendered:
    language = pick_locale(locale)
    texts = TEXTS[language]
    pair = texts[kind]
    assert isinstance(pair, tuple)
    starts_in = _text(texts, f"starts_in_{facts.reminder}" if facts.reminder in ("24h", "1h") else "starts_in_soon")
    money = kind in MONEY_KINDS and facts.amount is not None
    amount = format_money(facts.amount or 0, facts.currency, language) if money else ""
    fields = {
        "resource": facts.resource,
        "reference": facts.reference,
        "starts_in": starts_in,
        "amount": amount,
        "destination": _text(texts, f"to_{facts.refund_to}") if facts.refund_to else "",
    }
    subject, lead = pair[0].format(**fields), pair[1].format(**fields)
    when = format_span(facts.start, facts.end, facts.timezone)
    rows: list[tuple[str, str]] = []
    if money:
        rows.append((_text(texts, "amount"), amount))
        # A failed card refund went to the wallet whatever the refund's own destination said (its lead says so).
        destination = "wallet" if kind == "refund_failed" else facts.refund_to
        if destination:
            rows.append((_text(texts, "refunded_to"), _text(texts, destination)))
    rows.append((_text(texts, "when"), when))
    if facts.previous_start is not None and facts.previous_end is not None:
        rows.append((_text(texts, "previously"), format_span(facts.previous_start, facts.previous_end, facts.timezone)))
    rows.append((_text(texts, "where"), facts.resource))
    if facts.title:
        rows.append((_text(texts, "title"), facts.title))
    rows.append((_text(texts, "reference"), facts.reference))
    if facts.reason:
        rows.append((_text(texts, "reason"), facts.reason))
    greeting = _text(texts, "hello_name").format(name=name) if name else _text(texts, "hello")
    footer = _text(texts, "footer")

    text = "\n".join([greeting, "", lead, "", *(f"{label}: {value}" for label, value in rows), "", footer, ""])
    e = html.escape
    table = "".join(
        f'<tr><th align="left" style="padding-right:1em">{e(label)}</th><td>{e(value)}</td></tr>'
        for label, value in rows
    )
    page = (
        f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8"><title>{e(subject)}</title></head>'
        f'<body style="font-family:sans-serif"><p>{e(greeting)}</p><p>{e(lead)}</p><table>{table}</table>'
        f'<p style="color:#666;font-size:small">{e(footer)}</p></body></html>'
    )
    body = lead if kind in MONEY_KINDS else f"{lead} {_text(texts, 'when')}: {when}."
    return Rendered(locale=language, subject=subject, text=text, html=page, title=subject, body=body)
