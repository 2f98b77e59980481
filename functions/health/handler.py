"""Platform routes: health, the OpenAPI document and Swagger UI; also answers unmatched requests (404/405)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response

from slotwise.api.app import create_app, lambda_entrypoint
from slotwise.api.docs import openapi_json, swagger_html
from slotwise.health.service import HealthReport, check_health
from slotwise.settings import require_settings

# The resources this function uses: required outside local/test (the stack sets them; tests/infra checks it).
REQUIRED_SETTINGS = require_settings("table_name")

# Probes and the API document cost nothing to serve and must answer monitors whatever their rate.
app = create_app(request_quota=False)


@app.get(
    "/api/v1/health",
    summary="Service health",
    tags=["platform"],
    responses={
        200: {"description": "All dependencies answer", "content": {"application/json": {"model": HealthReport}}},
        503: {"description": "A dependency failed", "content": {"application/json": {"model": HealthReport}}},
    },
)
def health() -> Response[dict[str, Any]]:
    report = check_health()
    status = HTTPStatus.OK if report.status == "ok" else HTTPStatus.SERVICE_UNAVAILABLE
    return Response(
        status_code=status.value,
        content_type="application/json",
        body=report.model_dump(mode="json", by_alias=True),
        headers={"Cache-Control": "no-store"},
    )


@app.get("/api/v1/openapi.json", summary="OpenAPI document of the whole API", tags=["platform"])
def openapi() -> Response[str]:
    return Response(status_code=200, content_type="application/json", body=openapi_json())


@app.get("/api/v1/docs", summary="Swagger UI", tags=["platform"])
def docs() -> Response[str]:
    if app.current_event.get_query_string_value("format") == "json":
        return openapi()
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=swagger_html())


lambda_handler = lambda_entrypoint(app)
