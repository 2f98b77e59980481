"""Sample events, loaded by name (`load("http/health_get")`) by tests and by `python -m infra.local invoke`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).parent


def load(name: str) -> dict[str, Any]:
    path = EVENTS_DIR / f"{name}.json"  # names may contain dots (`domain/booking.confirmed`)
    if EVENTS_DIR not in path.resolve().parents:
        raise ValueError(f"{name!r} is not under events/")
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def names() -> list[str]:
    return sorted(str(p.relative_to(EVENTS_DIR)).removesuffix(".json") for p in EVENTS_DIR.rglob("*.json"))
