"""Templates per language (with the fallback to English) and the .ics: RFC 5545 lines, folding, escaping, methods."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import get_args

import pytest
from icalendar.parser import Contentlines

from slotwise.notifications import ics
from slotwise.notifications.templates import (
    LOCALES,
    MONEY_KINDS,
    TEXTS,
    Kind,
    MessageFacts,
    format_money,
    pick_locale,
    render,
)
from tests.support.calendar import parse_invitation

START = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
END = datetime(2027, 3, 1, 11, 0, tzinfo=UTC)
# The money is only for the money kinds (refunds); every other kind must ignore it.
FACTS = MessageFacts(
    reference="K7PX2Q",
    resource="Meeting room 3",
    timezone="Europe/Lisbon",
    start=START,
    end=END,
    amount=2000,
    currency="EUR",
    refund_to="card",
)


def test_every_language_has_every_text_of_english() -> None:
    assert set(LOCALES) >= {"en", "pt"}
    for locale in LOCALES:
        assert set(TEXTS[locale]) == set(TEXTS["en"]), locale
    assert set(get_args(Kind)) <= set(TEXTS["en"])


@pytest.mark.parametrize(
    ("tag", "expected"), [("pt", "pt"), ("pt-BR", "pt"), ("PT_pt", "pt"), ("en-GB", "en"), ("fr", "en"), (None, "en")]
)
def test_the_profile_locale_picks_the_language(tag: str | None, expected: str) -> None:
    assert pick_locale(tag) == expected


@pytest.mark.parametrize("kind", get_args(Kind))
@pytest.mark.parametrize("locale", ["en", "pt"])
def test_each_kind_renders_subject_text_and_html(kind: Kind, locale: str) -> None:
    rendered = render(kind, FACTS, locale=locale, name="Ana")
    assert rendered.locale == locale
    assert "Meeting room 3" in rendered.subject
    for part in (rendered.text, rendered.html):
        assert "K7PX2Q" in part
        assert "Ana" in part
        # Local time of the booking (Lisbon is UTC+0 in March), in the booking's zone.
        assert "2027-03-01 10:00" in part and "Europe/Lisbon" in part
    assert rendered.html.startswith("<!DOCTYPE html>") and f'lang="{locale}"' in rendered.html
    assert "{" not in rendered.text + rendered.subject  # every placeholder filled
    assert rendered.title == rendered.subject and "K7PX2Q" in rendered.body
    amount = "EUR 20.00" if locale == "en" else "EUR 20,00"
    assert (amount in rendered.body and amount in rendered.text) == (kind in MONEY_KINDS)


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        (2000, "EUR", "en", "EUR 20.00"),
        (2000, "eur", "pt-BR", "EUR 20,00"),
        (5, "USD", "en", "USD 0.05"),
        (123456789, "EUR", "en", "EUR 1,234,567.89"),
        (123456789, "EUR", "pt", "EUR 1.234.567,89"),
        # No minor unit: the amount is whole yen, never "20.00".
        (2000, "JPY", "en", "JPY 2,000"),
        (7, "KRW", "pt", "KRW 7"),
        # Three decimals.
        (1234, "KWD", "en", "KWD 1.234"),
        (0, "EUR", None, "EUR 0.00"),
        (-150, "EUR", "en", "EUR -1.50"),
    ],
)
def test_money_is_written_from_minor_units_with_the_currencys_decimals(
    amount: int, currency: str, locale: str | None, expected: str
) -> None:
    assert format_money(amount, currency, locale) == expected


def test_refunds_say_how_much_and_where_it_went() -> None:
    card = render("refunded", FACTS, locale="en", name="Ana")
    assert card.subject == "Refund of EUR 20.00: Meeting room 3"
    assert card.body == "A refund of EUR 20.00 for your booking K7PX2Q (Meeting room 3) has been made to your card."
    assert "Amount: EUR 20.00\nRefunded to: Card\nWhen: 2027-03-01 10:00" in card.text
    wallet = render("refunded", MessageFacts(**{**FACTS.__dict__, "refund_to": "wallet"}), locale="pt")
    assert "para a sua carteira" in wallet.body and "Reembolsado para: Carteira" in wallet.text
    # The card refund failed: the money went to the wallet, whatever destination the refund had asked for.
    failed = render("refund_failed", FACTS, locale="en")
    assert "could not be made; the amount was credited to your wallet" in failed.body
    assert "Refunded to: Wallet" in failed.text and "Card" not in failed.text
    pending = render("payment_pending", FACTS, locale="pt")
    assert "está em processamento" in pending.body and "Quando: 2027-03-01 10:00" in pending.body
    assert "EUR" not in pending.text


def test_portuguese_and_english_differ_and_fall_back() -> None:
    pt = render("confirmed", FACTS, locale="pt-BR", name="Ana")
    assert pt.subject == "Reserva confirmada: Meeting room 3"
    assert pt.text.startswith("Olá Ana,")
    assert render("confirmed", FACTS, locale="de", name=None).subject == "Booking confirmed: Meeting room 3"
    assert render("confirmed", FACTS, locale="de", name=None).text.startswith("Hello,")


def test_reminders_say_when_and_reschedules_say_what_changed() -> None:
    day = render("reminder", MessageFacts(**{**FACTS.__dict__, "reminder": "24h"}), locale="en")
    hour = render("reminder", MessageFacts(**{**FACTS.__dict__, "reminder": "1h"}), locale="pt")
    assert "in 24 hours" in day.subject and "daqui a 1 hora" in hour.subject
    moved = MessageFacts(
        **{**FACTS.__dict__, "previous_start": START.replace(hour=9), "previous_end": START.replace(hour=10)}
    )
    text = render("rescheduled", moved, locale="en").text
    assert "Previously: 2027-03-01 09:00" in text and "When: 2027-03-01 10:00" in text


def test_client_text_is_escaped_in_html() -> None:
    facts = MessageFacts(**{**FACTS.__dict__, "resource": "<b>Room</b> & co", "title": '"><script>'})
    rendered = render("confirmed", facts, locale="en")
    assert "<script>" not in rendered.html and "&lt;b&gt;Room&lt;/b&gt; &amp; co" in rendered.html
    assert "<b>Room</b> & co" in rendered.text


# --- .ics ------------------------------------------------------------------------------------------------------------


def calendar(method: ics.Method = "REQUEST", sequence: int = 2, **changes: object) -> str:
    values: dict[str, object] = {
        "booking_id": "b-1",
        "sequence": sequence,
        "start": START,
        "end": END,
        "summary": "Quarterly review",
        "location": "Meeting room 3",
        "description": "Your booking K7PX2Q is confirmed.",
        "organizer": "bookings@slotwise.example",
        "attendee": "ana@example.test",
        "booking_status": "confirmed",
        "stamp": datetime(2026, 11, 22, 8, 0, tzinfo=UTC),
    }
    values.update(changes)
    return ics.render(ics.CalendarEvent(**values), method)  # type: ignore[arg-type]


def raw_lines(text: str) -> list[str]:
    """The content lines as written (escapes kept), unfolded by `icalendar`'s parser rather than by `ics`."""
    return [str(line) for line in Contentlines.from_ical(text) if line]  # type: ignore[no-untyped-call]


def test_a_request_is_a_valid_calendar() -> None:
    text = calendar()
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")  # CRLF only, no bare LF
    invitation = parse_invitation(text)
    assert str(invitation.calendar["VERSION"]) == "2.0"
    assert str(invitation.calendar["PRODID"]) == ics.PRODID
    assert invitation.method == "REQUEST"
    assert invitation.uid == "b-1@slotwise"
    assert invitation.sequence == 2
    assert invitation.utc("DTSTART") == START and invitation.utc("DTEND") == END
    assert invitation.utc("DTSTAMP") == datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    assert invitation.text("SUMMARY") == "Quarterly review"
    assert invitation.text("LOCATION") == "Meeting room 3"
    assert invitation.text("DESCRIPTION") == "Your booking K7PX2Q is confirmed."
    assert invitation.status == "CONFIRMED"
    assert invitation.text("ORGANIZER") == "mailto:bookings@slotwise.example"
    attendee = invitation.event["ATTENDEE"]
    assert str(attendee) == "mailto:ana@example.test" and attendee.params["ROLE"] == "REQ-PARTICIPANT"


def test_a_start_with_an_offset_is_written_as_the_same_instant_in_utc() -> None:
    lisbon_summer = timezone(timedelta(hours=1))
    invitation = parse_invitation(calendar(start=datetime(2027, 7, 1, 10, 0, tzinfo=lisbon_summer)))
    assert invitation.utc("DTSTART") == datetime(2027, 7, 1, 9, 0, tzinfo=UTC)


def test_cancel_keeps_the_uid_and_raises_the_sequence() -> None:
    request, cancel = parse_invitation(calendar("REQUEST", 2)), parse_invitation(calendar("CANCEL", 3))
    assert (cancel.method, cancel.status) == ("CANCEL", "CANCELLED")
    assert cancel.uid == request.uid
    assert (request.sequence, cancel.sequence) == (2, 3)
    held = parse_invitation(calendar("REQUEST", 1, booking_status="awaiting_approval"))
    assert (held.method, held.status, held.sequence) == ("REQUEST", "TENTATIVE", 1)


def test_long_and_special_text_is_folded_and_escaped() -> None:
    summary = "Reunião, trimestral; revisão \\ planos\nsegunda linha " + "çã€" * 40
    location = "Sala 1, piso 2; ala \\ norte"
    text = calendar(summary=summary, location=location)
    for physical in text.split("\r\n"):
        assert len(physical.encode()) <= 75, physical
        physical.encode().decode()  # never a split UTF-8 sequence
    invitation = parse_invitation(text)
    assert invitation.text("SUMMARY") == summary
    assert invitation.text("LOCATION") == location
    lines = raw_lines(text)
    assert "LOCATION:Sala 1\\, piso 2\\; ala \\\\ norte" in lines
    (raw_summary,) = (line for line in lines if line.startswith("SUMMARY:"))
    assert "\\n" in raw_summary and "\n" not in raw_summary


def test_fold_boundaries() -> None:
    assert ics.fold("X" * 75) == "X" * 75
    folded = ics.fold("X" * 76)
    assert folded == "X" * 75 + "\r\n X"
    assert all(len(line.encode()) <= 75 for line in ics.fold("é" * 100).split("\r\n"))
    assert raw_lines(ics.fold("X:" + "é" * 100) + "\r\n") == ["X:" + "é" * 100]
