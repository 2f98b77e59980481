"""Opaque, tamper-evident cursors for paged queries.

A cursor is the LastEvaluatedKey as base64url JSON, a dot, and an HMAC-SHA256 of that JSON together with the
listing's scope (the index and partition it pages and the caller), so a cursor is accepted only by the listing that
issued it and nobody can forge one (a key into another partition, a truncated one): 422 `invalid_cursor`.

The key is derived from the JWT signing secret, which `slotwise.identity.keys` reads (the setting, or the Secrets
Manager secret) and `slotwise.api.app.create_app` hands over (`use_secret`), so every function instance signs and
checks alike. Without it, only the local and test stages fall back to a key made per process.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from functools import cache
from typing import Any

from slotwise import errors
from slotwise.data.codec import from_item, to_item
from slotwise.settings import DEPLOYED_STAGES, MIN_SECRET_BYTES, get_settings

_CONTEXT = b"slotwise-cursor-v1"
_INVALID = "cursor is not one this listing returned"


_secret_source: Callable[[], bytes] | None = None


def use_secret(source: Callable[[], bytes]) -> None:
    """Sign cursors with a key derived from `source()` (the JWT signing secret), read at each use so a rotated
    secret counts."""
    global _secret_source  # noqa: PLW0603 - installed once per function, like settlement.install
    _secret_source = source


@cache
def _process_secret() -> bytes:
    return secrets.token_bytes(MIN_SECRET_BYTES)


def _base_secret() -> bytes:
    if _secret_source is not None:
        return _secret_source()
    stage = get_settings().stage
    if stage in DEPLOYED_STAGES:
        raise RuntimeError(f"no secret to sign cursors with (stage {stage})")
    return _process_secret()


def _signature(payload: bytes, scope: str) -> bytes:
    key = hmac.new(_base_secret(), _CONTEXT, hashlib.sha256).digest()
    return hmac.new(key, scope.encode() + b"\n" + payload, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_cursor(key: dict[str, Any] | None, *, scope: str) -> str | None:
    """The cursor of `key` for the listing named by `scope` (None at the end of the listing)."""
    if not key:
        return None
    payload = json.dumps(from_item(key), separators=(",", ":"), sort_keys=True).encode()
    return f"{_b64(payload)}.{_b64(_signature(payload, scope))}"


def decode_cursor(cursor: str | None, *, scope: str) -> dict[str, Any] | None:
    """The key a cursor of this listing names; 422 `invalid_cursor` for anything this listing did not issue."""
    if not cursor:
        return None
    body, dot, signature = cursor.partition(".")
    try:
        payload, sent = _unb64(body), _unb64(signature)
    except (ValueError, binascii.Error) as exc:
        raise errors.ValidationFailed(_INVALID, code="invalid_cursor") from exc
    if not dot or not hmac.compare_digest(sent, _signature(payload, scope)):
        raise errors.ValidationFailed(_INVALID, code="invalid_cursor")
    try:
        raw = json.loads(payload)
    except ValueError as exc:  # pragma: no cover - signed by us, so it is our JSON
        raise errors.ValidationFailed(_INVALID, code="invalid_cursor") from exc
    if not isinstance(raw, dict) or not raw or not all(isinstance(v, str) for v in raw.values()):
        raise errors.ValidationFailed(_INVALID, code="invalid_cursor")
    return to_item(raw)
