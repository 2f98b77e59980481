"""Register, log in, refresh, log out and the caller's profile, through the real `auth` function on moto."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import jwt
import pytest

from infra.local.adapter import event_for
from infra.local.functions import invoke
from slotwise import aws
from slotwise.identity import auth_service, passwords, repository, sessions, throttle
from tests.support.http import ApiResponse, call
from tests.unit.identity.conftest import PASSWORD, SECRET, bearer, make_user

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/users/me"


def post(path: str, body: Any, *, ip: str = "198.51.100.7") -> ApiResponse:
    """A POST from a given client address (API Gateway's requestContext.http.sourceIp)."""
    group, event = event_for(
        "POST",
        path,
        raw_query_string="",
        headers=[("content-type", "application/json")],
        body=json.dumps(body).encode(),
        source_ip=ip,
    )
    result = invoke(group, event)
    headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
    text = result.get("body") or ""
    return ApiResponse(result["statusCode"], headers, json.loads(text) if text else None)


def register(email: str = "grace@example.test", role: str = "customer", **extra: Any) -> ApiResponse:
    body = {"email": email, "password": PASSWORD, "name": "Grace Hopper", "role": role, **extra}
    return post(REGISTER, body)


def login(email: str = "ada@example.test", password: str = PASSWORD, ip: str = "198.51.100.7") -> ApiResponse:
    return post(LOGIN, {"email": email, "password": password}, ip=ip)


def decoded(access_token: str) -> dict[str, Any]:
    return jwt.decode(access_token, SECRET, algorithms=["HS256"], audience="slotwise-api")


# DynamoDB calls of a successful login: the throttle gates' TransactWriteItems, the e-mail and profile GetItems,
# and the sign-in's TransactWriteItems (which also forgets the source's failures and carries any rehash). Was 6
# (7 with a rehash): an UpdateItem per throttle, a DeleteItem clearing the account's, the rehash's UpdateItem.
LOGIN_CALLS = 4


def count_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the DynamoDB operations called from now on (the list grows as they happen)."""
    calls: list[str] = []
    client = aws.dynamodb()

    def hook(model: Any, **_: Any) -> None:
        calls.append(model.name)

    client.meta.events.register("before-call.dynamodb", hook)
    return calls


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests all happen in the same second: a throttle window cannot roll over during the test."""
    now = time.time()
    monkeypatch.setattr(auth_service, "clock", lambda: now)


def assert_no_secret(response: ApiResponse) -> None:
    text = json.dumps(response.body)
    assert "passwordHash" not in text and "password_hash" not in text and "scrypt$" not in text
    assert PASSWORD not in text


# --- register ---------------------------------------------------------------------------------------------------


def test_register_a_customer_returns_the_account_and_tokens(table: str) -> None:
    response = register()
    assert response.status == 201, response.body
    assert response.headers["cache-control"] == "no-store"
    body = response.body
    assert body["user"]["email"] == "grace@example.test"
    assert (body["user"]["role"], body["user"]["status"]) == ("customer", "active")
    assert body["tokenType"] == "Bearer" and body["expiresIn"] == 900
    assert body["refreshExpiresIn"] == 30 * 24 * 3600
    claims = decoded(body["accessToken"])
    assert (claims["sub"], claims["role"], claims["status"]) == (body["user"]["id"], "customer", "active")
    assert_no_secret(response)
    me = call("GET", ME, headers=bearer(body["accessToken"]))
    assert me.status == 200 and me.body["id"] == body["user"]["id"]
    assert_no_secret(me)


def test_the_refresh_token_is_stored_only_hashed(table: str) -> None:
    import boto3

    token = register().body["refreshToken"]
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    dump = json.dumps(items)
    assert token not in dump
    assert f"REFRESH#{hashlib.sha256(token.encode()).hexdigest()}" in dump


@pytest.mark.parametrize("role", ["vendor", "advisor"])
def test_vendors_and_advisors_start_pending_approval(table: str, role: str) -> None:
    response = register(role=role)
    assert response.status == 201
    assert response.body["user"]["status"] == "pending_approval"
    assert decoded(response.body["accessToken"])["status"] == "pending_approval"


def test_approval_reaches_the_token_on_refresh(table: str) -> None:
    body = register(role="vendor").body
    user = repository.get_user(body["user"]["id"])
    assert user is not None
    repository.set_status(user, "active")
    refreshed = post(REFRESH, {"refreshToken": body["refreshToken"]})
    assert refreshed.status == 200
    assert decoded(refreshed.body["accessToken"])["status"] == "active"


@pytest.mark.parametrize(
    "extra",
    [
        {"role": "admin"},
        {"role": "staff"},
        {"role": "agent"},
        {"role": "guest"},
        {"status": "active"},
        {"id": "chosen-id"},
        {"passwordHash": "scrypt$1$1$1$AA$AA"},
        {"version": 7},
        {"createdAt": "2020-01-01T00:00:00Z"},
    ],
)
def test_register_refuses_mass_assignment(table: str, extra: dict[str, Any]) -> None:
    response = register(**extra)
    assert (response.status, response.code) == (422, "validation_failed"), response.body


@pytest.mark.parametrize(
    "password",
    ["short-1", "alllowercaseletters", "1234567890123", "aaaaaaaaaaaaaA1", "grace-hopper-99", "grace@example.test1"],
)
def test_register_refuses_weak_passwords(table: str, password: str) -> None:
    response = post(REGISTER, {"email": "grace@example.test", "password": password, "name": "Grace Hopper"})
    assert (response.status, response.code) == (422, "weak_password"), password


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "two@@example.test", "sp ace@example.test", ""])
def test_register_refuses_bad_emails(table: str, email: str) -> None:
    assert register(email=email).status == 422


def test_emails_are_unique_whatever_their_case(table: str) -> None:
    assert register("Grace@Example.test").status == 201
    again = register("  grace@example.TEST ")
    assert (again.status, again.code) == (409, "email_taken")
    assert login("GRACE@example.test").status == 200


# --- login ------------------------------------------------------------------------------------------------------


def test_login_returns_tokens(table: str) -> None:
    make_user()
    response = login()
    assert response.status == 200 and response.headers["cache-control"] == "no-store"
    assert response.body["user"]["id"] == "u-1"
    assert decoded(response.body["accessToken"])["sub"] == "u-1"
    assert_no_secret(response)


def test_unknown_email_and_wrong_password_fail_alike_after_the_same_work(
    table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user()
    passwords.dummy_hash()  # made once per process, not part of a login's work
    runs: list[int] = []
    real = hashlib.scrypt

    def counting(*args: Any, **kwargs: Any) -> bytes:
        runs.append(kwargs["n"])
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counting)
    wrong = login(password="Wrong-password-1")
    unknown = login(email="nobody@example.test")
    assert wrong.status == unknown.status == 401
    assert wrong.code == unknown.code == "invalid_credentials"
    assert wrong.body["detail"] == unknown.body["detail"]
    assert runs == [passwords.current().n, passwords.current().n]


def test_a_user_without_a_password_cannot_log_in(table: str) -> None:
    make_user(password=None)
    assert login().code == "invalid_credentials"


@pytest.mark.parametrize("status", ["suspended", "rejected"])
def test_locked_out_accounts_are_refused_only_with_the_right_password(table: str, status: str) -> None:
    make_user(status=status)
    refused = login()
    assert (refused.status, refused.code) == (403, f"account_{status}")
    assert login(password="Wrong-password-1").code == "invalid_credentials"


WRONG = "Wrong-password-1"
ATTACKER = "203.0.113.66"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A settable request clock, starting 10 s into a fresh 15-minute window (the account ceiling's)."""
    now = [int(time.time()) // 900 * 900 + 10]
    monkeypatch.setattr(auth_service, "clock", lambda: now[0])
    return now


@pytest.fixture
def refusals(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the EMF metrics the throttle emits from now on."""
    emitted: list[str] = []
    monkeypatch.setattr(throttle.metrics, "add_metric", lambda *, name, **_: emitted.append(name))
    return emitted


def test_a_guessing_source_is_slowed_with_growing_delays(table: str, clock: list[int], refusals: list[str]) -> None:
    make_user()
    for _ in range(throttle.LOGIN_FREE_FAILURES):
        assert login(password=WRONG, ip=ATTACKER).code == "invalid_credentials"
    waits = []
    for _ in range(4):
        blocked = login(password=WRONG, ip=ATTACKER)
        assert (blocked.status, blocked.code) == (429, "too_many_attempts")
        assert blocked.headers["content-type"] == "application/problem+json"
        waits.append(int(blocked.headers["retry-after"]))
        assert login(ip=ATTACKER).code == "too_many_attempts"  # even the right password waits
        clock[0] += waits[-1]
        assert login(password=WRONG, ip=ATTACKER).code == "invalid_credentials"  # one more guess, then longer
    assert waits == [1, 2, 4, 8]
    assert refusals.count("LoginSourceThrottled") == 8 and refusals.count("LoginsRefused") == 8
    assert "LoginSpraySuspected" not in refusals


def test_the_delays_double_up_to_fifteen_minutes() -> None:
    free = throttle.LOGIN_FREE_FAILURES
    assert [throttle.delay_after(n) for n in range(free + 1)] == [0] * free + [1]
    assert [throttle.delay_after(free + n) for n in (1, 2, 9, 10, 11, 500)] == [2, 4, 512, 900, 900, 900]


def test_the_owner_signs_in_from_elsewhere_while_a_guesser_is_slowed(table: str, clock: list[int]) -> None:
    make_user()
    for _ in range(12):
        login(password=WRONG, ip=ATTACKER)
    assert login(password=WRONG, ip=ATTACKER).code == "too_many_attempts"
    owner = login(ip="198.51.100.7")
    assert owner.status == 200
    # The owner's success forgets only the owner's source: the guesser still waits.
    assert login(password=WRONG, ip=ATTACKER).code == "too_many_attempts"
    # Unknown e-mails are slowed the same way (no way to tell them from accounts).
    for _ in range(throttle.LOGIN_FREE_FAILURES):
        assert login(email="nobody@example.test", ip=ATTACKER).code == "invalid_credentials"
    assert login(email="nobody@example.test", ip=ATTACKER).code == "too_many_attempts"


def test_a_successful_login_forgets_that_sources_failures(table: str, clock: list[int]) -> None:
    make_user()
    for _ in range(throttle.LOGIN_FREE_FAILURES - 1):
        assert login(password=WRONG).status == 401
    assert login().status == 200
    for _ in range(throttle.LOGIN_FREE_FAILURES - 1):
        assert login(password=WRONG).status == 401
    assert login().status == 200


def test_past_the_account_ceiling_sign_ins_are_slowed_not_locked(
    table: str, clock: list[int], refusals: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle, "LOGIN_PER_ACCOUNT", throttle.Limit("login-account", limit=6, window_seconds=900))
    make_user()
    for i in range(6):  # a distributed guesser: every source is still within its free failures
        assert login(password=WRONG, ip=f"203.0.113.{i}").code == "invalid_credentials"
    slowed = login(ip="198.51.100.7")  # the owner, from a clean source
    assert (slowed.status, slowed.code) == (429, "too_many_attempts")
    assert 0 < int(slowed.headers["retry-after"]) <= throttle.LOGIN_SLOW_SECONDS
    assert refusals.count("LoginAccountSlowed") == 1
    clock[0] += throttle.LOGIN_SLOW_SECONDS
    assert login(ip="198.51.100.7").status == 200  # one attempt per slot: the owner gets in
    assert login(password=WRONG, ip="203.0.113.9").code == "too_many_attempts"  # the next slot is 10 s away
    clock[0] += throttle.LOGIN_SLOW_SECONDS
    assert login(password=WRONG, ip="203.0.113.9").code == "invalid_credentials"


def test_many_accounts_from_one_address_are_a_suspected_spray(
    table: str, clock: list[int], refusals: list[str]
) -> None:
    clock[0] = clock[0] // 60 * 60 + 1  # a fresh minute
    for i in range(throttle.LOGIN_PER_IP.limit):
        assert login(email=f"user{i}@example.test", ip="192.0.2.1").code == "invalid_credentials"
    blocked = login(email="user99@example.test", ip="192.0.2.1")
    assert (blocked.status, blocked.code) == (429, "too_many_attempts")
    assert 0 < int(blocked.headers["retry-after"]) <= 60
    assert refusals == ["LoginsRefused", "LoginSpraySuspected"]
    assert login(email="user99@example.test", ip="192.0.2.2").code == "invalid_credentials"


def test_an_old_hash_is_upgraded_at_login_in_the_sign_in_transaction(
    table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user(password=None)
    weaker = passwords.hash_password(PASSWORD, passwords.Params(n=2**10))
    repository.set_password_hash(user, weaker)
    calls = count_calls(monkeypatch)
    response = login()
    assert response.status == 200
    assert calls == ["TransactWriteItems", "GetItem", "GetItem", "TransactWriteItems"]
    stored = repository.get_user("u-1")
    assert stored is not None and stored.password_hash is not None
    assert stored.password_hash.startswith(f"scrypt${passwords.current().n}$8$1$")
    assert passwords.verify_password(PASSWORD, stored.password_hash)
    assert stored.version == 3
    # Up to date now: the next login rewrites nothing.
    assert login().status == 200
    again = repository.get_user("u-1")
    assert again is not None and again.password_hash == stored.password_hash


def test_a_wrong_password_does_not_upgrade_an_old_hash(table: str) -> None:
    user = make_user(password=None)
    weaker = passwords.hash_password(PASSWORD, passwords.Params(n=2**10))
    repository.set_password_hash(user, weaker)
    assert login(password="Wrong-password-1").status == 401
    stored = repository.get_user("u-1")
    assert stored is not None and stored.password_hash == weaker


def test_an_upgrade_that_loses_to_a_concurrent_change_still_signs_in(
    table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user(password=None)
    weaker = passwords.hash_password(PASSWORD, passwords.Params(n=2**10))
    user = repository.set_password_hash(user, weaker)
    real = repository.get_user_by_email

    def then_changed(email: str) -> Any:
        found = real(email)
        repository.update_profile(user, name="Changed meanwhile", locale=None)  # the profile's version moves on
        return found

    monkeypatch.setattr(repository, "get_user_by_email", then_changed)
    assert login().status == 200
    stored = repository.get_user("u-1")
    assert stored is not None and stored.password_hash == weaker and stored.name == "Changed meanwhile"


def test_a_login_costs_few_dynamodb_calls(table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    make_user()
    calls = count_calls(monkeypatch)
    assert login().status == 200
    assert len(calls) == LOGIN_CALLS, calls


# --- refresh and logout -----------------------------------------------------------------------------------------


def test_refresh_rotates_and_reuse_revokes_the_family(table: str) -> None:
    make_user()
    first = login().body
    second = post(REFRESH, {"refreshToken": first["refreshToken"]})
    assert second.status == 200 and second.headers["cache-control"] == "no-store"
    assert second.body["refreshToken"] != first["refreshToken"]
    assert call("GET", ME, headers=bearer(second.body["accessToken"])).status == 200
    third = post(REFRESH, {"refreshToken": second.body["refreshToken"]})
    assert third.status == 200

    # The first token again: a stolen copy. The family is revoked...
    reused = post(REFRESH, {"refreshToken": first["refreshToken"]})
    assert (reused.status, reused.code) == (401, "refresh_token_reused")
    assert reused.headers["www-authenticate"].startswith("Bearer")
    # ...so the newest token, held by whoever refreshed last, no longer works either.
    latest = post(REFRESH, {"refreshToken": third.body["refreshToken"]})
    assert (latest.status, latest.code) == (401, "refresh_token_reused")


def test_other_sign_ins_survive_a_revoked_family(table: str) -> None:
    make_user()
    phone, laptop = login().body, login().body
    assert post(REFRESH, {"refreshToken": phone["refreshToken"]}).status == 200
    assert post(REFRESH, {"refreshToken": phone["refreshToken"]}).code == "refresh_token_reused"
    assert post(REFRESH, {"refreshToken": laptop["refreshToken"]}).status == 200


@pytest.mark.parametrize("token", ["garbage", "x" * 43, "A" * 200])
def test_unknown_refresh_tokens(table: str, token: str) -> None:
    response = post(REFRESH, {"refreshToken": token})
    assert (response.status, response.code) == (401, "invalid_refresh_token")


def test_an_expired_refresh_token(table: str) -> None:
    from datetime import UTC, datetime, timedelta

    make_user()
    token = login().body["refreshToken"]
    later = datetime.now(UTC) + timedelta(days=31)
    with pytest.raises(Exception, match="not valid or has expired") as raised:
        auth_service.refresh(auth_service.RefreshRequest(refresh_token=token), now=later)
    assert getattr(raised.value, "code", None) == "invalid_refresh_token"


def test_logout_revokes_the_sign_in(table: str) -> None:
    make_user()
    body = login().body
    out = post(LOGOUT, {"refreshToken": body["refreshToken"]})
    assert out.status == 204 and out.body is None
    after = post(REFRESH, {"refreshToken": body["refreshToken"]})
    assert (after.status, after.code) == (401, "refresh_token_reused")
    assert post(LOGOUT, {"refreshToken": "never-issued"}).status == 204


@pytest.mark.parametrize("status", ["suspended", "rejected"])
def test_refresh_of_a_locked_out_account_is_refused_and_revoked(table: str, status: Any) -> None:
    user = make_user()
    body = login().body
    repository.set_status(user, status)
    refused = post(REFRESH, {"refreshToken": body["refreshToken"]})
    assert (refused.status, refused.code) == (403, f"account_{status}")
    record = sessions.find(body["refreshToken"])
    assert record is not None and sessions.family_status("u-1", record.family_id) == "revoked"


def test_revoke_sessions_ends_every_sign_in(table: str) -> None:
    make_user()
    tokens = [login().body["refreshToken"] for _ in range(3)]
    assert auth_service.revoke_sessions("u-1") == 3
    assert auth_service.revoke_sessions("u-1") == 0
    for token in tokens:
        assert post(REFRESH, {"refreshToken": token}).code == "refresh_token_reused"


# --- the caller's profile ---------------------------------------------------------------------------------------


def test_me_needs_a_signed_in_caller(table: str) -> None:
    response = call("GET", ME)
    assert (response.status, response.code) == (401, "authentication_required")
    assert call("PUT", ME, body={"name": "X"}).status == 401


def test_me_with_identity_headers_and_no_stored_account(table: str) -> None:
    response = call("GET", ME, user="header-user", role="customer")
    assert (response.status, response.code) == (404, "user_not_found")


def test_update_me_changes_name_and_locale_only(table: str) -> None:
    make_user()
    token = login().body["accessToken"]
    changed = call("PUT", ME, headers=bearer(token), body={"name": "Ada King", "locale": "en-GB"})
    assert changed.status == 200, changed.body
    assert (changed.body["name"], changed.body["locale"], changed.body["version"]) == ("Ada King", "en-GB", 2)
    assert_no_secret(changed)
    assert call("GET", ME, headers=bearer(token)).body["name"] == "Ada King"
    assert login().status == 200  # the password hash survived the update


@pytest.mark.parametrize(
    "body",
    [
        {"role": "admin"},
        {"name": "X", "role": "admin"},
        {"status": "active"},
        {"email": "other@example.test"},
        {"passwordHash": "scrypt$1$1$1$AA$AA"},
        {"id": "u-2"},
        {"version": 9},
        {"locale": "not a locale"},
        {"name": ""},
    ],
)
def test_update_me_refuses_everything_else(table: str, body: dict[str, Any]) -> None:
    make_user()
    token = login().body["accessToken"]
    response = call("PUT", ME, headers=bearer(token), body=body)
    assert (response.status, response.code) == (422, "validation_failed"), body
    stored = repository.get_user("u-1")
    assert stored is not None and (stored.role, stored.status, stored.version) == ("customer", "active", 1)


def test_a_stale_profile_update_is_a_conflict(table: str) -> None:
    from slotwise import errors

    user = make_user()
    repository.update_profile(user, name="First", locale=None)
    with pytest.raises(errors.Conflict):
        repository.update_profile(user, name="Second", locale=None)  # `user` is version 1; the store is at 2
    stored = repository.get_user("u-1")
    assert stored is not None and stored.name == "First"
