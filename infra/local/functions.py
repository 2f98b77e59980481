"""Finds and calls each function group's `lambda_handler`, exactly the code that runs in Lambda.

Lambda runs one request at a time per execution environment, and Powertools' resolver keeps the current event
on the app object, so concurrent requests must never share a module instance. Like Lambda scaling out, each
group keeps a pool of independently loaded copies of its handler module; a request borrows one for its duration,
the most recently returned first (a stack), so sequential traffic stays on one warm copy, as it does on Lambda,
and per-instance state such as request-quota leases behaves as it would there.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from typing import Any

from devstack.routes import handler_module
from infra.local import call_counts
from infra.local.lambda_context import LocalLambdaContext

Handler = Callable[[dict[str, Any], Any], Any]


def load_handler(group: str) -> Handler:
    """A fresh, private copy of `functions/<group>/handler.py` (one execution environment); the development
    routes' group is `devstack/handler.py`."""
    name = handler_module(group)
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise LookupError(f"no function group {group!r} (expected {name.replace('.', '/')}.py)")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handler: Handler = module.lambda_handler
    return handler


class InstancePool:
    def __init__(self) -> None:
        self._free: dict[str, list[Handler]] = {}
        self._lock = threading.Lock()

    def _borrow(self, group: str) -> Handler | None:
        with self._lock:
            free = self._free.setdefault(group, [])
            return free.pop() if free else None

    def _give_back(self, group: str, handler: Handler) -> None:
        with self._lock:
            self._free[group].append(handler)

    def invoke(self, group: str, event: dict[str, Any], timeout_seconds: float = 30.0) -> Any:
        handler = self._borrow(group) or load_handler(group)  # none free: a cold start
        try:
            context = LocalLambdaContext(function_name=f"slotwise-{group}", timeout_seconds=timeout_seconds)
            with call_counts.invocation(group, event):
                return handler(event, context)
        finally:
            self._give_back(group, handler)

    def warm(self, group: str) -> None:
        """One environment of `group` loaded ahead of its first request (a provisioned-concurrency instance)."""
        handler = load_handler(group)
        with self._lock:
            self._free.setdefault(group, []).append(handler)


_POOL = InstancePool()


def warm(group: str) -> None:
    _POOL.warm(group)


def invoke(group: str, event: dict[str, Any], timeout_seconds: float = 30.0) -> Any:
    return _POOL.invoke(group, event, timeout_seconds)
