"""Health of this function's dependencies, reported to operators and load balancers."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from slotwise import __version__, errors
from slotwise.data.health import ping_table
from slotwise.models import DomainModel
from slotwise.settings import get_settings

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


def default_probes() -> dict[str, Callable[[], None]]:
    """The table everywhere; the event bus on the local stage only, where the stream poller waits for it. In AWS the
    publisher Lambda has its own retries and stream DLQ, and a control-plane call per health request would cost for
    nothing (and the publisher module stays out of the health function's cold start)."""
    probes: dict[str, Callable[[], None]] = {"dynamodb": ping_table}
    if get_settings().stage == "local":
        from slotwise.events.publisher import ping_bus

        probes["eventbridge"] = ping_bus
    return probes


def check_health(probes: dict[str, Callable[[], None]] | None = None) -> HealthReport:
    checks = {name: _timed(probe) for name, probe in (probes or default_probes()).items()}
    status: Literal["ok", "degraded"] = "ok" if all(c.status == "ok" for c in checks.values()) else "degraded"
    return HealthReport(
        status=status,
        version=__version__,
        uptime_seconds=round(time.monotonic() - _STARTED, 1),
        checks=checks,
    )
