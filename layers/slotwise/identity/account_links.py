"""Set-password and reset links: the tokens they carry, how they are stored, and how one is used up.

A link's token is `<user id>.<secret>`: the secret is 256 random bits (`secrets.token_urlsafe(32)`). Only the
SHA-256 of the whole token is stored (`PWTOKEN#<sha256>`), so neither a table read nor a backup yields a working
link. The stored item binds the token to

- its **account**: the user id (inside the hashed token, and a condition of its use);
- its **purpose**: `set` (an account made by someone else: `POST /auth/password/set`) or `reset` (forgot password:
  `POST /auth/password/reset`); a token of one purpose is refused by the other route;
- the **account's version** when it was made: using any link (or any other change of the profile) moves the
  version on, so every other link of that account stops working;
- **24 hours**: `expiresEpoch` is a condition of its use; the item itself is deleted by TTL a day after that.

Using a token is one TransactWriteItems: the token `active` -> `used` under all the conditions above, the new
password hash on the profile conditioned on the version read, and the audit entry (`repository.redeem_password_token`).
Two concurrent uses of one token: exactly one commits.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from slotwise.identity import repository

Purpose = Literal["set", "reset"]
PURPOSES: tuple[Purpose, ...] = ("set", "reset")
TOKEN_SECONDS = 24 * 3600
# A used or expired token's item stays this long past its expiry (DynamoDB TTL), so a reuse is still recognised
# (and audited) for a while; its conditions refuse it all the same.
KEEP_SECONDS = 24 * 3600
SECRET_BYTES = 32
# The longest token the API accepts: a user id (at most 64 characters in practice) and the 43-character secret.
MAX_TOKEN_LENGTH = 200


@dataclass(frozen=True)
class Minted:
    """A new token: the raw value goes only into the e-mail; `hashed` is what the table keeps."""

    token: str = ""
    hashed: str = ""
    expires_epoch: int = 0

    def __repr__(self) -> str:  # never let the raw token reach a log line
        return f"Minted(hashed={self.hashed[:8]}…, expires_epoch={self.expires_epoch})"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def mint(user_id: str, now: int) -> Minted:
    token = f"{user_id}.{secrets.token_urlsafe(SECRET_BYTES)}"
    return Minted(token=token, hashed=token_hash(token), expires_epoch=now + TOKEN_SECONDS)


def user_id_of(token: str) -> str | None:
    """The account a token names, or None when it is not shaped like one of ours."""
    user_id, dot, secret = token.rpartition(".")
    if not dot or not user_id or len(secret) < 40 or len(token) > MAX_TOKEN_LENGTH:
        return None
    return user_id


def put_item(minted: Minted, *, user_id: str, purpose: Purpose, user_version: int, now: int) -> dict[str, Any]:
    """The token's item as one TransactWriteItems Put (an invitation stores it with the new account)."""
    return repository.password_token_put(
        minted.hashed,
        user_id=user_id,
        purpose=purpose,
        user_version=user_version,
        now=now,
        expires=minted.expires_epoch,
        keep_until=minted.expires_epoch + KEEP_SECONDS,
    )


@dataclass(frozen=True)
class StoredToken:
    hashed: str
    user_id: str
    purpose: str
    user_version: int
    status: str
    expires_epoch: int


def find(token: str) -> StoredToken | None:
    hashed = token_hash(token)
    plain = repository.get_password_token(hashed)
    if plain is None:
        return None
    return StoredToken(
        hashed=hashed,
        user_id=str(plain["userId"]),
        purpose=str(plain["purpose"]),
        user_version=int(plain["userVersion"]),
        status=str(plain["status"]),
        expires_epoch=int(plain["expiresEpoch"]),
    )


def refusal(stored: StoredToken | None, *, user_id: str, purpose: Purpose, user_version: int | None, now: int) -> str:
    """Why this stored token may not be used for `purpose` on this account now ('' when it may): the same checks
    the redeeming transaction makes as conditions, made first so a refused link costs no password hash."""
    if stored is None:
        return "unknown"
    reasons = (
        ("other_account", stored.user_id != user_id),
        ("other_purpose", stored.purpose != purpose),
        ("used", stored.status != "active"),
        ("expired", stored.expires_epoch <= now),
        ("no_account", user_version is None),
        ("account_changed", stored.user_version != user_version),
    )
    return next((reason for reason, applies in reasons if applies), "")
