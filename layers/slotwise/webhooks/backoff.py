"""When a failed delivery is tried again.

After attempt n fails, attempt n+1 is due `DELAYS[n-1]` later: 30 s, 2 min, 10 min, 30 min, 1 h, 3 h, 6 h, 12 h,
then every 12 h, as long as it falls within three days of the first attempt. With immediate failures that is 13
attempts, the last about 70 h 43 min after the first; then the delivery is `failed` and goes to the DLQ.
"""

from __future__ import annotations

from datetime import datetime, timedelta

DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
)
MAX_DELAY = DELAYS[-1]
RETRY_WINDOW = timedelta(days=3)


def delay_after(attempts_made: int) -> timedelta:
    """How long to wait after the `attempts_made`-th failed attempt (1-based)."""
    if attempts_made < 1:
        raise ValueError("attempts are counted from 1")
    return DELAYS[min(attempts_made, len(DELAYS)) - 1]


def next_attempt_at(first_attempt_at: datetime, failed_at: datetime, attempts_made: int) -> datetime | None:
    """When the next attempt is due, or None when it would fall beyond the retry window (give up)."""
    due = failed_at + delay_after(attempts_made)
    return due if due - first_attempt_at <= RETRY_WINDOW else None


def planned_schedule(first_attempt_at: datetime) -> list[datetime]:
    """Every attempt's due time when each one fails at once (docs/webhooks.md's schedule, and a test's)."""
    times = [first_attempt_at]
    while (due := next_attempt_at(first_attempt_at, times[-1], len(times))) is not None:
        times.append(due)
    return times
