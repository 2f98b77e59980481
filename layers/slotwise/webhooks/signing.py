"""The `Slotwise-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>`.

The signed string is the timestamp, a dot and the exact request body bytes, so a receiver verifies before it
parses the JSON, and a replayed body with an old timestamp is refused by the receiver's tolerance (five minutes in
`verify`). While a rotated-out secret is still valid (`POST .../rotate-secret`), the header carries one `v1=` per
secret, newest first: a receiver accepts the request when any of them matches the secret it holds.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable

HEADER = "Slotwise-Signature"
SCHEME = "v1"
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
TOLERANCE_SECONDS = 300


def new_secret() -> str:
    """32 random bytes, URL-safe, with a recognisable prefix (secret scanners and people spot it)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def header(secrets_in_use: Iterable[str], timestamp: int, body: bytes) -> str:
    parts = [f"t={timestamp}"] + [f"{SCHEME}={signature(secret, timestamp, body)}" for secret in secrets_in_use]
    return ",".join(parts)


def verify(
    secret: str, header_value: str, body: bytes, *, now: float | None = None, tolerance: int = TOLERANCE_SECONDS
) -> bool:
    """What a receiver does (docs/webhooks.md shows the same recipe): any v1 signature matches, timestamp is recent."""
    fields = [item.split("=", 1) for item in header_value.split(",") if "=" in item]
    stamps = [value for key, value in fields if key.strip() == "t"]
    if len(stamps) != 1 or not stamps[0].strip().isdigit():
        return False
    timestamp = int(stamps[0])
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(key.strip() == SCHEME and hmac.compare_digest(value.strip(), expected) for key, value in fields)
