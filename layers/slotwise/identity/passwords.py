"""Password hashing with the standard library's memory-hard KDF (`hashlib.scrypt`), and the password policy.

A stored hash names its parameters, so they can be raised later without breaking existing accounts:

    scrypt$<n>$<r>$<p>$<salt, urlsafe base64>$<derived key, urlsafe base64>

`needs_rehash` tells when a hash was made with weaker parameters than today's (the next successful login re-hashes
it, in the sign-in's own transaction). Today's parameters are OWASP's scrypt minimum, n = 2^17, r = 8, p = 1
(128 MiB, about 0.9 s on one core); the local and test stages may lower n with `SLOTWISE_SCRYPT_LOG2_N`
(`slotwise.settings`), deployed stages never.
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
from slotwise.settings import get_settings

SCHEME = "scrypt"
SALT_BYTES = 16
MIN_LENGTH = 10
MAX_LENGTH = 256
# Never accept parameters from a stored hash that would let one verification eat the function's memory (today's
# take 128 MiB; the auth function has 1,769 MB, and runs one request, so one hash, at a time).
_MAX_MEMORY = 256 * 1024 * 1024
# Nor parameters too weak to be anything but a forged or corrupt hash: no hash was ever made below 2^10. Hashes
# between this floor and today's parameters still verify, so their accounts can sign in and be upgraded.
_MIN_N = 2**10


@dataclass(frozen=True)
class Params:
    n: int = 2**17
    r: int = 8
    p: int = 1
    dklen: int = 64

    @property
    def memory(self) -> int:
        return 128 * self.r * (self.n + self.p + 2)

    def weaker_than(self, other: Params) -> bool:
        return self.n < other.n or self.r < other.r or self.p < other.p


# The production parameters (OWASP Password Storage cheat sheet's scrypt minimum).
CURRENT = Params()


def current() -> Params:
    """The parameters new hashes are made with: CURRENT, or a cheaper n on the local and test stages."""
    log2_n = get_settings().scrypt_log2_n
    return CURRENT if log2_n is None else Params(n=2**log2_n)


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


def hash_password(password: str, params: Params | None = None) -> str:
    params = params or current()
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
        if params.n < _MIN_N or params.n & (params.n - 1) or min(params.r, params.p) < 1 or not raw:
            return None
        if params.memory > _MAX_MEMORY:
            return None
        return params, _unb64(salt), raw
    except ValueError:
        return None


def verify_password(password: str, encoded: str | None) -> bool:
    """Constant-time comparison; an unreadable or missing hash still costs one scrypt run and fails."""
    parsed = _parse(encoded) if encoded else None
    if parsed is None:
        _derive(password, b"\0" * SALT_BYTES, current())
        return False
    params, salt, expected = parsed
    return hmac.compare_digest(_derive(password, salt, params), expected)


def needs_rehash(encoded: str | None) -> bool:
    """True when the hash was made with parameters below today's (never to lower them)."""
    parsed = _parse(encoded) if encoded else None
    return parsed is None or parsed[0].weaker_than(current())


def dummy_hash() -> str:
    """A real hash of a random password with today's parameters: login runs scrypt against it for unknown e-mails
    (same work, same time as a known account's up-to-date hash). Made once per process and parameters."""
    return _dummy(current())


@cache
def _dummy(params: Params) -> str:
    return hash_password(secrets.token_urlsafe(24), params)


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
