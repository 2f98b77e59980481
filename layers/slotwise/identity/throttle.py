"""Login throttling: fixed-window counters in the table, taken with one conditional UpdateItem each.

  THROTTLE#<limit>#<sha256 of the subject> / W#<window start epoch>    count, ttl (window end + 1 min)

`take` adds 1 only while the count is below the limit (`ADD` with a condition on the count), so however many
requests race, no more than `limit` get through a window; the next one is a 429 `too_many_attempts` with
`Retry-After` (seconds to the window's end). Subjects are hashed: no e-mail or IP address is stored in a key.

Self-contained on purpose: the general rate limiter of the booking routes lives elsewhere. The counter's UpdateItem
and DeleteItem are `slotwise.identity.repository`'s.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from slotwise import errors
from slotwise.identity import repository


@dataclass(frozen=True)
class Limit:
    name: str
    limit: int
    window_seconds: int


# Guesses at one account, wherever they come from; a successful login clears the account's window.
LOGIN_PER_ACCOUNT = Limit("login-account", limit=5, window_seconds=15 * 60)
# Attempts from one address, across accounts (credential stuffing).
LOGIN_PER_IP = Limit("login-ip", limit=20, window_seconds=60)
REGISTER_PER_IP = Limit("register-ip", limit=20, window_seconds=60)


class TooManyAttempts(errors.RateLimited):
    code = "too_many_attempts"


def _window(limit: Limit, subject: str, now: int) -> tuple[str, int, int]:
    """The subject's digest, and the start and end of the window `now` falls in."""
    start = now - now % limit.window_seconds
    digest = hashlib.sha256(subject.encode("utf-8")).hexdigest()[:40]
    return digest, start, start + limit.window_seconds


def take(limit: Limit, subject: str, now: int) -> int:
    """Count one attempt; returns the count so far, or raises TooManyAttempts when the window is full."""
    digest, start, window_end = _window(limit, subject, now)
    count = repository.add_attempt(limit.name, digest, start, limit=limit.limit, ttl=window_end + 60)
    if count is None:
        raise TooManyAttempts(
            "Too many attempts; wait before trying again.", retry_after_seconds=max(1, window_end - now)
        )
    return count


def clear(limit: Limit, subject: str, now: int) -> None:
    """Forget this window's attempts (after a successful login)."""
    digest, start, _ = _window(limit, subject, now)
    repository.clear_attempts(limit.name, digest, start)
