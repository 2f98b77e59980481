"""Refresh tokens: opaque, single use, stored only as a SHA-256 hash, grouped in families (one per sign-in).

  REFRESH#<sha256 of the token> / REFRESH      userId, familyId, status active|rotated|revoked, expiresEpoch, ttl
  USER#<user id> / FAMILY#<family id>           status active|revoked, ttl (the newest token's expiry)

Rotation is one TransactWriteItems: the presented token becomes `rotated` only if it is still `active` and not
expired, the family stays `active` (condition) and the new token is put with `attribute_not_exists`. Whoever
presents a token that is no longer active (a stolen copy, or the loser of two concurrent refreshes) gets the
whole family revoked: every later refresh of that sign-in fails. Access tokens already issued live out their
15 minutes. Rotated tokens are kept until their own expiry (TTL) so that reuse can still be recognised.

This module mints tokens and decides; the items and every call to the table are `slotwise.identity.repository`'s.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from slotwise.identity import repository

if TYPE_CHECKING:
    from slotwise.audit.log import AuditEntry
    from slotwise.identity.models import User

REFRESH_TOKEN_SECONDS = 30 * 24 * 3600
TOKEN_BYTES = 32

TokenStatus = Literal["active", "rotated", "revoked"]
Outcome = repository.Rotation


@dataclass(frozen=True)
class RefreshRecord:
    token_hash: str
    user_id: str
    family_id: str
    status: TokenStatus
    expires_epoch: int


@dataclass(frozen=True)
class Issued:
    token: str
    family_id: str
    expires_epoch: int


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_token(family_id: str, now: int) -> Issued:
    return Issued(secrets.token_urlsafe(TOKEN_BYTES), family_id, now + REFRESH_TOKEN_SECONDS)


def start(user_id: str, now: int, audit: AuditEntry | None = None) -> Issued:
    """A new family (a sign-in) and its first refresh token, with the sign-in's audit entry, in one transaction."""
    return sign_in(user_id, now, audit)[0]


def sign_in(
    user_id: str,
    now: int,
    audit: AuditEntry | None = None,
    *,
    rehash: tuple[User, str] | None = None,
    forget: Sequence[dict[str, Any]] = (),
) -> tuple[Issued, User | None]:
    """`start`, with a login's other writes in the same transaction: its password upgrade (`rehash`) and throttle
    resets (`forget`; see `repository.put_sign_in`). Returns the token and the user as rehashed (or None)."""
    issued = _new_token(uuid.uuid4().hex, now)
    rehashed = repository.put_sign_in(
        user_id,
        issued.family_id,
        token_hash(issued.token),
        now=now,
        expires=issued.expires_epoch,
        audit=audit,
        rehash=rehash,
        forget=forget,
    )
    return issued, rehashed


def find(token: str) -> RefreshRecord | None:
    hashed = token_hash(token)
    plain = repository.get_refresh(hashed)
    if plain is None:
        return None
    return RefreshRecord(
        token_hash=hashed,
        user_id=plain["userId"],
        family_id=plain["familyId"],
        status=plain["status"],
        expires_epoch=int(plain["expiresEpoch"]),
    )


def rotate(record: RefreshRecord, now: int, audit: AuditEntry | None = None) -> tuple[Outcome, Issued | None]:
    """Swap the presented token for a new one of the same family (and write the audit entry), in one transaction."""
    issued = _new_token(record.family_id, now)
    outcome = repository.rotate_refresh(
        record.token_hash,
        record.user_id,
        record.family_id,
        token_hash(issued.token),
        now=now,
        expires=issued.expires_epoch,
        audit=audit,
    )
    return outcome, issued if outcome == "rotated" else None


def revoke_family(user_id: str, family_id: str, now: int, reason: str, audit: AuditEntry | None = None) -> None:
    """Mark the family revoked (idempotent; nothing is created if it has expired away).

    With an audit entry, the revocation and the entry are one transaction; a family that is gone records nothing.
    """
    repository.revoke_family(user_id, family_id, now, reason, audit)


def family_status(user_id: str, family_id: str) -> str | None:
    return repository.family_status(user_id, family_id)


def revoke_all(user_id: str, now: int, reason: str) -> int:
    """Revoke every active sign-in of a user (suspension, password change); returns how many were active."""
    return repository.revoke_active_families(user_id, now, reason)
