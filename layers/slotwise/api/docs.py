"""The merged OpenAPI document of every function, and the Swagger UI page that shows it (works offline).

Each function owns a resolver, and in Lambda no function can see the others' code, so the merged document is
generated at build time (`make openapi`, `infra/openapi.py`) into `openapi.json` beside this module.
A test regenerates it and fails if the committed copy is stale.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

SPEC_PATH = Path(__file__).with_name("openapi.json")


@cache
def openapi_json() -> str:
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
