"""Identity tests: a known signing secret (so tests can forge tokens the way an attacker would), users in moto."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest

from slotwise.identity import keys, passwords
from slotwise.identity.models import User
from slotwise.identity.repository import put_user
from slotwise.settings import get_settings

SECRET = "unit-test-signing-secret-0123456789abcdef"
PASSWORD = "Correct-horse-42"


@pytest.fixture(autouse=True)
def own_issuer(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SLOTWISE_JWT_SECRET", SECRET)
    get_settings.cache_clear()
    keys.reset_keys()
    yield
    keys.reset_keys()


def claims(**overrides: Any) -> dict[str, Any]:
    """Valid own-issuer claims for user `u-1` (customer); pass a value of None to leave a claim out."""
    now = int(time.time())
    base: dict[str, Any] = {
        "sub": "u-1",
        "role": "customer",
        "status": "active",
        "iss": "slotwise-local",
        "aud": "slotwise-api",
        "iat": now,
        "nbf": now,
        "exp": now + 900,
        "jti": "j-1",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(payload: dict[str, Any], key: Any = SECRET, algorithm: str = "HS256", **headers: Any) -> str:
    return jwt.encode(payload, key, algorithm=algorithm, headers=headers or None)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_token(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    """A token assembled by hand, as an attacker would (no library checks in the way)."""
    segments = [b64(json.dumps(header).encode()), b64(json.dumps(payload).encode())]
    return ".".join([*segments, b64(signature)])


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def make_user(
    user_id: str = "u-1",
    *,
    email: str = "ada@example.test",
    role: Any = "customer",
    status: Any = "active",
    password: str | None = PASSWORD,
) -> User:
    user = User(
        id=user_id,
        email=email,
        name="Ada Lovelace",
        role=role,
        status=status,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        password_hash=passwords.hash_password(password) if password else None,
    )
    assert put_user(user)
    return user
