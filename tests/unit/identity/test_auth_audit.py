"""Identity changes leave audit entries, written with the change; password changes; suspension ends sign-ins."""

from __future__ import annotations

from typing import Any

import pytest

from slotwise.audit import log as audit
from slotwise.identity import repository, sessions, throttle
from tests.support.http import call
from tests.unit.identity.conftest import PASSWORD, bearer, make_user
from tests.unit.identity.test_auth_api import ATTACKER, LOGOUT, ME, REFRESH, WRONG, clock, frozen, login, post, register

__all__ = ["clock", "frozen"]  # the fixtures, imported for the throttle-sensitive tests

PASSWORD_URL = "/api/v1/users/me/password"
NEW_PASSWORD = "Battery-staple-77"


def entries(user_id: str) -> list[dict[str, Any]]:
    """The account's audit entries, oldest first."""
    found, _ = audit.query(target=f"user:{user_id}", actor=None, frm=None, to=None, limit=100, cursor=None)
    return list(reversed(found))


def actions(user_id: str) -> list[tuple[str, str]]:
    return [(e["action"], e["result"]) for e in entries(user_id)]


def test_registration_records_the_account_and_its_first_sign_in(table: str) -> None:
    body = register().body
    user_id = body["user"]["id"]
    recorded = entries(user_id)
    assert [(e["action"], e["actor"], e["role"]) for e in recorded] == [
        ("user.register", user_id, "customer"),
        ("auth.login", user_id, "customer"),
    ]
    assert recorded[0]["detail"] == {"role": "customer", "status": "active"}
    assert all(e["requestId"] for e in recorded)


def test_a_taken_email_records_nothing_for_the_loser(table: str) -> None:
    first = register().body["user"]["id"]
    assert register().status == 409
    assert actions(first) == [("user.register", "success"), ("auth.login", "success")]


def test_sign_ins_refusals_refreshes_and_sign_outs_are_recorded(table: str, frozen: None) -> None:
    make_user()
    assert login(password="Wrong-password-1", ip="203.0.113.9").status == 401
    signed_in = login().body
    rotated = post(REFRESH, {"refreshToken": signed_in["refreshToken"]}).body
    assert post(LOGOUT, {"refreshToken": rotated["refreshToken"]}).status == 204
    recorded = entries("u-1")
    assert [(e["action"], e["result"], e["actor"]) for e in recorded] == [
        ("auth.login", "failure", "anonymous"),
        ("auth.login", "success", "u-1"),
        ("auth.refresh", "success", "u-1"),
        ("auth.logout", "success", "u-1"),
    ]
    assert recorded[0]["detail"] == {"reason": "wrong_password", "sourceIp": "203.0.113.9"}
    family = sessions.find(signed_in["refreshToken"])
    assert family is not None
    assert recorded[2]["detail"]["familyId"] == recorded[3]["detail"]["familyId"] == family.family_id


def test_wrong_passwords_are_recorded_and_throttled_attempts_are_not(table: str, clock: list[int]) -> None:
    make_user()
    for _ in range(throttle.LOGIN_FREE_FAILURES):
        assert login(password=WRONG, ip=ATTACKER).code == "invalid_credentials"
    assert login(password=WRONG, ip=ATTACKER).code == "too_many_attempts"  # refused before reaching the account
    clock[0] += 1
    assert login(password=WRONG, ip=ATTACKER).code == "invalid_credentials"
    recorded = entries("u-1")
    assert [(e["action"], e["result"], e["actor"]) for e in recorded] == [("auth.login", "failure", "anonymous")] * (
        throttle.LOGIN_FREE_FAILURES + 1
    )
    assert all(e["detail"] == {"reason": "wrong_password", "sourceIp": ATTACKER} for e in recorded)
    assert login().status == 200  # the owner, from another address
    assert actions("u-1")[-1] == ("auth.login", "success")


def test_an_unknown_email_leaves_no_entry_on_any_account(table: str) -> None:
    make_user()
    assert login(email="nobody@example.test").status == 401
    assert entries("u-1") == []


def test_a_locked_out_sign_in_is_recorded_as_refused(table: str) -> None:
    make_user(status="suspended")
    assert login().code == "account_suspended"
    assert actions("u-1") == [("auth.login", "failure")]
    assert entries("u-1")[0]["detail"]["reason"] == "account_suspended"


def test_refresh_token_reuse_is_recorded_with_the_revocation(table: str) -> None:
    make_user()
    first = login().body
    assert post(REFRESH, {"refreshToken": first["refreshToken"]}).status == 200
    assert post(REFRESH, {"refreshToken": first["refreshToken"]}).code == "refresh_token_reused"
    reuse = entries("u-1")[-1]
    assert (reuse["action"], reuse["result"], reuse["actor"]) == ("auth.refresh", "failure", "anonymous")
    assert reuse["detail"]["reason"] == "refresh_token_reused"


def test_profile_changes_are_recorded_with_the_fields_changed(table: str) -> None:
    make_user()
    token = login().body["accessToken"]
    assert call("PUT", ME, body={"locale": "pt-BR"}, headers=bearer(token)).status == 200
    change = entries("u-1")[-1]
    assert (change["action"], change["detail"]) == ("user.update_profile", {"changed": ["locale"]})
    stored = repository.get_user("u-1")
    assert stored is not None and (stored.locale, stored.version) == ("pt-BR", 2)


def test_a_stale_profile_update_writes_neither_change_nor_entry(table: str) -> None:
    user = make_user()
    repository.update_profile(user, name="First", locale=None)
    entry = audit.AuditEntry(
        actor="u-1", role="customer", action="user.update_profile", target_type="user", target_id="u-1",
        request_id="r-1", at=user.created_at,
    )  # fmt: skip
    with pytest.raises(Exception, match="changed while this request") as raised:
        repository.update_profile(user, name="Second", locale=None, audit=entry)  # `user` is now stale
    assert getattr(raised.value, "code", None) == "concurrent_update"
    assert entries("u-1") == []
    stored = repository.get_user("u-1")
    assert stored is not None and stored.name == "First"


# --- password change --------------------------------------------------------------------------------------------


def change_password(token: str, current: str = PASSWORD, new: str = NEW_PASSWORD) -> Any:
    return call("POST", PASSWORD_URL, body={"currentPassword": current, "newPassword": new}, headers=bearer(token))


def test_a_password_change_signs_out_every_other_session(table: str, frozen: None) -> None:
    make_user()
    phone, laptop = login().body, login().body
    changed = change_password(laptop["accessToken"])
    assert changed.status == 200, changed.body
    assert changed.headers["cache-control"] == "no-store"
    assert "passwordHash" not in str(changed.body)
    # The old password no longer signs in; the new one does.
    assert login().status == 401
    assert login(password=NEW_PASSWORD).status == 200
    # Every earlier sign-in is over, the laptop's included; the fresh pair works.
    for old in (phone, laptop):
        assert post(REFRESH, {"refreshToken": old["refreshToken"]}).code == "refresh_token_reused"
    assert post(REFRESH, {"refreshToken": changed.body["refreshToken"]}).status == 200
    assert ("user.change_password", "success") in actions("u-1")


def test_a_wrong_current_password_changes_nothing(table: str, frozen: None) -> None:
    make_user()
    signed_in = login().body
    refused = change_password(signed_in["accessToken"], current="Not-the-password-1")
    assert (refused.status, refused.code) == (403, "wrong_password")
    assert actions("u-1")[-1] == ("user.change_password", "failure")
    assert login().status == 200
    assert post(REFRESH, {"refreshToken": signed_in["refreshToken"]}).status == 200


def test_guessing_the_current_password_is_throttled_like_a_sign_in(table: str, frozen: None) -> None:
    make_user()
    token = login().body["accessToken"]
    codes = [change_password(token, current=f"Guess-number-{i}").code for i in range(6)]
    assert codes[:5] == ["wrong_password"] * 5
    assert codes[5] == "too_many_attempts"


def test_a_weak_new_password_is_refused_before_anything_changes(table: str) -> None:
    make_user()
    token = login().body["accessToken"]
    refused = change_password(token, new="short")
    assert (refused.status, refused.code) == (422, "weak_password")
    assert login().status == 200


@pytest.mark.parametrize(
    "body",
    [
        {"newPassword": NEW_PASSWORD},
        {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD, "role": "admin"},
        {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD, "userId": "someone-else"},
    ],
)
def test_the_password_body_is_exactly_two_fields(table: str, body: dict[str, Any]) -> None:
    make_user()
    token = login().body["accessToken"]
    refused = call("POST", PASSWORD_URL, body=body, headers=bearer(token))
    assert (refused.status, refused.code) == (422, "validation_failed")


def test_a_password_change_needs_a_signed_in_caller(table: str) -> None:
    anonymous = call("POST", PASSWORD_URL, body={"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD})
    assert (anonymous.status, anonymous.code) == (401, "authentication_required")


# --- suspension ends sign-ins -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "move"), [("active", "suspend"), ("pending_approval", "reject")])
def test_suspending_or_rejecting_an_account_revokes_its_sign_ins(table: str, start: str, move: str) -> None:
    make_user(role="vendor", status=start)
    sign_ins = [login().body for _ in range(2)]
    moved = call("POST", f"/api/v1/admin/users/u-1/{move}", body={}, user="root", role="admin")
    assert moved.status == 200, moved.body
    assert moved.body["revokedSessions"] == 2
    for signed_in in sign_ins:
        refused = post(REFRESH, {"refreshToken": signed_in["refreshToken"]})
        assert refused.status in (401, 403), refused.body
        record = sessions.find(signed_in["refreshToken"])
        assert record is not None and sessions.family_status("u-1", record.family_id) == "revoked"


def test_reinstating_does_not_revive_revoked_sign_ins(table: str) -> None:
    make_user()
    signed_in = login().body
    assert call("POST", "/api/v1/admin/users/u-1/suspend", body={}, user="root", role="admin").status == 200
    reinstated = call("POST", "/api/v1/admin/users/u-1/reinstate", body={}, user="root", role="admin")
    assert reinstated.status == 200 and "revokedSessions" not in reinstated.body
    assert post(REFRESH, {"refreshToken": signed_in["refreshToken"]}).status == 401
    assert login().status == 200
