"""The .ics Slotwise sends, read with an independent RFC 5545 parser (`icalendar`), never with the renderer's own
helpers: a calendar the parser refuses, or reads differently, fails the test."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import icalendar


@dataclass(frozen=True)
class Invitation:
    """One VCALENDAR with exactly one VEVENT, as the parser read it."""

    calendar: icalendar.Calendar
    event: icalendar.Event

    def text(self, name: str) -> str:
        """A property's value, unescaped (TEXT) and unfolded by the parser."""
        return str(self.event[name])

    @property
    def method(self) -> str:
        return str(self.calendar["METHOD"])

    @property
    def uid(self) -> str:
        return self.text("UID")

    @property
    def sequence(self) -> int:
        value = self.event.decoded("SEQUENCE")
        assert isinstance(value, int)
        return value

    @property
    def status(self) -> str:
        return self.text("STATUS")

    def utc(self, name: str) -> datetime:
        """A DATE-TIME property, which must carry a time zone, and that zone must be UTC (the renderer writes `Z`)."""
        value = self.event.decoded(name)
        assert isinstance(value, datetime), f"{name} is a {type(value).__name__}, not a date-time"
        assert value.tzinfo is not None and value.utcoffset() == timedelta(0), f"{name} is not UTC: {value!r}"
        return value


def parse_invitation(text: str | bytes) -> Invitation:
    calendar = icalendar.Calendar.from_ical(text)  # raises on a line that is not a content line
    assert calendar.name == "VCALENDAR"
    assert calendar.errors == [], calendar.errors
    events = calendar.walk("VEVENT")
    assert len(events) == 1, f"{len(events)} VEVENTs"
    (event,) = events
    assert event.errors == [], event.errors  # a value the parser could not read (a bad date, a bad integer)
    assert isinstance(event, icalendar.Event)
    return Invitation(calendar, event)
