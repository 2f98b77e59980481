"""What the journey tests share: signing in as a demo user (`make dev`'s `<role>@demo.slotwise.test`) and waiting
for the asynchronous side (stream, bus, queues) to show something."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from tests.e2e.runtime import Runtime


def sign_in(runtime: Runtime, email: str, password: str) -> dict[str, str]:
    signed_in = requests.post(
        f"{runtime.base}/api/v1/auth/login", json={"email": email, "password": password}, timeout=30
    )
    assert signed_in.status_code == 200, signed_in.text
    return {"Authorization": f"Bearer {signed_in.json()['accessToken']}"}


def demo(runtime: Runtime, role: str) -> dict[str, str]:
    """The bearer header of the demo user of this role (local-only password `slotwise-demo-<role>`)."""
    return sign_in(runtime, f"{role}@demo.slotwise.test", f"slotwise-demo-{role}")


def demo_advisory_venue(runtime: Runtime) -> dict[str, Any]:
    """The demo marketplace's advisory venue (Northstar Advisors, New York), found as a client would."""
    venues = requests.get(f"{runtime.base}/api/v1/venues", params={"city": "New York"}, timeout=10).json()["venues"]
    venue: dict[str, Any] = next(v for v in venues if v["name"] == "Northstar Advisors")
    return venue


def until(check: Callable[[], Any], seconds: float = 20.0) -> Any:
    """Poll until `check` answers something truthy, and return it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"not within {seconds} s")
