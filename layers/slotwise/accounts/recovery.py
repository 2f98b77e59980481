"""Choosing a password through an e-mailed link: set (an account made by someone else), forgot and reset.

- `POST /auth/password/set` {token, password}: the invitation's link (purpose `set`).
- `POST /auth/password/forgot` {email}: always **202 with the same body and headers**, whether or not an account
  uses the address, malformed addresses included. Both paths take the same throttles, mint and hash a token and
  render the e-mail; only an existing account's token is stored and its e-mail sent. Then the answer waits until
  `FORGOT_SECONDS` have passed since the request began, so the one extra write and the SES call do not show in
  the time either (the floor is far above both).
- `POST /auth/password/reset` {token, password}: the forgot link (purpose `reset`).

Set and reset answer **204** and sign nobody in: the holder signs in with the new password (`/auth/login`, with
its throttles), so a link is never a second way to obtain tokens. Both revoke every sign-in of the account (its
refresh-token families) after the password changes, and forget the source's failed sign-ins. Every refusal of a
link (unknown, used, expired, of another account or purpose, the account changed since) is the same 400
`invalid_password_token`; a weak password is 422 `weak_password` and leaves the link usable.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime

from slotwise import errors
from slotwise.accounts import messages
from slotwise.audit import log as audit
from slotwise.identity import account_links, passwords, repository, sessions, throttle
from slotwise.identity.account_links import Purpose
from slotwise.identity.models import ForgotRequest, PasswordTokenRequest, User, normalise_email
from slotwise.settings import get_settings

# The least time a forgot-password request takes (see the module's docstring).
FORGOT_SECONDS = 0.6
FORGOT_ANSWER = {"detail": "If an account uses this address, a link to choose a new password is on its way."}
_REDEEM_ATTEMPTS = 3
# Replaced by the tests: the request clock (per second, like the other identity services), and the pacing.
clock: Callable[[], float] = time.time
monotonic: Callable[[], float] = time.monotonic
pause: Callable[[float], None] = time.sleep


def _own_issuer_only() -> None:
    if get_settings().auth_mode != "own":
        raise errors.NotFound(
            "This deployment signs users in with an external identity provider; use its password recovery.",
            code="auth_endpoint_disabled",
        )


def _epoch(now: datetime | None) -> int:
    return int(now.timestamp()) if now is not None else int(clock())


def _entry(
    user_id: str,
    role: str,
    action: str,
    request_id: str | None,
    *,
    by_holder: bool,
    result: str = "success",
    detail: dict[str, str] | None = None,
) -> audit.AuditEntry:
    """An entry on the account: by its holder (whoever holds the link) or, for a request anyone could make, by an
    anonymous party."""
    return audit.AuditEntry(
        actor=user_id if by_holder else "anonymous",
        role=role if by_holder else "guest",
        action=action,
        target_type="user",
        target_id=user_id,
        request_id=request_id,
        at=datetime.now(UTC),
        detail=detail or {},
        result=result,
    )


# --- forgot -------------------------------------------------------------------------------------------------------


def forgot(
    data: ForgotRequest, *, source_ip: str, request_id: str | None = None, now: datetime | None = None
) -> dict[str, str]:
    """E-mail a reset link to the account using this address, if any; the answer is the same either way."""
    _own_issuer_only()
    started = monotonic()
    at = _epoch(now)
    email = normalise_email(data.email)
    throttle.take(throttle.FORGOT_PER_IP, source_ip, at)
    throttle.take(throttle.FORGOT_PER_EMAIL, email, at)
    user = repository.get_user_by_email(email)
    # The same work for an unknown address: a token for nobody, hashed, and its e-mail rendered.
    minted = account_links.mint(user.id if user is not None else "0" * 32, at)
    rendered = messages.render(
        "reset",
        token=minted.token,
        name=user.name if user is not None else "",
        email=email,
        role=user.role if user is not None else "",
        locale=user.locale if user is not None else "en",
    )
    if user is not None:
        asked = _entry(
            user.id, user.role, "user.password_forgot", request_id, by_holder=False, detail={"sourceIp": source_ip}
        )
        token = account_links.put_item(minted, user_id=user.id, purpose="reset", user_version=user.version, now=at)
        repository.put_password_token(token, asked)
        messages.send(rendered, to_address=user.email, to_name=user.name)
    pace(started)
    return dict(FORGOT_ANSWER)


def pace(started: float) -> None:
    """Wait until FORGOT_SECONDS have passed since `started` (monotonic)."""
    remaining = FORGOT_SECONDS - (monotonic() - started)
    if remaining > 0:
        pause(remaining)


# --- set and reset ------------------------------------------------------------------------------------------------


def _invalid_link() -> errors.BadRequest:
    return errors.BadRequest(
        "This link is not valid: it was already used, has expired, or the account changed since it was sent. "
        "Ask for a new one with POST /auth/password/forgot.",
        code="invalid_password_token",
    )


def set_password(
    data: PasswordTokenRequest, *, source_ip: str, request_id: str | None = None, now: datetime | None = None
) -> None:
    """Choose the password of an account made by someone else, with its invitation's link."""
    _redeem(data, "set", source_ip=source_ip, request_id=request_id, now=now)


def reset_password(
    data: PasswordTokenRequest, *, source_ip: str, request_id: str | None = None, now: datetime | None = None
) -> None:
    """Choose a new password with a forgot-password link."""
    _redeem(data, "reset", source_ip=source_ip, request_id=request_id, now=now)


def _checked(token: str, purpose: Purpose, at: int, request_id: str | None) -> tuple[account_links.StoredToken, User]:
    """The stored token and its account, when the token may be used now; else the refusal (audited when the token
    is one of ours)."""
    user_id = account_links.user_id_of(token)
    stored = account_links.find(token) if user_id is not None else None
    user = repository.get_user(stored.user_id) if stored is not None else None
    why = account_links.refusal(
        stored, user_id=user_id or "", purpose=purpose, user_version=user.version if user else None, now=at
    )
    if why or stored is None or user is None:
        if stored is not None:
            audit.record(
                _entry(
                    stored.user_id,
                    user.role if user else "user",
                    f"user.password_{purpose}",
                    request_id,
                    by_holder=False,
                    result="failure",
                    detail={"reason": why},
                )
            )
        raise _invalid_link()
    return stored, user


def _redeem(
    data: PasswordTokenRequest, purpose: Purpose, *, source_ip: str, request_id: str | None, now: datetime | None
) -> None:
    _own_issuer_only()
    at = _epoch(now)
    throttle.take(throttle.PASSWORD_LINK_PER_IP, source_ip, at)
    new_hash: str | None = None
    for attempt in range(_REDEEM_ATTEMPTS):
        stored, user = _checked(data.token, purpose, at, request_id)
        if new_hash is None:
            passwords.check_policy(data.password, email=user.email, name=user.name)
            new_hash = passwords.hash_password(data.password)
        entry = _entry(
            user.id, user.role, f"user.password_{purpose}", request_id, by_holder=True, detail={"sourceIp": source_ip}
        )
        outcome = repository.redeem_password_token(stored.hashed, user, new_hash, purpose=purpose, now=at, audit=entry)
        if outcome == "redeemed":
            sessions.revoke_all(user.id, at, f"password_{purpose}")
            throttle.forgive(normalise_email(user.email), source_ip)
            return
        if outcome == "refused":
            raise _invalid_link()
        time.sleep(random.uniform(0, 0.02 * 2**attempt))  # noqa: S311 - contention only: jitter, not security
    raise errors.DependencyUnavailable("The link is being used by another request; retry.")
