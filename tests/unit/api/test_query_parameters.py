"""Query parameters: a route refuses those it does not declare (400 `unknown_query_parameter`, naming them), and a
list filter takes `a,b` or the parameter repeated (API Gateway joins repeated values with commas)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.http import call
from tests.unit.catalog.test_catalog_api import new_resource, new_venue


@pytest.mark.parametrize(
    ("method", "path", "role"),
    [
        ("GET", "/api/v1/resources", None),
        ("GET", "/api/v1/bookings", "customer"),
        ("GET", "/api/v1/notifications", "customer"),
        ("DELETE", "/api/v1/bookings/b1", "customer"),
    ],
)
def test_unknown_query_parameters_are_400_naming_them(table: str, method: str, path: str, role: str | None) -> None:
    user = "cust" if role else None
    query = {"bogus": "1", "sort": "x"} if method == "DELETE" else {"limit": "5", "bogus": "1", "sort": "x"}
    answer = call(method, path, query=query, user=user, role=role)
    assert answer.status == 400, answer.body
    assert answer.code == "unknown_query_parameter"
    assert answer.body["parameters"] == ["bogus", "sort"]
    assert "bogus" in answer.body["detail"] and "sort" in answer.body["detail"]


def test_declared_parameters_and_the_docs_format_pass(table: str) -> None:
    assert call("GET", "/api/v1/resources", query={"limit": "5"}).status == 200
    assert call("GET", "/api/v1/docs", query={"format": "json"}).status == 200


def test_a_list_filter_takes_commas_or_repeats(table: str) -> None:
    venue = new_venue()
    both: Any = new_resource(venue["id"], amenities=["wifi", "projector"])
    new_resource(venue["id"], amenities=["wifi"])
    for query in ({"amenities": "wifi,projector"}, {"amenities": ["wifi", "projector"]}):
        answer = call("GET", "/api/v1/resources", query=query)
        assert answer.status == 200, answer.body
        assert [r["id"] for r in answer.body["resources"]] == [both["id"]]


def test_a_repeated_scalar_is_refused_by_validation(table: str) -> None:
    answer = call("GET", "/api/v1/resources", query={"limit": ["5", "6"]})
    assert answer.status == 422 and answer.code == "validation_failed"
