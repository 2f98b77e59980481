from __future__ import annotations

import json

from infra.openapi import render
from slotwise.api import routes
from slotwise.api.docs import SPEC_PATH, swagger_html


def test_committed_spec_is_current() -> None:
    """Run `make openapi` when this fails: the API serves the committed file."""
    assert SPEC_PATH.read_text(encoding="utf-8") == render()


def test_spec_covers_every_route() -> None:
    spec = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    documented = {f"{method.upper()} {path}" for path, ops in spec["paths"].items() for method in ops}
    assert {r.route_key for r in routes.ROUTES} <= documented
    assert spec["info"]["title"] == "Slotwise API"


def test_swagger_ui_is_self_contained() -> None:
    html = swagger_html()
    assert "SwaggerUIBundle" in html and "<style>" in html
    assert "unpkg.com" not in html and "cdn." not in html  # renders with no internet
    assert '"Slotwise API"' in html
