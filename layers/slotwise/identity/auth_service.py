"""Register, sign in, refresh, sign out, and the caller's own profile.

The own issuer's endpoints (register, login, refresh, logout, password change) answer 404
`auth_endpoint_disabled` when the deployment trusts an external OIDC provider instead: there, users sign in with
the provider.

Every one of them leaves an audit entry (target `user:<id>`), written in the same transaction as the change it
records: registration with the new profile, sign-in with the new session, refresh with the rotation, sign-out with
the revocation, profile and password changes with the profile update. Refused sign-ins of a known account and
detected refresh-token reuse are recorded too (result `failure`): they are what an investigation looks for.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from slotwise import errors
from slotwise.audit import log as audit
from slotwise.identity import passwords, repository, sessions, throttle, tokens
from slotwise.identity.models import (
    NEEDS_APPROVAL,
    Caller,
    LoginRequest,
    PasswordChange,
    ProfileUpdate,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
    User,
    normalise_email,
)
from slotwise.settings import get_settings

ROTATION_ATTEMPTS = 5
# The time source of requests that bring no `now` (tests freeze it to keep throttle windows still).
clock: Callable[[], float] = time.time


def _epoch(now: datetime | None) -> int:
    return int(now.timestamp()) if now is not None else int(clock())


def _own_issuer_only() -> None:
    if get_settings().auth_mode != "own":
        raise errors.NotFound(
            "This deployment signs users in with an external identity provider; use its tokens.",
            code="auth_endpoint_disabled",
        )


def _invalid_credentials() -> errors.AuthenticationRequired:
    return errors.AuthenticationRequired("The e-mail address or the password is wrong.", code="invalid_credentials")


def _locked_out(user: User) -> errors.PermissionDenied | None:
    """Why this account may not sign in or refresh, or None."""
    if user.status == "suspended":
        return errors.PermissionDenied("This account is suspended.", code="account_suspended")
    if user.status == "rejected":
        return errors.PermissionDenied("This account's registration was rejected.", code="account_rejected")
    return None


def _entry(
    user: User | str,
    action: str,
    request_id: str | None,
    *,
    result: str = "success",
    by_account_holder: bool = True,
    detail: dict[str, Any] | None = None,
) -> audit.AuditEntry:
    """An entry on the account `user`: made by its holder, or (refusals) by an anonymous party.

    Where only the id is at hand (sign-out and refresh present just a token), the role reads `user`. Entries
    carry the wall-clock time of writing, to the microsecond (the request clock is per second).
    """
    user_id = user if isinstance(user, str) else user.id
    role = user.role if isinstance(user, User) else "user"
    return audit.AuditEntry(
        actor=user_id if by_account_holder else "anonymous",
        role=role if by_account_holder else "guest",
        action=action,
        target_type="user",
        target_id=user_id,
        request_id=request_id,
        at=datetime.now(UTC),
        detail={k: v for k, v in (detail or {}).items() if v is not None},
        result=result,
    )


def _tokens(
    user: User,
    now: int,
    audit_entry: audit.AuditEntry | None = None,
    *,
    rehash: str | None = None,
    forget: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The pair for a new sign-in; its transaction also carries a login's password upgrade and throttle resets."""
    refresh, rehashed = sessions.sign_in(
        user.id, now, audit_entry, rehash=(user, rehash) if rehash else None, forget=forget
    )
    user = rehashed or user
    access, lifetime = tokens.issue_access_token(user, now=now)
    pair = TokenPair(
        access_token=access,
        expires_in=lifetime,
        refresh_token=refresh.token,
        refresh_expires_in=refresh.expires_epoch - now,
    )
    return {"user": user.public(), **pair.model_dump(mode="json", by_alias=True)}


def register(
    data: RegisterRequest, *, source_ip: str, request_id: str | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """A new customer (active), or a vendor/advisor (pending_approval until an admin approves), signed in."""
    _own_issuer_only()
    at = _epoch(now)
    throttle.take(throttle.REGISTER_PER_IP, source_ip, at)
    passwords.check_policy(data.password, email=data.email, name=data.name)
    user = User(
        id=uuid.uuid4().hex,
        email=data.email,
        name=data.name,
        role=data.role,
        status="pending_approval" if data.role in NEEDS_APPROVAL else "active",
        locale=data.locale,
        created_at=datetime.fromtimestamp(at, UTC),
        password_hash=passwords.hash_password(data.password),
    )
    registered = _entry(user, "user.register", request_id, detail={"role": user.role, "status": user.status})
    if not repository.put_user(user, audit=registered):
        raise errors.Conflict("An account with this e-mail address already exists.", code="email_taken")
    return _tokens(user, at, _entry(user, "auth.login", request_id))


def login(
    data: LoginRequest, *, source_ip: str, request_id: str | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """E-mail and password for tokens. Unknown e-mail and wrong password fail alike, after the same work."""
    _own_issuer_only()
    at = _epoch(now)
    email = normalise_email(data.email)
    # Taken before the password is checked, so concurrent guesses cannot overrun a gate (one transaction).
    throttle.before_login(email, source_ip, at)
    user = repository.get_user_by_email(email)
    stored = user.password_hash if user is not None else passwords.dummy_hash()
    if not passwords.verify_password(data.password, stored) or user is None:
        throttle.failed_login(email, source_ip, at)
        if user is not None:
            _refused_login(user, "wrong_password", at, source_ip, request_id)
        raise _invalid_credentials()
    refused = _locked_out(user)
    if refused is not None:
        _refused_login(user, refused.code, at, source_ip, request_id)
        raise refused
    # A hash made with weaker parameters is upgraded in the sign-in's own transaction (if the profile is unchanged).
    upgrade = passwords.hash_password(data.password) if passwords.needs_rehash(stored) else None
    signed_in = _entry(user, "auth.login", request_id, detail={"sourceIp": source_ip})
    # The sign-in's transaction also forgets this source's failures at the account.
    return _tokens(user, at, signed_in, rehash=upgrade, forget=throttle.forget_login(email, source_ip))


def _refused_login(user: User, reason: str, at: int, source_ip: str, request_id: str | None) -> None:
    """A refused sign-in of a known account (the actor is whoever tried: a guest until proven otherwise)."""
    audit.record(
        _entry(
            user,
            "auth.login",
            request_id,
            result="failure",
            by_account_holder=False,
            detail={"reason": reason, "sourceIp": source_ip},
        )
    )


def _invalid_refresh_token() -> errors.AuthenticationRequired:
    return errors.AuthenticationRequired(
        "The refresh token is not valid or has expired; sign in again.", code="invalid_refresh_token"
    )


def _reused(record: sessions.RefreshRecord, at: int, request_id: str | None) -> errors.AuthenticationRequired:
    revoked = _entry(
        record.user_id,
        "auth.refresh",
        request_id,
        result="failure",
        by_account_holder=False,
        detail={"reason": "refresh_token_reused", "familyId": record.family_id},
    )
    sessions.revoke_family(record.user_id, record.family_id, at, "reuse", revoked)
    return errors.AuthenticationRequired(
        "This refresh token was already used or revoked; every session of this sign-in is now revoked.",
        code="refresh_token_reused",
    )


def refresh(data: RefreshRequest, *, request_id: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """A new access token and a new refresh token for a valid, unused refresh token (which it uses up)."""
    _own_issuer_only()
    at = _epoch(now)
    for attempt in range(ROTATION_ATTEMPTS):
        record = sessions.find(data.refresh_token)
        if record is None or record.expires_epoch <= at:
            raise _invalid_refresh_token()
        if record.status != "active":
            raise _reused(record, at, request_id)
        user = repository.get_user(record.user_id)
        refused = _invalid_refresh_token() if user is None else _locked_out(user)
        if refused is not None or user is None:
            sessions.revoke_family(record.user_id, record.family_id, at, "account")
            raise refused or _invalid_refresh_token()
        rotated = _entry(user, "auth.refresh", request_id, detail={"familyId": record.family_id})
        outcome, issued = sessions.rotate(record, at, rotated)
        if outcome == "rotated" and issued is not None:
            access, lifetime = tokens.issue_access_token(user, now=at)
            pair = TokenPair(
                access_token=access,
                expires_in=lifetime,
                refresh_token=issued.token,
                refresh_expires_in=issued.expires_epoch - at,
            )
            return pair.model_dump(mode="json", by_alias=True)
        if outcome in ("not_active", "family_revoked"):
            # Someone else used this token first (a copy, or a concurrent refresh), or the sign-in was revoked.
            raise _reused(record, at, request_id)
        time.sleep(0.01 * 2**attempt)  # only contention: read again and retry
    raise errors.DependencyUnavailable("The refresh token is busy; retry.")


def logout(data: RefreshRequest, *, request_id: str | None = None, now: datetime | None = None) -> None:
    """Revoke the sign-in (the family) this refresh token belongs to. Unknown tokens are ignored."""
    _own_issuer_only()
    record = sessions.find(data.refresh_token)
    if record is not None:
        at = _epoch(now)
        signed_out = _entry(record.user_id, "auth.logout", request_id, detail={"familyId": record.family_id})
        sessions.revoke_family(record.user_id, record.family_id, at, "logout", signed_out)


def _signed_in(caller: Caller) -> str:
    if caller.user_id is None:
        raise errors.AuthenticationRequired("Sign in first: send an access token as `Authorization: Bearer`.")
    return caller.user_id


def me(caller: Caller) -> dict[str, Any]:
    """The caller's account. Users of an external provider who have no stored profile see what their token says."""
    user_id = _signed_in(caller)
    user = repository.get_user(user_id)
    if user is not None:
        return user.public()
    if get_settings().auth_mode == "oidc":
        return {"id": user_id, "role": caller.role, "status": caller.status}
    raise errors.NotFound("No account is stored for this caller.", code="user_not_found")


def update_me(caller: Caller, data: ProfileUpdate, *, now: datetime | None = None) -> dict[str, Any]:
    """Change the caller's name and locale; nothing else is settable here."""
    user_id = _signed_in(caller)
    user = repository.get_user(user_id)
    if user is None:
        raise errors.NotFound("No account is stored for this caller.", code="user_not_found")
    changed = data.model_dump(exclude_none=True, by_alias=True)
    entry = _entry(user, "user.update_profile", caller.request_id, detail={"changed": sorted(changed)})
    return repository.update_profile(user, name=data.name, locale=data.locale, now=now, audit=entry).public()


def change_password(
    caller: Caller, data: PasswordChange, *, source_ip: str, now: datetime | None = None
) -> dict[str, Any]:
    """Set a new password: the current one is required (and throttled like a sign-in). Every other sign-in of the
    account is revoked, and the caller gets a fresh pair of tokens."""
    _own_issuer_only()
    user_id = _signed_in(caller)
    at = _epoch(now)
    user = repository.get_user(user_id)
    if user is None or user.password_hash is None:
        raise errors.NotFound("No account with a password is stored for this caller.", code="user_not_found")
    email = normalise_email(user.email)
    throttle.before_login(email, source_ip, at)
    if not passwords.verify_password(data.current_password, user.password_hash):
        throttle.failed_login(email, source_ip, at)
        audit.record(
            _entry(user, "user.change_password", caller.request_id, result="failure", detail={"reason": "wrong"})
        )
        raise errors.PermissionDenied("The current password is wrong.", code="wrong_password")
    passwords.check_policy(data.new_password, email=user.email, name=user.name)
    changed = _entry(user, "user.change_password", caller.request_id, detail={"sourceIp": source_ip})
    user = repository.set_password_hash(
        user, passwords.hash_password(data.new_password), now=datetime.fromtimestamp(at, UTC), audit=changed
    )
    throttle.forgive(email, source_ip)
    sessions.revoke_all(user.id, at, "password_changed")
    return _tokens(user, at)


def revoke_sessions(user_id: str, *, reason: str = "suspended", now: datetime | None = None) -> int:
    """Revoke every sign-in of a user (call it when suspending them); returns how many were active."""
    return sessions.revoke_all(user_id, _epoch(now), reason)
