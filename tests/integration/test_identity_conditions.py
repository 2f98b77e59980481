"""Identity's conditions and transactions, judged on DynamoDB Local: refresh rotation races, the throttle counter,
unique e-mails under concurrent registration, versioned profile updates and revoking every sign-in.

Refresh race, as defined: of N concurrent refreshes of one token exactly one gets new tokens; every other one is
a reuse (401 `refresh_token_reused`) and revokes the family, so the winner's new refresh token is dead too and
the user signs in again. That is the price of telling a stolen copy from a double click: neither can be told.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest

from slotwise import errors
from slotwise.identity import keys, passwords, repository, sessions, throttle
from slotwise.identity.models import User
from slotwise.settings import get_settings
from tests.support.http import ApiResponse, call

pytestmark = pytest.mark.dynamodb_local

T = TypeVar("T")
PASSWORD = "Correct-horse-42"


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch, local_table: str) -> None:
    monkeypatch.setenv("SLOTWISE_JWT_SECRET", "integration-test-signing-secret-0123456789")
    get_settings.cache_clear()
    keys.reset_keys()


def together(count: int, action: Callable[[int], T]) -> list[T]:
    """Run `action(i)` on `count` threads released at the same instant."""
    barrier = threading.Barrier(count)

    def run(i: int) -> T:
        barrier.wait()
        return action(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def _user(email: str = "ada@example.test") -> User:
    user = User(
        id="u-1",
        email=email,
        name="Ada",
        role="customer",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        password_hash=passwords.hash_password(PASSWORD),
    )
    assert repository.put_user(user)
    return user


def _login() -> dict[str, Any]:
    response = call("POST", "/api/v1/auth/login", body={"email": "ada@example.test", "password": PASSWORD})
    assert response.status == 200, response.body
    body: dict[str, Any] = response.body
    return body


def _refresh(token: str) -> ApiResponse:
    return call("POST", "/api/v1/auth/refresh", body={"refreshToken": token})


@pytest.mark.parametrize("racers", [2, 8])
def test_concurrent_refreshes_of_one_token_let_exactly_one_through(racers: int) -> None:
    _user()
    for _ in range(3):
        token = _login()["refreshToken"]
        results = together(racers, lambda _, token=token: _refresh(token))
        winners = [r for r in results if r.status == 200]
        losers = [r for r in results if r.status != 200]
        assert len(winners) == 1, [(r.status, r.code) for r in results]
        assert {(r.status, r.code) for r in losers} == {(401, "refresh_token_reused")}
        record = sessions.find(token)
        assert record is not None and record.status == "rotated"
        assert sessions.family_status("u-1", record.family_id) == "revoked"
        # The winner's new token belongs to the revoked family.
        after = _refresh(winners[0].body["refreshToken"])
        assert (after.status, after.code) == (401, "refresh_token_reused")


def test_rotation_is_conditional_on_the_token_and_the_family() -> None:
    _user()
    issued = sessions.start("u-1", int(time.time()))
    record = sessions.find(issued.token)
    assert record is not None
    now = int(time.time())
    outcome, new = sessions.rotate(record, now)
    assert outcome == "rotated" and new is not None
    assert sessions.rotate(record, now) == ("not_active", None)  # the same token twice
    fresh = sessions.find(new.token)
    assert fresh is not None and fresh.status == "active"
    sessions.revoke_family("u-1", fresh.family_id, now, "test")
    assert sessions.rotate(fresh, now) == ("family_revoked", None)
    # An expired token cannot be rotated even while its family is active.
    other = sessions.start("u-1", now - sessions.REFRESH_TOKEN_SECONDS - 10)
    expired = sessions.find(other.token)
    assert expired is not None
    assert sessions.rotate(expired, now) == ("not_active", None)


def test_revoke_all_finds_every_active_family() -> None:
    _user()
    now = int(time.time())
    tokens = [sessions.start("u-1", now).token for _ in range(3)]
    sessions.revoke_family("u-1", sessions.start("u-1", now).family_id, now, "logout")
    assert sessions.revoke_all("u-1", now, "suspended") == 3
    for token in tokens:
        record = sessions.find(token)
        assert record is not None and sessions.family_status("u-1", record.family_id) == "revoked"
    assert sessions.revoke_all("u-1", now, "suspended") == 0


def test_revoking_an_unknown_family_creates_nothing() -> None:
    sessions.revoke_family("nobody", "nofamily", int(time.time()), "logout")
    assert sessions.family_status("nobody", "nofamily") is None


def test_the_throttle_counter_never_passes_its_limit_under_concurrency() -> None:
    limit = throttle.Limit("test", limit=5, window_seconds=600)
    now = int(time.time())

    def attempt(_: int) -> int:
        try:
            return throttle.take(limit, "203.0.113.9", now)
        except throttle.TooManyAttempts as exc:
            return -exc.retry_after_seconds

    results = together(30, attempt)
    assert sorted(r for r in results if r > 0) == [1, 2, 3, 4, 5]
    refused = [-r for r in results if r <= 0]
    assert len(refused) == 25 and all(0 < wait <= 600 for wait in refused)
    # Another subject, or the next window, starts again at one.
    assert throttle.take(limit, "203.0.113.10", now) == 1
    assert throttle.take(limit, "203.0.113.9", now + 600) == 1
    throttle.clear(limit, "203.0.113.9", now)
    assert throttle.take(limit, "203.0.113.9", now) == 1


def test_concurrent_guesses_cannot_overrun_a_sources_free_failures() -> None:
    _user()
    results = together(
        12,
        lambda _: call("POST", "/api/v1/auth/login", body={"email": "ada@example.test", "password": "Wrong-guess-1"}),
    )
    codes = sorted(str(r.code) for r in results)
    # Every guess past the free ones is refused before its password is checked (a gate's conflict refuses too).
    assert 1 <= codes.count("invalid_credentials") <= throttle.LOGIN_FREE_FAILURES
    assert codes.count("too_many_attempts") == 12 - codes.count("invalid_credentials")


def test_the_sign_in_gates_let_one_attempt_through_per_delay() -> None:
    now = int(time.time())
    for _ in range(throttle.LOGIN_FREE_FAILURES):
        throttle.before_login("ada@example.test", "203.0.113.9", now)
        throttle.failed_login("ada@example.test", "203.0.113.9", now)

    def attempt(_: int) -> str:
        try:
            throttle.before_login("ada@example.test", "203.0.113.9", now + 1)
            return "passed"
        except throttle.TooManyAttempts:
            return "refused"

    results = together(10, attempt)
    assert results.count("passed") <= 1  # once the delay is over, one attempt is checked at a time
    # Another source at the same account is not slowed.
    throttle.before_login("ada@example.test", "198.51.100.7", now + 1)


def test_ten_concurrent_registrations_of_one_email_create_one_account() -> None:
    def register(i: int) -> ApiResponse:
        email = "Same@Example.test" if i % 2 else "same@example.test"
        body = {"email": email, "password": PASSWORD, "name": f"Racer {i}"}
        return call("POST", "/api/v1/auth/register", body=body)

    results = together(10, register)
    statuses = sorted(r.status for r in results)
    assert statuses == [201] + [409] * 9, [(r.status, r.code) for r in results]
    assert {r.code for r in results if r.status == 409} == {"email_taken"}
    winner = next(r for r in results if r.status == 201)
    stored = repository.get_user_by_email("same@example.test")
    assert stored is not None and stored.id == winner.body["user"]["id"]


def test_profile_updates_are_conditional_on_the_version() -> None:
    user = _user()
    results = together(6, lambda i: _update(user, f"Name {i}"))
    assert sum(1 for r in results if r == "ok") == 1
    assert results.count("conflict") == 5
    stored = repository.get_user("u-1")
    assert stored is not None and stored.version == 2 and stored.password_hash == user.password_hash


def _update(user: User, name: str) -> str:
    try:
        repository.update_profile(user, name=name, locale=None)
    except errors.Conflict:
        return "conflict"
    return "ok"


# --- audited writes: the change and its entry commit together or not at all ------------------------------------


def _audit_entry(action: str) -> Any:
    from slotwise.audit.log import AuditEntry

    return AuditEntry(
        actor="u-1",
        role="customer",
        action=action,
        target_type="user",
        target_id="u-1",
        request_id="r-1",
        at=datetime.now(UTC),
    )


def _recorded(action: str) -> int:
    from slotwise.audit.log import query

    found, _ = query(target="user:u-1", actor=None, frm=None, to=None, limit=100, cursor=None)
    return sum(1 for entry in found if entry["action"] == action)


def test_audited_profile_updates_race_to_one_change_and_one_entry() -> None:
    user = _user()

    def update(i: int) -> str:
        try:
            repository.update_profile(user, name=f"Name {i}", locale=None, audit=_audit_entry("user.update_profile"))
        except errors.Conflict:
            return "conflict"
        return "ok"

    results = together(6, update)
    assert results.count("ok") == 1 and results.count("conflict") == 5
    assert _recorded("user.update_profile") == 1
    stored = repository.get_user("u-1")
    assert stored is not None and stored.version == 2


def test_audited_rotation_races_to_one_rotation_and_one_entry() -> None:
    issued = sessions.start("u-1", int(time.time()), _audit_entry("auth.login"))
    record = sessions.find(issued.token)
    assert record is not None
    now = int(time.time())
    outcomes = together(5, lambda _: sessions.rotate(record, now, _audit_entry("auth.refresh"))[0])
    assert outcomes.count("rotated") == 1
    assert _recorded("auth.refresh") == 1 and _recorded("auth.login") == 1


def test_audited_revocation_of_a_family_that_is_gone_records_nothing() -> None:
    sessions.revoke_family("u-1", "no-such-family", int(time.time()), "logout", _audit_entry("auth.logout"))
    assert _recorded("auth.logout") == 0
    issued = sessions.start("u-1", int(time.time()))
    sessions.revoke_family("u-1", issued.family_id, int(time.time()), "logout", _audit_entry("auth.logout"))
    assert sessions.family_status("u-1", issued.family_id) == "revoked"
    assert _recorded("auth.logout") == 1


def test_a_registration_that_loses_the_email_writes_no_entry() -> None:
    _user()
    other = User(
        id="u-2", email="ada@example.test", name="Ada", role="customer", created_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    entry = _audit_entry("user.register")
    assert not repository.put_user(other, audit=entry)
    assert _recorded("user.register") == 0
