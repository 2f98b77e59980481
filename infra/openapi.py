"""Builds the merged OpenAPI document of every function into the layer (`make openapi`).

Each function has its own resolver and, in Lambda, cannot see the others, so the document the health function
serves is generated here at build time. `tests/unit/test_openapi_docs.py` fails when the committed copy is stale.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
from aws_lambda_powertools.event_handler.openapi.models import Server

from infra import openapi_contract
from slotwise import __version__
from slotwise.api import routes
from slotwise.api.docs import SPEC_PATH

DESCRIPTION = (
    "Slotwise sells any inventory by the slot, the night or the seat, and cannot double-book. "
    "Errors are RFC 9457 application/problem+json with a stable `code`."
)


def build_spec() -> dict[str, Any]:
    merge = OpenAPIMerge(
        title="Slotwise API",
        version=__version__,
        description=DESCRIPTION,
        servers=[Server(url="/")],
        on_conflict="error",
    )
    for group in routes.groups():
        module = importlib.import_module(f"functions.{group}.handler")
        schema = json.loads(module.app.get_openapi_json_schema())
        merge.add_schema(openapi_contract.apply(schema, request_quota=getattr(module.app, "request_quota", False)))
    spec: dict[str, Any] = json.loads(merge.get_openapi_json_schema())
    openapi_contract.add_components(spec)
    return spec


def render() -> str:
    return json.dumps(build_spec(), indent=2, sort_keys=True) + "\n"


def main() -> int:
    SPEC_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {SPEC_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
