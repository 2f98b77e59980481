"""Booking references: 6 characters a person can read over the phone (no 0/O, 1/I/L)."""

from __future__ import annotations

import secrets

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 6


def new_reference() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(code: str) -> str | None:
    """The stored form of a reference typed by a person, or None if it cannot be one."""
    cleaned = code.strip().upper()
    if len(cleaned) != LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned
