"""Small per-process TTL caches for data that may be a few seconds stale (a warm Lambda reuses them).

Every cache registers itself so `reset_caches()` (tests, the local runtime) empties all of them at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

V = TypeVar("V")


class Clearable(Protocol):
    def clear(self) -> None: ...


_REGISTRY: list[Clearable] = []


def register(cache: Clearable) -> None:
    """Empty `cache` on `reset_caches()` too (per-process state kept outside a TtlCache)."""
    _REGISTRY.append(cache)


class TtlCache(Generic[V]):
    def __init__(self, seconds: float, max_entries: int = 1024) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, V]] = {}
        self._lock = threading.Lock()
        register(self)

    def get(self, key: str, load: Callable[[], V | None]) -> V | None:
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(key)
        if found is not None and now - found[0] < self.seconds:
            return found[1]
        value = load()
        if value is not None:
            with self._lock:
                if len(self._entries) >= self.max_entries:
                    self._entries.clear()
                self._entries[key] = (now, value)
        return value

    def forget(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def reset_caches() -> None:
    for cache in _REGISTRY:
        cache.clear()
