"""Password hashing with the standard library's memory-hard KDF (`hashlib.scrypt`), and the password policy.

A stored hash names its parameters, so they can be raised later without breaking existing accounts:

    scrypt$<n>$<r>$<p>$<salt, urlsafe base64>$<derived key, urlsafe base64>

`needs_rehash` tells when a hash was made with other parameters than today's (login re-hashes it then).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from functools import cache

from slotwise import errors

SCHEME = "scrypt"
SALT_BYTES = 16
MIN_LENGTH = 10
MAX_LENGTH = 256
# Never accept parameters from a stored hash that would let one verification eat the function's memory.
_MAX_MEMORY = 64 * 1024 * 1024


@dataclass(frozen=True)
class Params:
    n: int = 2**14
    r: int = 8
    p: int = 1
    dklen: int = 64

    @property
    def memory(self) -> int:
        return 128 * self.r * (self.n + self.p + 2)


CURRENT = Params()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, params: Params) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=params.n,
        r=params.r,
        p=params.p,
        dklen=params.dklen,
        maxmem=params.memory + 1024 * 1024,
    )


def hash_password(password: str, params: Params = CURRENT) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    derived = _derive(password, salt, params)
    return f"{SCHEME}${params.n}${params.r}${params.p}${_b64(salt)}${_b64(derived)}"


def _parse(encoded: str) -> tuple[Params, bytes, bytes] | None:
    try:
        scheme, n, r, p, salt, derived = encoded.split("$")
        if scheme != SCHEME:
            return None
        raw = _unb64(derived)
        params = Params(n=int(n), r=int(r), p=int(p), dklen=len(raw))
        if params.n < 2 or params.n & (params.n - 1) or params.memory > _MAX_MEMORY or not raw:
            return None
        return params, _unb64(salt), raw
    except ValueError:
        return None


def verify_password(password: str, encoded: str | None) -> bool:
    """Constant-time comparison; an unreadable or missing hash still costs one scrypt run and fails."""
    parsed = _parse(encoded) if encoded else None
    if parsed is None:
        _derive(password, b"\0" * SALT_BYTES, CURRENT)
        return False
    params, salt, expected = parsed
    return hmac.compare_digest(_derive(password, salt, params), expected)


def needs_rehash(encoded: str) -> bool:
    parsed = _parse(encoded)
    return parsed is None or (parsed[0].n, parsed[0].r, parsed[0].p) != (CURRENT.n, CURRENT.r, CURRENT.p)


@cache
def dummy_hash() -> str:
    """A real hash of a random password: login runs scrypt against it for unknown e-mails (same work, same time)."""
    return hash_password(secrets.token_urlsafe(24))


def _alnum(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def _classes(password: str) -> int:
    return sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


def check_policy(password: str, *, email: str = "", name: str = "") -> None:
    """At least 10 characters, at least two kinds (lower, upper, digit, other), not the e-mail or the name.

    Raises ValidationFailed (422, code `weak_password`) saying what to change.
    """
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"use at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"use at most {MAX_LENGTH} characters")
    if _classes(password) < 2:
        problems.append("mix at least two of: lower-case, upper-case, digits, other characters")
    if len(set(password)) < 4:
        problems.append("use more than three different characters")
    letters = _alnum(password)
    local_part = email.split("@", 1)[0]
    words = {_alnum(email), _alnum(local_part), _alnum(name), *(_alnum(w) for w in re.split(r"[\W_]+", name))}
    if any(len(word) >= 4 and word in letters for word in words):
        problems.append("do not use your e-mail address or name")
    if problems:
        raise errors.ValidationFailed("The password is too weak: " + "; ".join(problems) + ".", code="weak_password")
