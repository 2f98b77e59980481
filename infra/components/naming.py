"""Names of resources and constructs, shared by every construct of the stack."""

from __future__ import annotations

import re


def stage_name(name: str, stage: str) -> str:
    """Physical name of a named resource: dev and prod may share an account, so names carry the stage."""
    return f"{name}-{stage}"


def pascal(name: str) -> str:
    """`booking-reminders` -> `BookingReminders`, for readable construct ids and logical ids."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)
