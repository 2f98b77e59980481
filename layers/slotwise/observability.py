"""Logger and Metrics shared by every function. Tracer is left out on purpose: it costs 380-495 ms of cold start
(it loads the X-Ray SDK and patches botocore even when disabled) and the request path is one DynamoDB call.

Every function imports this module, so it also registers the SnapStart runtime hooks (slotwise.runtime_hooks)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

from slotwise import runtime_hooks

METRICS_NAMESPACE = "Slotwise"

logger = Logger(service="slotwise")
metrics = Metrics(namespace=METRICS_NAMESPACE, service="slotwise")

runtime_hooks.install()
