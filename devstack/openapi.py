"""The local runtime's OpenAPI document: the one the layer serves (deployed routes only) plus the development routes.

Built on first request (`slotwise.api.docs.serve_document`), from the committed document and the dev function's own
schema, so there is no second committed document to keep current.
"""

from __future__ import annotations

import json
from typing import Any

from infra import openapi_contract
from slotwise.api.docs import SPEC_PATH


def local_spec() -> dict[str, Any]:
    from devstack.handler import app

    spec: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    # The same contract rules as the deployed routes: problems under application/problem+json, 429 when counted.
    dev: dict[str, Any] = openapi_contract.apply(
        json.loads(app.get_openapi_json_schema()), request_quota=getattr(app, "request_quota", False)
    )
    for path, item in dev.get("paths", {}).items():
        spec["paths"].setdefault(path, {}).update(item)
    for kind, entries in dev.get("components", {}).items():
        for name, entry in entries.items():
            spec.setdefault("components", {}).setdefault(kind, {}).setdefault(name, entry)
    known = {tag["name"] for tag in spec.get("tags", [])}
    spec.setdefault("tags", []).extend(tag for tag in dev.get("tags", []) if tag["name"] not in known)
    return spec


def local_openapi_json() -> str:
    return json.dumps(local_spec(), indent=2, sort_keys=True) + "\n"
