"""Finds and calls each function group's `lambda_handler`, exactly the code that runs in Lambda."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from infra.local.lambda_context import LocalLambdaContext

Handler = Callable[[dict[str, Any], Any], Any]


def load_handler(group: str) -> Handler:
    module = importlib.import_module(f"functions.{group}.handler")
    handler: Handler = module.lambda_handler
    return handler


def invoke(group: str, event: dict[str, Any], timeout_seconds: float = 30.0) -> Any:
    context = LocalLambdaContext(function_name=f"slotwise-{group}", timeout_seconds=timeout_seconds)
    return load_handler(group)(event, context)
