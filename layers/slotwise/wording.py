"""Human wording shared by error details: durations, times of day, local instants, lists of choices."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def duration_text(minutes: int) -> str:
    """`1 hour 30 minutes`, `45 minutes`, `2 hours`."""
    hours, rest = divmod(minutes, 60)
    parts = [f"{hours} hour{'s' * (hours != 1)}"] if hours else []
    if rest or not hours:
        parts.append(f"{rest} minute{'s' * (rest != 1)}")
    return " ".join(parts)


def either(numbers: list[int]) -> str:
    """`5`, `5 or 10`, `5, 10 or 15`."""
    words = [str(n) for n in numbers]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def hhmm(minute: int) -> str:
    """Minute of the day as `HH:MM` (1440 is `24:00`)."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def local_text(zone: ZoneInfo, instant: datetime) -> str:
    """`2026-12-01 09:00 Europe/Berlin time`."""
    return f"{instant.astimezone(zone):%Y-%m-%d %H:%M} {zone.key} time"
