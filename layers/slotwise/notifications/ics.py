"""iCalendar (RFC 5545) invitations for bookings, written by hand: one VEVENT per booking.

- `METHOD:REQUEST` adds or updates the event in the recipient's calendar (confirmation, change, reminder);
  `METHOD:CANCEL` removes it (cancellation, expiry, rejection). iTIP (RFC 5546) wants ORGANIZER and ATTENDEE on both.
- `UID` is `<booking id>@slotwise`, the same for every message about a booking, so calendars update one event;
  `SEQUENCE` is the booking's version, which every committed change raises (a reschedule's REQUEST and a
  cancellation's CANCEL always supersede what the calendar holds).
- Times are UTC (`...Z`), so no VTIMEZONE is needed. Lines end in CRLF and are folded at 75 octets (a fold never
  splits a UTF-8 sequence); TEXT values escape backslash, `;`, `,` and newlines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

Method = Literal["REQUEST", "CANCEL"]
PRODID = "-//Slotwise//Bookings//EN"
CRLF = "\r\n"
MAX_OCTETS = 75
# Booking statuses as VEVENT STATUS values.
_STATUS = {
    "confirmed": "CONFIRMED",
    "completed": "CONFIRMED",
    "no_show": "CONFIRMED",
    "held": "TENTATIVE",
    "awaiting_approval": "TENTATIVE",
}


@dataclass(frozen=True)
class CalendarEvent:
    booking_id: str
    sequence: int
    start: datetime
    end: datetime
    summary: str
    location: str
    description: str
    organizer: str
    attendee: str | None
    booking_status: str
    stamp: datetime

    @property
    def uid(self) -> str:
        return f"{self.booking_id}@slotwise"


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11): backslash, semicolon and comma escaped, newlines as `\\n`."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def fold(line: str) -> str:
    """One content line folded to at most 75 octets per physical line (§3.1), never inside a UTF-8 sequence."""
    parts: list[str] = []
    current = ""
    size = 0
    limit = MAX_OCTETS
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            parts.append(current)
            # Continuation lines start with one space, which counts towards their 75 octets.
            current, size, limit = " ", 1, MAX_OCTETS
        current += char
        size += width
    parts.append(current)
    return CRLF.join(parts)


def render(event: CalendarEvent, method: Method) -> str:
    """The whole VCALENDAR, CRLF-terminated."""
    status = "CANCELLED" if method == "CANCEL" else _STATUS.get(event.booking_status, "CONFIRMED")
    lines = [
        "BEGIN:VCALENDAR",
        f"PRODID:{PRODID}",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"SEQUENCE:{event.sequence}",
        f"DTSTAMP:{utc(event.stamp)}",
        f"DTSTART:{utc(event.start)}",
        f"DTEND:{utc(event.end)}",
        f"SUMMARY:{escape_text(event.summary)}",
        f"LOCATION:{escape_text(event.location)}",
        f"DESCRIPTION:{escape_text(event.description)}",
        f"STATUS:{status}",
        "TRANSP:OPAQUE",
        f"ORGANIZER:mailto:{event.organizer}",
    ]
    if event.attendee:
        lines.append(f"ATTENDEE;ROLE=REQ-PARTICIPANT:mailto:{event.attendee}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(fold(line) + CRLF for line in lines)


def unfold(text: str) -> list[str]:
    """Content lines of an iCalendar text (§3.1: a CRLF followed by a space or tab continues the line)."""
    joined = text.replace("\r\n ", "").replace("\r\n\t", "")
    return [line for line in joined.split("\r\n") if line]
