"""Lambda SnapStart runtime hooks of every function: prime before the snapshot, make each restore safe.

With SnapStart (Python 3.12+ managed runtimes), Lambda runs a published version's init once, snapshots the
process's memory and starts execution environments from that snapshot. So:

- `prime` (before the snapshot) does the work a first request would otherwise pay and that is the same for every
  environment: botocore loads the DynamoDB service model into the process-wide loader (`slotwise.aws`), the deferred
  pydantic validators of every loaded module are built, Powertools resolves each route's parameters and body model,
  and the route table compiles its patterns. The client built for that is dropped again, so no credential is in the
  snapshot.
- `restore` (after each restore) undoes what must not be shared by environments restored from one snapshot or kept
  across the time the snapshot slept: `random` is re-seeded from the OS (two environments would otherwise draw the
  same retry jitter); every AWS client, looked-up queue URL and cached secret value is dropped (clients hold the
  credentials they were built with); JWKS clients go; every TTL cache and the request-quota leases are emptied
  (entries carry monotonic times from before the snapshot, and one leased token would be spent by every restored
  environment).

Init itself reads no secret and no caller (tests/unit/test_runtime_hooks.py proves it for every function group).

The hooks come from `snapshot_restore_py`, which the managed runtime ships (the dev extra installs the same package
from PyPI). Where it is missing nothing snapshots, so `install` registers nothing.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

# The clients whose service models are loaded before the snapshot: every function group reads the table.
PRIMED_SERVICES = ("dynamodb",)
# Modules whose objects are Slotwise's own: the layer's package and the function's handler module (`handler` on
# Lambda, `functions.<group>.handler` locally and in the tests).
_OWN_MODULE_PREFIXES = ("slotwise", "functions.", "handler")

_installed: list[bool] = []


def install() -> bool:
    """Register `prime` and `restore` once per process; False where the runtime hooks library is absent."""
    if _installed:
        return True
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:  # not the Lambda runtime and no dev extra: nothing is ever snapshotted here
        return False
    register_before_snapshot(prime)
    register_after_restore(restore)
    _installed.append(True)
    return True


def _own_modules() -> Iterator[ModuleType]:
    for name, module in list(sys.modules.items()):
        if module is not None and name.startswith(_OWN_MODULE_PREFIXES):
            yield module


def prime() -> None:
    """Load what every environment's first request needs, leaving no credential-holding object behind."""
    from slotwise import aws

    for service in PRIMED_SERVICES:
        aws.prime_service(service)
    _build_models()
    _resolve_routes()
    routes = sys.modules.get("slotwise.api.routes")
    if routes is not None:
        for route in routes.ROUTES:
            _ = route.pattern


def _build_models() -> None:
    """Build every deferred pydantic validator defined in Slotwise's own modules (`defer_build` in slotwise.models
    keeps an ordinary cold start from paying for models a request never touches; a snapshot pays once)."""
    from pydantic import BaseModel

    seen: set[type[BaseModel]] = set()
    for module in _own_modules():
        for value in list(vars(module).values()):
            if (
                isinstance(value, type)
                and issubclass(value, BaseModel)
                and value.__module__.startswith(_OWN_MODULE_PREFIXES)
                and value not in seen
            ):
                seen.add(value)
                if not value.__pydantic_complete__:
                    value.model_rebuild()


def _resolve_routes() -> None:
    """Powertools builds each route's parameter and body models on its first request (`Route.dependant`)."""
    api_gateway = sys.modules.get("aws_lambda_powertools.event_handler.api_gateway")
    if api_gateway is None:
        return
    for module in _own_modules():
        for value in list(vars(module).values()):
            if isinstance(value, api_gateway.ApiGatewayResolver):
                for route in _routes_of(value):
                    _ = route.dependant
                    _ = route.body_field


def _routes_of(app: Any) -> list[Any]:
    routes: list[Any] = [*getattr(app, "_static_routes", ()), *getattr(app, "_dynamic_routes", ())]
    return routes


def restore() -> None:
    """Make a restored environment its own: fresh randomness, clients, credentials, secrets, caches and leases."""
    from slotwise import aws, cache

    random.seed()
    aws.reset_clients()
    keys = sys.modules.get("slotwise.identity.keys")
    if keys is not None:
        keys.reset_keys()
    cache.reset_caches()
