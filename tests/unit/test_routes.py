from __future__ import annotations

import importlib

import pytest

from slotwise.api import routes

STATIC = routes.Route("GET", "/api/v1/bookings/by-reference", "bookings")
PARAM = routes.Route("GET", "/api/v1/bookings/{id}", "bookings")
PUT = routes.Route("PUT", "/api/v1/bookings/{id}", "bookings")


def test_static_route_wins_over_parameterised() -> None:
    table = (PARAM, STATIC, PUT)
    found = routes.match("GET", "/api/v1/bookings/by-reference", table)
    assert found is not None and found.route == STATIC
    found = routes.match("GET", "/api/v1/bookings/abc", table)
    assert found is not None and found.route == PARAM and found.path_parameters == {"id": "abc"}


def test_parameters_do_not_cross_slashes() -> None:
    assert routes.match("GET", "/api/v1/bookings/a/b", (PARAM,)) is None


def test_greedy_proxy_parameter() -> None:
    proxy = routes.Route("GET", "/files/{proxy+}", "x")
    found = routes.match("GET", "/files/a/b/c", (proxy,))
    assert found is not None and found.path_parameters == {"proxy": "a/b/c"}


def test_allowed_methods() -> None:
    assert routes.allowed_methods("/api/v1/bookings/1", (PARAM, PUT)) == ["GET", "PUT"]
    assert routes.allowed_methods("/nowhere", (PARAM, PUT)) == []


@pytest.mark.parametrize("group", routes.groups())
def test_each_function_serves_exactly_its_routes(group: str) -> None:
    """The route table, API Gateway and the handlers cannot drift apart."""
    app = importlib.import_module(f"functions.{group}.handler").app
    served = {
        f"{method.upper()} {path}"
        for path, item in app.get_openapi_schema().paths.items()
        for method in ("get", "post", "put", "patch", "delete")
        if getattr(item, method, None) is not None
    }
    assert served == {r.route_key for r in routes.ROUTES if r.group == group}
