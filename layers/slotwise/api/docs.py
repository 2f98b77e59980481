"""The merged OpenAPI document of every function, and the Swagger UI page that shows it (works offline).

Each function owns a resolver, and in Lambda no function can see the others' code, so the merged document is
generated at build time (`make openapi`, `infra/openapi.py`) into `openapi.json` beside this module.
A test regenerates it and fails if the committed copy is stale. It documents the deployed routes only; the local
runtime, which serves development routes too, swaps in its own document with `serve_document`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

SPEC_PATH = Path(__file__).with_name("openapi.json")
_sources: list[Callable[[], str]] = []


def serve_document(source: Callable[[], str] | None) -> None:
    """Serve the document `source` makes (read once, on first request) instead of the built one; None: the built
    one again. The local runtime's includes its development routes (devstack)."""
    _sources[:] = [source] if source is not None else []
    openapi_json.cache_clear()
    swagger_html.cache_clear()


@cache
def openapi_json() -> str:
    if _sources:
        return _sources[0]()
    return SPEC_PATH.read_text(encoding="utf-8")


@cache
def swagger_html() -> str:
    from aws_lambda_powertools.event_handler.openapi import swagger_ui
    from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

    assets = Path(swagger_ui.__file__).parent
    return generate_swagger_html(
        # Escaping `</` keeps the JSON from closing the script tag it is embedded in.
        openapi_json().replace("</", "<\\/"),
        (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
        (assets / "swagger-ui.min.css").read_text(encoding="utf-8"),
        "",
        None,
    )
