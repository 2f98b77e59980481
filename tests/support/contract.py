"""Every response the suite receives, checked against the merged OpenAPI document (`make openapi`).

`tests.support.http.call` hands each answer to `check`: the status must be documented for the operation, the
content type must be the documented one, and the body must match the documented schema (JSON Schema 2020-12, as
OpenAPI 3.1 writes it, with `$ref`s resolved against `components`). Drift between the document and what the API
answers fails the test that saw it.

On by default; `SLOTWISE_CONTRACT_CHECK=0` turns it off. `SLOTWISE_CONTRACT_REPORT=<file>` records each mismatch
as a JSON line in that file instead of failing (to survey drift over a whole run).
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from slotwise.api.docs import SPEC_PATH

_ROOT = "urn:slotwise:openapi"


def enabled() -> bool:
    return os.environ.get("SLOTWISE_CONTRACT_CHECK", "1") != "0"


@cache
def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return spec


@cache
def _registry() -> Registry:  # type: ignore[type-arg]
    return Registry().with_resource(_ROOT, Resource(contents=_spec(), specification=DRAFT202012))  # type: ignore[call-arg]


@cache
def _validator(schema_json: str) -> Draft202012Validator:
    schema = json.loads(schema_json)
    return Draft202012Validator(_rebased(schema), registry=_registry())


def _rebased(schema: Any) -> Any:
    """`#/components/...` refers to the whole document: point it at the registered copy."""
    if isinstance(schema, dict):
        return {k: (_ROOT + v if k == "$ref" and v.startswith("#/") else _rebased(v)) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_rebased(v) for v in schema]
    return schema


def mismatches(route_key: str, status: int, content_type: str, body: Any) -> list[str]:  # noqa: PLR0911 - one return per rule
    """What is wrong with this answer for the route `METHOD /path/{param}` (empty: it matches the document)."""
    method, _, path = route_key.partition(" ")
    operation = _spec().get("paths", {}).get(path, {}).get(method.lower())
    if operation is None:
        return [f"{route_key} is not documented"]
    responses = operation.get("responses", {})
    documented = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
    if documented is None:
        return [f"{route_key} answered {status}, documented: {sorted(responses)}"]
    if "$ref" in documented:  # #/components/responses/<name>
        documented = _spec()["components"]["responses"][documented["$ref"].rsplit("/", 1)[1]]
    content = documented.get("content") or {}
    media_type = content_type.split(";", 1)[0].strip().lower()
    if not content:
        if body not in (None, "", b""):
            return [f"{route_key} {status} has a body ({media_type}) but documents none"]
        return []
    if media_type not in content:
        return [f"{route_key} {status} answered {media_type or 'no content type'}, documented: {sorted(content)}"]
    schema = content[media_type].get("schema")
    if schema is None or not media_type.endswith("json"):
        return []
    validator = _validator(json.dumps(schema, sort_keys=True))
    return [
        f"{route_key} {status}: {'/'.join(str(p) for p in error.absolute_path) or '<body>'}: {error.message[:300]}"
        for error in validator.iter_errors(body)
    ][:5]


def check(route_key: str, status: int, content_type: str, body: Any) -> None:
    if not enabled() or route_key == "$default":  # no route matched: not an operation of the document
        return
    found = mismatches(route_key, status, content_type, body)
    if not found:
        return
    report = os.environ.get("SLOTWISE_CONTRACT_REPORT")
    if report:
        with open(report, "a", encoding="utf-8") as out:
            for line in found:
                out.write(json.dumps({"route": route_key, "status": status, "problem": line}) + "\n")
        return
    raise AssertionError("the response does not match the OpenAPI document:\n" + "\n".join(found))
