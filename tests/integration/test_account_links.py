"""Set-password and reset links judged on DynamoDB Local: the redeeming transaction's conditions (used, expired,
another purpose, another account, the account changed) and concurrent uses of one token (exactly one wins), and an
invitation's profile, e-mail claim, token and audit entry committing together or not at all."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slotwise import errors
from slotwise.accounts import invitations, recovery
from slotwise.audit.log import AuditEntry
from slotwise.identity import account_links, keys, passwords, repository
from slotwise.identity.account_links import Purpose
from slotwise.identity.models import ANONYMOUS, Caller, PasswordTokenRequest, User
from slotwise.settings import get_settings

pytestmark = pytest.mark.dynamodb_local

T = TypeVar("T")
NOW = 1_900_000_000
ADMIN = Caller(user_id="root", role="admin")


@pytest.fixture(autouse=True)
def _setup(monkeypatch: pytest.MonkeyPatch, local_table: str) -> None:
    monkeypatch.setenv("SLOTWISE_JWT_SECRET", "integration-test-signing-secret-0123456789")
    get_settings.cache_clear()
    keys.reset_keys()
    # No SES here: the links are read from what the services minted.
    monkeypatch.setattr(invitations.messages, "send", lambda *a, **k: True)
    monkeypatch.setattr(recovery.messages, "send", lambda *a, **k: True)
    monkeypatch.setattr(recovery, "clock", lambda: float(NOW))


def together(count: int, action: Callable[[int], T]) -> list[T]:
    barrier = threading.Barrier(count)

    def run(i: int) -> T:
        barrier.wait()
        return action(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def _user(user_id: str = "u-1", email: str = "ada@example.test") -> User:
    user = User(
        id=user_id,
        email=email,
        name="Ada",
        role="customer",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        password_hash=passwords.hash_password("Correct-horse-42"),
    )
    assert repository.put_user(user)
    return user


def _link(user: User, purpose: Purpose = "reset", now: int = NOW) -> account_links.Minted:
    minted = account_links.mint(user.id, now)
    put = account_links.put_item(minted, user_id=user.id, purpose=purpose, user_version=user.version, now=now)
    repository.put_password_token(put, _entry(user.id, "user.password_forgot"))
    return minted


def _entry(user_id: str, action: str) -> AuditEntry:
    return AuditEntry(
        actor=user_id,
        role="customer",
        action=action,
        target_type="user",
        target_id=user_id,
        request_id=None,
        at=datetime.now(UTC),
    )


def _redeem(minted: account_links.Minted, user: User, *, purpose: Purpose = "reset", now: int = NOW) -> str:
    return repository.redeem_password_token(
        minted.hashed,
        user,
        passwords.hash_password("Another-pony-77"),
        purpose=purpose,
        now=now,
        audit=_entry(user.id, f"user.password_{purpose}"),
    )


def _audit_count(table: str, action: str) -> int:
    client = boto3.client("dynamodb")  # AWS_ENDPOINT_URL_DYNAMODB points it at DynamoDB Local
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": table}
    while True:
        page = client.scan(**request)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return sum(1 for item in items if item.get("action", {}).get("S") == action)


def test_a_token_is_redeemed_once_and_sets_the_password() -> None:
    user = _user()
    minted = _link(user)
    assert _redeem(minted, user) == "redeemed"
    stored = repository.get_user(user.id)
    assert stored is not None and stored.version == user.version + 1
    assert passwords.verify_password("Another-pony-77", stored.password_hash)
    # The same token again, even against the profile as it is now: refused by its status.
    assert _redeem(minted, stored) == "refused"


def test_the_conditions_refuse_expiry_purpose_account_and_a_changed_profile() -> None:
    user, other = _user(), _user("u-2", "bob@example.test")
    minted = _link(user)
    # Expired: the condition compares the request's time with the stored expiry.
    assert _redeem(minted, user, now=minted.expires_epoch) == "refused"
    # Another purpose.
    assert _redeem(minted, user, purpose="set") == "refused"
    # Another account's profile (its version matches, its id does not).
    assert _redeem(minted, other) == "refused"
    # The profile changed since the token was made (name changed: version moved on).
    changed = repository.update_profile(user, name="Ada L.", locale=None)
    assert _redeem(minted, changed) == "refused"
    stored = repository.get_user(user.id)
    assert stored is not None and passwords.verify_password("Correct-horse-42", stored.password_hash)
    # The token was never used up by these refusals.
    found = account_links.find(minted.token)
    assert found is not None and found.status == "active"


@pytest.mark.parametrize("racers", [2, 8])
def test_concurrent_uses_of_one_token_let_exactly_one_through(racers: int, local_table: str) -> None:
    user = _user()
    minted = _link(user)
    outcomes = together(racers, lambda i: _redeem(minted, user))
    assert outcomes.count("redeemed") == 1
    assert set(outcomes) <= {"redeemed", "refused", "contention"}
    assert _audit_count(local_table, "user.password_reset") == 1
    stored = repository.get_user(user.id)
    assert stored is not None and stored.version == user.version + 1


@pytest.mark.parametrize("racers", [2, 6])
def test_concurrent_resets_through_the_service_change_the_password_once(racers: int) -> None:
    user = _user()
    minted = _link(user)
    passwords_chosen = [f"Chosen-pass-{i}0x" for i in range(racers)]

    def attempt(i: int) -> str:
        body = PasswordTokenRequest(token=minted.token, password=passwords_chosen[i])
        try:
            recovery.reset_password(body, source_ip=f"203.0.113.{i}")
        except errors.BadRequest as exc:
            return exc.code
        return "ok"

    results = together(racers, attempt)
    assert results.count("ok") == 1
    assert set(results) == {"ok", "invalid_password_token"}
    winner = passwords_chosen[results.index("ok")]
    stored = repository.get_user(user.id)
    assert stored is not None and passwords.verify_password(winner, stored.password_hash)


def test_concurrent_invitations_of_one_address_make_one_account(local_table: str) -> None:
    def invite(i: int) -> str:
        try:
            invitations.invite_account(email="sam@hostel.test", name=f"Sam {i}", role="staff", invited_by=ADMIN)
        except errors.Conflict as exc:
            return exc.code
        return "made"

    results = together(6, invite)
    assert results.count("made") == 1 and set(results) == {"made", "email_taken"}
    # One profile, one token, one audit entry: the losers wrote nothing.
    assert _audit_count(local_table, "user.invite") == 1
    client = boto3.client("dynamodb")
    tokens = client.scan(
        TableName=local_table,
        FilterExpression="#type = :t",
        ExpressionAttributeNames={"#type": "type"},
        ExpressionAttributeValues={":t": {"S": "password_token"}},
    )["Items"]
    assert len(tokens) == 1


def test_an_invitation_link_sets_the_password_once(monkeypatch: pytest.MonkeyPatch) -> None:
    minted: list[account_links.Minted] = []
    real = account_links.mint
    monkeypatch.setattr(account_links, "mint", lambda *a: minted.append(real(*a)) or minted[-1])
    monkeypatch.setattr(invitations, "clock", lambda: float(NOW))
    invitations.invite_account(email="sam@hostel.test", name="Sam", role="agent", invited_by=ANONYMOUS)
    body = PasswordTokenRequest(token=minted[0].token, password="Another-pony-77")
    recovery.set_password(body, source_ip="203.0.113.1")
    with pytest.raises(errors.BadRequest):
        recovery.set_password(body, source_ip="203.0.113.1")
    user = repository.get_user_by_email("sam@hostel.test")
    assert user is not None and passwords.verify_password("Another-pony-77", user.password_hash)


_counter = iter(range(10**6))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    issued_for=st.sampled_from(["set", "reset"]),
    used_at=st.sampled_from(["set", "reset"]),
    same_account=st.booleans(),
    used_before=st.booleans(),
    profile_changed=st.booleans(),
    seconds_after=st.sampled_from([0, 1, account_links.TOKEN_SECONDS - 1, account_links.TOKEN_SECONDS, 10**6]),
)
def test_the_service_check_and_the_transactions_conditions_agree(
    issued_for: Purpose,
    used_at: Purpose,
    same_account: bool,
    used_before: bool,
    profile_changed: bool,
    seconds_after: int,
) -> None:
    """However the rules combine, the check made before hashing (`account_links.refusal`) refuses exactly what the
    redeeming transaction's conditions refuse: the pre-check can never let through what DynamoDB would not, nor
    refuse a link DynamoDB would accept."""
    n = next(_counter)
    owner = _user(f"p-{n}", f"owner{n}@example.test")
    other = _user(f"q-{n}", f"other{n}@example.test")
    minted = _link(owner, issued_for)
    if used_before:
        assert _redeem(minted, owner, purpose=issued_for) == "redeemed"
    current = repository.get_user(owner.id)
    assert current is not None
    if profile_changed:
        current = repository.update_profile(current, name="Renamed", locale=None)
    presenter = current if same_account else other
    now = NOW + seconds_after
    stored = account_links.find(minted.token)
    why = account_links.refusal(stored, user_id=presenter.id, purpose=used_at, user_version=presenter.version, now=now)
    outcome = _redeem(minted, presenter, purpose=used_at, now=now)
    assert (outcome == "redeemed") == (why == ""), (why, outcome)
