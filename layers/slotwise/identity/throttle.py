"""Sign-in throttling (OWASP Authentication cheat sheet): slow the guesser down without locking the owner out.

Three gates, all taken before the password is checked, in one TransactWriteItems (`repository.reserve_login`), so
however many guesses race, none passes a gate it should not:

- **Account and source address** (`LOGIN_PAIR`): 5 failed sign-ins are free; after that each attempt waits for the
  previous failure's delay, which doubles from 1 s up to 15 minutes (429 `too_many_attempts`, `Retry-After`). Only
  that source is slowed: the owner signing in from elsewhere is not. A successful sign-in forgets it (in the
  sign-in's own transaction); it expires a day after its last attempt.
- **Account, from anywhere** (`LOGIN_PER_ACCOUNT`): a ceiling of 100 attempts per 15 minutes; past it the account
  is slowed, not locked: one attempt per 10 s across all sources (`Retry-After` at most 10 s), so a distributed
  guesser gets 90 guesses a quarter-hour and the owner still gets in.
- **Source address, across accounts** (`LOGIN_PER_IP`): 20 attempts a minute; refusals there are a suspected
  password spray or credential stuffing (metric `LoginSpraySuspected`, alarm `LoginSpraySuspected`).

Every refusal counts in the EMF metric `LoginsRefused` (and its gate's own metric). Subjects are hashed: no e-mail
or address is stored in a key. `take`/`clear` are plain fixed windows (registrations per address; forgot-password
requests per e-mail and per address; set/reset with a link per address).

Self-contained on purpose: the general rate limiter of the booking routes lives elsewhere. The items and every call
to the table are `slotwise.identity.repository`'s.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from slotwise import errors
from slotwise.identity import repository
from slotwise.observability import logger, metrics


@dataclass(frozen=True)
class Limit:
    name: str
    limit: int
    window_seconds: int


# Failures from one source at one account before the delays start, and how the delays grow.
LOGIN_FREE_FAILURES = 5
LOGIN_FIRST_DELAY_SECONDS = 1
LOGIN_MAX_DELAY_SECONDS = 15 * 60
# While an attempt is being checked, the next one from that source waits (at most this long if it never finishes).
LOGIN_CHECK_HOLD_SECONDS = 30
LOGIN_PAIR_KEEP_SECONDS = 24 * 3600
# The ceiling across all sources, and the pace past it.
LOGIN_PER_ACCOUNT = Limit("login-account", limit=100, window_seconds=15 * 60)
LOGIN_SLOW_SECONDS = 10
# Attempts from one address, across accounts (password spraying, credential stuffing).
LOGIN_PER_IP = Limit("login-ip", limit=20, window_seconds=60)
REGISTER_PER_IP = Limit("register-ip", limit=20, window_seconds=60)
# Forgot-password requests: per address asked about (whether or not it has an account, so a refusal tells
# nothing), and per source address across addresses. Set/reset with a link's token: per source address (each
# attempt with a valid token costs a password hash).
FORGOT_PER_EMAIL = Limit("forgot-email", limit=5, window_seconds=3600)
FORGOT_PER_IP = Limit("forgot-ip", limit=20, window_seconds=3600)
PASSWORD_LINK_PER_IP = Limit("password-link-ip", limit=20, window_seconds=60)

_RESERVE_ATTEMPTS = 3


class TooManyAttempts(errors.RateLimited):
    code = "too_many_attempts"


def _digest(subject: str) -> str:
    return hashlib.sha256(subject.encode("utf-8")).hexdigest()[:40]


def _window(limit: Limit, subject: str, now: int) -> tuple[str, int, int]:
    """The subject's digest, and the start and end of the window `now` falls in."""
    start = now - now % limit.window_seconds
    return _digest(subject), start, start + limit.window_seconds


def _too_many(retry_after: int) -> TooManyAttempts:
    return TooManyAttempts("Too many attempts; wait before trying again.", retry_after_seconds=max(1, retry_after))


def take(limit: Limit, subject: str, now: int) -> int:
    """Count one attempt; returns the count so far, or raises TooManyAttempts when the window is full."""
    digest, start, window_end = _window(limit, subject, now)
    count = repository.add_attempt(limit.name, digest, start, limit=limit.limit, ttl=window_end + 60)
    if count is None:
        raise _too_many(window_end - now)
    return count


def clear(limit: Limit, subject: str, now: int) -> None:
    """Forget this window's attempts."""
    digest, start, _ = _window(limit, subject, now)
    repository.clear_attempts(limit.name, digest, start)


def _pair_digest(email: str, source_ip: str) -> str:
    return _digest(f"{email}\0{source_ip}")


def delay_after(failures: int) -> int:
    """Seconds the source waits after its `failures`-th failure in a row (0 while they are free)."""
    if failures < LOGIN_FREE_FAILURES:
        return 0
    return min(LOGIN_MAX_DELAY_SECONDS, LOGIN_FIRST_DELAY_SECONDS << min(failures - LOGIN_FREE_FAILURES, 20))


def _refused(gate: str, retry_after: int) -> TooManyAttempts:
    metrics.add_metric(name="LoginsRefused", unit=MetricUnit.Count, value=1)
    metric = {"pair": "LoginSourceThrottled", "account": "LoginAccountSlowed", "ip": "LoginSpraySuspected"}.get(gate)
    if metric is not None:
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    logger.info("sign-in refused by throttling", extra={"gate": gate, "retry_after": retry_after})
    return _too_many(retry_after)


def before_login(email: str, source_ip: str, now: int) -> None:
    """Take the three gates for one sign-in attempt (one TransactWriteItems), or raise TooManyAttempts."""
    account_digest, account_start, account_end = _window(LOGIN_PER_ACCOUNT, email, now)
    ip_digest, ip_start, ip_end = _window(LOGIN_PER_IP, source_ip, now)
    pair_digest = _pair_digest(email, source_ip)
    for attempt in range(_RESERVE_ATTEMPTS):
        refused = repository.reserve_login(
            pair=(pair_digest, LOGIN_FREE_FAILURES, now + LOGIN_CHECK_HOLD_SECONDS, now + LOGIN_PAIR_KEEP_SECONDS),
            account=(account_digest, account_start, LOGIN_PER_ACCOUNT.limit, now + LOGIN_SLOW_SECONDS, account_end),
            ip=(ip_digest, ip_start, LOGIN_PER_IP.limit, ip_end + 60),
            now=now,
        )
        if refused is None:
            return
        if refused == "ip":
            raise _refused("ip", ip_end - now)
        if refused == "account":
            ready = repository.login_account_slot(account_digest, account_start)
            raise _refused("account", (ready or now + LOGIN_SLOW_SECONDS) - now)
        if refused == "pair":
            ready = repository.login_pair_ready(pair_digest)
            raise _refused("pair", (ready or now + LOGIN_FIRST_DELAY_SECONDS) - now)
        time.sleep(random.uniform(0, 0.02 * 2**attempt))  # noqa: S311 - contention only: jitter, not security
    raise _refused("contention", 1)


def failed_login(email: str, source_ip: str, now: int) -> None:
    """After a wrong password (or an unknown e-mail): start or lengthen the source's delay at this account."""
    pair_digest = _pair_digest(email, source_ip)
    failures = repository.login_pair_failed(pair_digest, ready=now + LOGIN_FIRST_DELAY_SECONDS)
    if failures > LOGIN_FREE_FAILURES:
        repository.login_pair_wait(pair_digest, ready=now + delay_after(failures))


def forget_login(email: str, source_ip: str) -> list[dict[str, Any]]:
    """The keys a successful sign-in deletes (in its own transaction): the source's failures at this account."""
    return [repository.login_pair_key(_pair_digest(email, source_ip))]


def forgive(email: str, source_ip: str) -> None:
    """Forget the source's failures at the account now (one DeleteItem; after a password change)."""
    repository.forget_login_pair(_pair_digest(email, source_ip))
