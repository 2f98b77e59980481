"""Occupancy and revenue reports (slotwise.reports): JSON, or CSV with `Accept: text/csv`."""

from __future__ import annotations

import json
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from slotwise.api.app import create_app, lambda_entrypoint
from slotwise.api.context import caller
from slotwise.identity.permissions import route_doc
from slotwise.models import ID_PATTERN, MAX_ID_LENGTH, BoundedDate
from slotwise.reports import service
from slotwise.reports.service import Granularity, GroupBy
from slotwise.settings import require_settings

# The resources this function uses: required outside local/test (the stack sets them; tests/infra checks it).
REQUIRED_SETTINGS = require_settings("table_name")

app = create_app()
TAGS = ["reports"]
CSV = "text/csv"
OptionalId = Annotated[str | None, Query(max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)]
Day = Annotated[BoundedDate, Query(description="a local date of the resources' timezone, YYYY-MM-DD (inclusive)")]
From = Annotated[BoundedDate, Query(alias="from", description="first local date, YYYY-MM-DD")]


def _answer(report: dict[str, Any], to_csv: Any) -> Response[str]:
    if CSV in (app.current_event.headers.get("accept") or ""):
        return Response(200, CSV, to_csv(report), {"Cache-Control": "no-store"})
    return Response(200, "application/json", json.dumps(report), {"Cache-Control": "no-store"})


@app.get(
    "/api/v1/reports/occupancy",
    tags=TAGS,
    summary="Sold vs sellable units (nights, seats or hours) per period, and the rate",
    description=route_doc("report.read"),
)
def occupancy(
    frm: From,
    to: Day,
    venueId: OptionalId = None,
    resourceId: OptionalId = None,
    granularity: Annotated[Granularity, Query()] = "day",
) -> Response[str]:
    report = service.occupancy(
        caller(app), venue_id=venueId, resource_id=resourceId, frm=frm, to=to, granularity=granularity
    )
    return _answer(report, service.occupancy_csv)


@app.get(
    "/api/v1/reports/revenue",
    tags=TAGS,
    summary="Gross, refunds, wallet credits, net and booking counts per group and currency",
    description=route_doc("report.read"),
)
def revenue(
    frm: From,
    to: Day,
    groupBy: Annotated[GroupBy, Query()] = "day",
    venueId: OptionalId = None,
    resourceId: OptionalId = None,
) -> Response[str]:
    report = service.revenue(caller(app), venue_id=venueId, resource_id=resourceId, frm=frm, to=to, group_by=groupBy)
    return _answer(report, service.revenue_csv)


lambda_handler = lambda_entrypoint(app)
