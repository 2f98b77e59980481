"""Health of this function's dependencies, reported to operators and load balancers."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from slotwise import __version__, errors
from slotwise.data.health import ping_table
from slotwise.models import DomainModel

_STARTED = time.monotonic()

CheckStatus = Literal["ok", "error"]


class DependencyCheck(DomainModel):
    status: CheckStatus
    latency_ms: float
    detail: str | None = None


class HealthReport(DomainModel):
    status: Literal["ok", "degraded"]
    version: str
    uptime_seconds: float
    checks: dict[str, DependencyCheck]


def _timed(probe: Callable[[], None]) -> DependencyCheck:
    started = time.perf_counter()
    try:
        probe()
    except errors.DependencyUnavailable as exc:
        return DependencyCheck(status="error", latency_ms=_ms_since(started), detail=exc.detail)
    return DependencyCheck(status="ok", latency_ms=_ms_since(started))


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def check_health(probes: dict[str, Callable[[], None]] | None = None) -> HealthReport:
    checks = {name: _timed(probe) for name, probe in (probes or {"dynamodb": ping_table}).items()}
    status: Literal["ok", "degraded"] = "ok" if all(c.status == "ok" for c in checks.values()) else "degraded"
    return HealthReport(
        status=status,
        version=__version__,
        uptime_seconds=round(time.monotonic() - _STARTED, 1),
        checks=checks,
    )
