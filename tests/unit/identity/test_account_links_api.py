"""Accounts made by an admin, set-password and reset links, through the real `admin` and `auth` functions on moto
(e-mail captured by moto's SES). Conditions and races of using a link are judged on DynamoDB Local
(tests/integration/test_account_links.py)."""

from __future__ import annotations

import email
import hashlib
import re
from email.message import Message
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import pytest

from slotwise.accounts import invitations, messages, recovery
from slotwise.identity import account_links, repository, throttle
from slotwise.settings import get_settings
from tests.support.http import ApiResponse, call
from tests.unit.authz.world import snapshot
from tests.unit.identity.conftest import PASSWORD, make_user

USERS = "/api/v1/admin/users"
SET = "/api/v1/auth/password/set"
FORGOT = "/api/v1/auth/password/forgot"
RESET = "/api/v1/auth/password/reset"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
ADMIN = {"user": "root", "role": "admin"}
NEW_PASSWORD = "Another-pony-77"
OTHER_PASSWORD = "Third-zebra-55"
INVITE = {"email": "sam@hostel.test", "name": "Sam Staff", "role": "staff"}


class Outbox:
    """What moto's SES accepted, as parsed messages."""

    def __init__(self) -> None:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends

        self._backend = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]

    def messages(self) -> list[Message]:
        return [email.message_from_string(m.raw_data) for m in self._backend.sent_messages]

    def last_text(self, to: str) -> str:
        sent = [m for m in self.messages() if to in str(m["To"])]
        assert sent, f"no e-mail to {to}"
        for part in sent[-1].walk():
            if part.get_content_type() == "text/plain":
                payload = part.get_payload(decode=True)
                assert isinstance(payload, bytes)
                return payload.decode()
        raise AssertionError("no text part")

    def link(self, to: str) -> tuple[str, str]:
        """The purpose and the token of the last link e-mailed to `to`, read from the link itself."""
        (url,) = re.findall(r"https?://\S+", self.last_text(to))
        query = parse_qs(urlparse(url).query)
        return query["purpose"][0], query["token"][0]


@pytest.fixture
def outbox(table: str) -> Outbox:
    boto3.client("ses").verify_email_identity(EmailAddress=get_settings().email_from)
    return Outbox()


class Clock:
    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """One request clock for the link services and the sign-in (so windows and expiries are the test's to move);
    forgot's pacing records what it would wait instead of sleeping."""
    from slotwise.identity import auth_service

    frozen = Clock()
    monkeypatch.setattr(recovery, "clock", frozen)
    monkeypatch.setattr(invitations, "clock", frozen)
    monkeypatch.setattr(auth_service, "clock", frozen)
    monkeypatch.setattr(recovery, "pause", lambda seconds: None)
    return frozen


def invite(body: dict[str, Any] | None = None, **caller: Any) -> ApiResponse:
    return call("POST", USERS, body=body or dict(INVITE), **(caller or ADMIN))


def login(address: str, password: str, ip: str = "198.51.100.7") -> ApiResponse:
    return call("POST", LOGIN, body={"email": address, "password": password}, source_ip=ip)


def use(path: str, token: str, password: str = NEW_PASSWORD, ip: str = "198.51.100.9") -> ApiResponse:
    return call("POST", path, body={"token": token, "password": password}, source_ip=ip)


def refused(response: ApiResponse) -> bool:
    return (response.status, response.code) == (400, "invalid_password_token")


# --- POST /admin/users ------------------------------------------------------------------------------------------


def test_an_admin_makes_an_account_that_signs_in_only_after_choosing_its_password(outbox: Outbox, clock: Clock) -> None:
    made = invite()
    assert made.status == 201, made.body
    user = made.body
    assert (user["email"], user["role"], user["status"]) == ("sam@hostel.test", "staff", "active")
    assert "token" not in str(made.body).lower() and "password" not in str(made.body).lower()
    # No password yet: the account cannot sign in (like a wrong password).
    assert (login("sam@hostel.test", NEW_PASSWORD).code) == "invalid_credentials"

    purpose, token = outbox.link("sam@hostel.test")
    assert purpose == "set" and token.startswith(f"{user['id']}.")
    assert "24 hours" in outbox.last_text("sam@hostel.test")
    chosen = use(SET, token)
    assert chosen.status == 204, chosen.body
    assert chosen.headers["cache-control"] == "no-store"
    signed_in = login("sam@hostel.test", NEW_PASSWORD)
    assert signed_in.status == 200 and signed_in.body["user"]["id"] == user["id"]


def test_the_raw_token_is_never_stored_only_its_hash(outbox: Outbox, table: str) -> None:
    invite()
    _, token = outbox.link("sam@hostel.test")
    secret = token.rsplit(".", 1)[1]
    stored = "\n".join(snapshot(table))
    assert secret not in stored and token not in stored
    assert f"PWTOKEN#{hashlib.sha256(token.encode()).hexdigest()}" in stored


def test_the_invitation_is_audited_with_its_inviter(outbox: Outbox) -> None:
    make_user("vendor-7", email="v7@hostel.test", role="vendor")
    assert call("GET", "/api/v1/organisations/me", user="vendor-7", role="vendor").status == 200
    made = invite({**INVITE, "organisationId": "org-vendor-7"}).body
    log = call("GET", "/api/v1/admin/audit", query={"target": f"user:{made['id']}"}, **ADMIN).body
    (entry,) = [e for e in log["entries"] if e["action"] == "user.invite"]
    assert (entry["actor"], entry["detail"]["role"], entry["detail"]["organisationId"]) == (
        "root",
        "staff",
        "org-vendor-7",
    )
    joined = call("GET", "/api/v1/admin/audit", query={"target": "organisation:org-vendor-7"}, **ADMIN).body
    assert [e["detail"]["userId"] for e in joined["entries"] if e["action"] == "organisation.member_add"] == [
        made["id"]
    ]


def test_an_e_mail_in_use_is_a_409_and_writes_nothing(outbox: Outbox, table: str) -> None:
    make_user(email="sam@hostel.test", password=None)
    before = snapshot(table)
    again = invite({**INVITE, "email": " SAM@hostel.test "})
    assert (again.status, again.code) == (409, "email_taken")
    assert snapshot(table) == before
    assert outbox.messages() == []


@pytest.mark.parametrize(
    "extra",
    [{"status": "suspended"}, {"ownerId": "x"}, {"id": "mine"}, {"password": PASSWORD}, {"passwordHash": "x"}],
)
def test_clients_cannot_set_server_owned_fields(outbox: Outbox, table: str, extra: dict[str, Any]) -> None:
    before = snapshot(table)
    response = invite({**INVITE, **extra})
    assert (response.status, response.code) == (422, "validation_failed")
    assert snapshot(table) == before


@pytest.mark.parametrize(
    "change",
    [
        {"role": "guest"},
        {"role": "root"},
        {"email": "nobody"},
        {"name": ""},
        {"organisationId": "a b"},
        {"locale": "x"},
    ],
)
def test_the_body_is_validated(outbox: Outbox, change: dict[str, Any]) -> None:
    assert invite({**INVITE, **change}).status == 422


@pytest.mark.parametrize("role", ["staff", "agent", "advisor", "vendor", "customer", "admin"])
def test_every_role_can_be_made_and_is_active_at_once(outbox: Outbox, role: str) -> None:
    made = invite({**INVITE, "role": role})
    assert (made.status, made.body["role"], made.body["status"]) == (201, role, "active")


def test_a_failed_send_still_makes_the_account_and_forgot_sends_a_new_link(table: str, clock: Clock) -> None:
    # The sender is not verified in SES: SendRawEmail is refused.
    made = invite()
    assert made.status == 201
    assert repository.get_user_by_email("sam@hostel.test") is not None
    boto3.client("ses").verify_email_identity(EmailAddress=get_settings().email_from)
    assert call("POST", FORGOT, body={"email": "sam@hostel.test"}).status == 202
    purpose, token = Outbox().link("sam@hostel.test")
    assert purpose == "reset" and use(RESET, token).status == 204


def test_the_link_follows_the_configured_url_and_the_locale(outbox: Outbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLOTWISE_ACCOUNT_LINK_URL", "https://app.example/welcome/{PURPOSE}?t={TOKEN}")
    get_settings.cache_clear()
    invite({**INVITE, "locale": "pt-PT"})
    text = outbox.last_text("sam@hostel.test")
    assert "palavra-passe" in text
    assert re.search(r"https://app\.example/welcome/set\?t=[0-9a-f]{32}\.[\w-]{43}\s", text)


# --- set and reset: refusals ------------------------------------------------------------------------------------


@pytest.fixture
def invited(outbox: Outbox, clock: Clock) -> tuple[str, str]:
    """An invited account's id and its set-password token."""
    user_id = invite().body["id"]
    return user_id, outbox.link("sam@hostel.test")[1]


def test_a_used_link_is_refused(invited: tuple[str, str]) -> None:
    _, token = invited
    assert use(SET, token).status == 204
    again = use(SET, token, OTHER_PASSWORD)
    assert refused(again) and again.headers["content-type"] == "application/problem+json"
    assert login("sam@hostel.test", OTHER_PASSWORD).status == 401
    assert login("sam@hostel.test", NEW_PASSWORD).status == 200


def test_an_expired_link_is_refused(invited: tuple[str, str], clock: Clock) -> None:
    _, token = invited
    clock.now += account_links.TOKEN_SECONDS
    assert refused(use(SET, token))
    assert login("sam@hostel.test", NEW_PASSWORD).status == 401


def test_a_link_works_until_its_last_second(invited: tuple[str, str], clock: Clock) -> None:
    _, token = invited
    clock.now += account_links.TOKEN_SECONDS - 1
    assert use(SET, token).status == 204


def test_a_link_of_another_purpose_is_refused(invited: tuple[str, str], outbox: Outbox) -> None:
    _, set_token = invited
    assert refused(use(RESET, set_token))
    call("POST", FORGOT, body={"email": "sam@hostel.test"})
    purpose, reset_token = outbox.link("sam@hostel.test")
    assert purpose == "reset"
    assert refused(use(SET, reset_token))
    # Neither refusal used them up.
    assert use(SET, set_token).status == 204


def test_a_token_moved_to_another_account_is_refused(invited: tuple[str, str], outbox: Outbox) -> None:
    user_id, token = invited
    other = invite({**INVITE, "email": "kim@hostel.test"}).body["id"]
    secret = token.rsplit(".", 1)[1]
    assert refused(use(SET, f"{other}.{secret}"))
    other_token = outbox.link("kim@hostel.test")[1]
    assert refused(use(SET, f"{user_id}.{other_token.rsplit('.', 1)[1]}"))
    assert use(SET, token).status == 204 and use(SET, other_token).status == 204


@pytest.mark.parametrize("token", ["x", "no-dot-here-" + "a" * 50, "." + "a" * 43, "u." + "a" * 10])
def test_malformed_tokens_are_refused(invited: tuple[str, str], token: str) -> None:
    assert refused(use(SET, token))


def test_a_weak_password_is_refused_and_leaves_the_link_usable(invited: tuple[str, str]) -> None:
    _, token = invited
    weak = use(SET, token, "password")
    assert (weak.status, weak.code) == (422, "weak_password")
    assert use(SET, token).status == 204


def test_a_known_tokens_refusal_is_audited(invited: tuple[str, str]) -> None:
    user_id, token = invited
    use(SET, token)
    use(SET, token)
    log = call("GET", "/api/v1/admin/audit", query={"target": f"user:{user_id}"}, **ADMIN).body["entries"]
    results = sorted((e["action"], e["result"], e["detail"].get("reason")) for e in log if "password" in e["action"])
    assert results == [("user.password_set", "failure", "used"), ("user.password_set", "success", None)]


def test_the_body_refuses_extra_fields(invited: tuple[str, str]) -> None:
    _, token = invited
    response = call("POST", SET, body={"token": token, "password": NEW_PASSWORD, "userId": "someone"})
    assert (response.status, response.code) == (422, "validation_failed")


# --- forgot and reset -------------------------------------------------------------------------------------------


def test_forgot_answers_alike_for_existing_unknown_and_malformed_addresses(
    outbox: Outbox, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user(email="ada@example.test")
    work: list[tuple[str, Any]] = []
    real_mint, real_render = account_links.mint, messages.render
    monkeypatch.setattr(account_links, "mint", lambda *a: work.append(("mint", None)) or real_mint(*a))
    monkeypatch.setattr(messages, "render", lambda *a, **k: work.append(("render", a[0])) or real_render(*a, **k))
    # A still clock: what is compared is the wait each path asks for, not how long moto took on a busy machine.
    monkeypatch.setattr(recovery, "monotonic", lambda: 0.0)
    monkeypatch.setattr(recovery, "pause", lambda seconds: work.append(("pause", seconds)))

    answers = []
    works = []
    for address in ("ada@example.test", "nobody@example.test", "not an address"):
        work.clear()
        response = call("POST", FORGOT, body={"email": address})
        answers.append((response.status, response.body, response.headers))
        works.append(list(work))
    assert answers[0][0] == 202
    assert answers[0] == answers[1] == answers[2]
    # The same token minted and hashed, the same e-mail rendered, the same wait to the floor, every time.
    assert works[0] == works[1] == works[2] == [("mint", None), ("render", "reset"), ("pause", recovery.FORGOT_SECONDS)]
    # Only the existing account got mail.
    assert [str(m["To"]) for m in outbox.messages()] == ["Ada Lovelace <ada@example.test>"]


def test_forgot_stores_a_token_only_for_an_existing_account(outbox: Outbox, clock: Clock, table: str) -> None:
    call("POST", FORGOT, body={"email": "nobody@example.test"})
    assert not [item for item in snapshot(table) if "PWTOKEN#" in item]
    make_user(email="ada@example.test")
    call("POST", FORGOT, body={"email": "ada@example.test"})
    assert len([item for item in snapshot(table) if "PWTOKEN#" in item]) == 1


def test_forgot_waits_until_its_floor_whatever_the_path(monkeypatch: pytest.MonkeyPatch) -> None:
    waited: list[float] = []
    ticks = iter([10.0, 10.25])
    monkeypatch.setattr(recovery, "monotonic", lambda: next(ticks))
    monkeypatch.setattr(recovery, "pause", waited.append)
    recovery.pace(10.0)
    recovery.pace(10.0)  # 0.25 s gone: waits the rest
    assert waited == [pytest.approx(recovery.FORGOT_SECONDS), pytest.approx(recovery.FORGOT_SECONDS - 0.25)]


def test_a_reset_sets_the_password_and_ends_every_sign_in(outbox: Outbox, clock: Clock) -> None:
    make_user(email="ada@example.test")
    session = login("ada@example.test", PASSWORD).body
    assert call("POST", FORGOT, body={"email": "ada@example.test"}).status == 202
    purpose, token = outbox.link("ada@example.test")
    assert purpose == "reset" and "ignore this message" in outbox.last_text("ada@example.test")
    assert use(RESET, token).status == 204
    assert login("ada@example.test", PASSWORD).status == 401
    assert login("ada@example.test", NEW_PASSWORD).status == 200
    stale = call("POST", REFRESH, body={"refreshToken": session["refreshToken"]})
    assert stale.status == 401


def test_using_one_link_voids_the_accounts_other_links(outbox: Outbox, clock: Clock) -> None:
    make_user(email="ada@example.test")
    call("POST", FORGOT, body={"email": "ada@example.test"})
    first = outbox.link("ada@example.test")[1]
    call("POST", FORGOT, body={"email": "ada@example.test"})
    second = outbox.link("ada@example.test")[1]
    assert first != second
    assert use(RESET, second).status == 204
    assert refused(use(RESET, first, OTHER_PASSWORD))


def test_forgot_is_throttled_per_address_asked_and_per_source(outbox: Outbox, clock: Clock) -> None:
    for _ in range(throttle.FORGOT_PER_EMAIL.limit):
        assert call("POST", FORGOT, body={"email": "nobody@example.test"}).status == 202
    limited = call("POST", FORGOT, body={"email": "nobody@example.test"}, source_ip="203.0.113.1")
    assert (limited.status, limited.code) == (429, "too_many_attempts") and "retry-after" in limited.headers
    for i in range(throttle.FORGOT_PER_IP.limit - throttle.FORGOT_PER_EMAIL.limit):
        assert call("POST", FORGOT, body={"email": f"n{i}@example.test"}).status == 202
    from_source = call("POST", FORGOT, body={"email": "fresh@example.test"})
    assert (from_source.status, from_source.code) == (429, "too_many_attempts")
    clock.now += throttle.FORGOT_PER_IP.window_seconds
    assert call("POST", FORGOT, body={"email": "fresh@example.test"}).status == 202


def test_link_attempts_are_throttled_per_source(invited: tuple[str, str]) -> None:
    for _ in range(throttle.PASSWORD_LINK_PER_IP.limit):
        assert refused(use(SET, "x", ip="203.0.113.5"))
    limited = use(SET, invited[1], ip="203.0.113.5")
    assert (limited.status, limited.code) == (429, "too_many_attempts")


def test_the_link_routes_are_off_with_an_external_identity_provider(
    outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLOTWISE_AUTH_MODE", "oidc")
    monkeypatch.setenv("SLOTWISE_OIDC_ISSUER", "https://idp.example")
    monkeypatch.setenv("SLOTWISE_OIDC_AUDIENCE", "slotwise")
    monkeypatch.setenv("SLOTWISE_OIDC_JWKS_URL", "https://idp.example/jwks")
    get_settings.cache_clear()
    for path, body in ((FORGOT, {"email": "a@example.test"}), (SET, {"token": "t", "password": NEW_PASSWORD})):
        response = call("POST", path, body=body)
        assert (response.status, response.code) == (404, "auth_endpoint_disabled"), path
    assert outbox.messages() == []
