"""Occupancy and revenue reports, read from the aggregates (`slotwise.reports.store`): one Query per resource and
month, never a scan, whatever the number of bookings. The figures' rules are in docs/reports.md.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any, Literal

from slotwise import errors
from slotwise.booking import policy
from slotwise.catalog.models import Resource
from slotwise.identity.models import Caller
from slotwise.reports import figures, scope, store

Granularity = Literal["day", "week", "month"]
GroupBy = Literal["day", "month", "resource", "venue", "advisor"]
MAX_DAYS = 366
UNIT_NAMES = {"night": "nights", "fixed": "seats", "minutes": "hours"}


def check_range(frm: date, to: date) -> list[date]:
    if to < frm:
        raise errors.ValidationFailed("`to` is on or after `from`.", code="end_before_start")
    days = (to - frm).days + 1
    if days > MAX_DAYS:
        raise errors.ValidationFailed(
            f"A report covers at most {MAX_DAYS} days; this one asks for {days}.", code="range_too_long"
        )
    return [frm + timedelta(days=n) for n in range(days)]


def _months(days: list[date]) -> list[str]:
    return sorted({day.isoformat()[:7] for day in days})


def _read(resource: Resource, days: list[date]) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """A resource's sold units per day and money per `day#currency` over the days (one Query per month)."""
    wanted = {day.isoformat() for day in days}
    units: dict[str, int] = {}
    money: dict[str, dict[str, int]] = {}
    for month in _months(days):
        for item in store.month_items(resource.id, month):
            sk = str(item["SK"])
            if sk == store.UNITS_SK:
                for name, value in item.items():
                    day = f"{month}-{name[1:]}"
                    if name.startswith("d") and name[1:].isdigit() and day in wanted and int(value):
                        units[day] = int(value)
            elif sk.startswith("DAY#"):
                _, dd, currency = sk.split("#", 2)
                values = {name: int(item.get(name, 0)) for name in figures.MONEY_FIELDS}
                # A day whose bookings all moved away (a reschedule) keeps an item of zeros: not a row.
                if f"{month}-{dd}" in wanted and any(values.values()):
                    money[f"{month}-{dd}#{currency}"] = values
    return units, money


def _period_of(day: date, granularity: Granularity) -> str:
    if granularity == "day":
        return day.isoformat()
    if granularity == "month":
        return day.isoformat()[:7]
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _number(value: int, unit: str) -> float | int:
    return round(value / 60, 2) if unit == "minutes" else value


def _sellable(resource: Resource, days: list[date]) -> dict[date, int]:
    """Units on sale each day: capacity per night, seats on the departure day, open minutes x capacity."""
    unit = resource.policy.unit
    capacity = resource.capacity
    blackouts = set(resource.policy.blackout_dates)
    if unit == "night":
        return {day: 0 if day in blackouts else capacity for day in days}
    if unit == "fixed":
        departs = resource.departure_date
        return {day: capacity if day == departs else 0 for day in days}
    return {day: minutes * capacity for day, minutes in policy.open_minutes(resource, days).items()}


def _rate(sold: int, sellable: int) -> float | None:
    return round(sold / sellable, 4) if sellable else None


def occupancy(
    caller: Caller,
    *,
    venue_id: str | None,
    resource_id: str | None,
    frm: date,
    to: date,
    granularity: Granularity,
) -> dict[str, Any]:
    """Sold vs sellable units per period for each resource of a venue, or for one resource."""
    if venue_id is None and resource_id is None:
        raise errors.ValidationFailed("Name a venueId or a resourceId.", code="missing_scope")
    days = check_range(frm, to)
    resources = scope.resources_for(caller, venue_id, resource_id)
    rows = []
    for resource in resources:
        unit = resource.policy.unit
        units, _ = _read(resource, days)
        sellable = _sellable(resource, days)
        periods: dict[str, dict[str, Any]] = {}
        for day in days:
            period = periods.setdefault(
                _period_of(day, granularity), {"from": day.isoformat(), "sold": 0, "sellable": 0}
            )
            period["to"] = day.isoformat()
            period["sold"] += units.get(day.isoformat(), 0)
            period["sellable"] += sellable[day]
        sold_total, sellable_total = sum(units.values()), sum(sellable.values())
        rows.append(
            {
                "resourceId": resource.id,
                "resourceName": resource.name,
                "venueId": resource.venue_id,
                "unit": UNIT_NAMES.get(unit, unit),
                "periods": [
                    {
                        "period": name,
                        "from": p["from"],
                        "to": p["to"],
                        "sold": _number(p["sold"], unit),
                        "sellable": _number(p["sellable"], unit),
                        "rate": _rate(p["sold"], p["sellable"]),
                    }
                    for name, p in periods.items()
                ],
                "sold": _number(sold_total, unit),
                "sellable": _number(sellable_total, unit),
                "rate": _rate(sold_total, sellable_total),
            }
        )
    return {"from": frm.isoformat(), "to": to.isoformat(), "granularity": granularity, "resources": rows}


def _group_of(resource: Resource, day: str, group_by: GroupBy) -> str | None:
    if group_by == "day":
        return day
    if group_by == "month":
        return day[:7]
    if group_by == "resource":
        return resource.id
    if group_by == "venue":
        return resource.venue_id
    advisor = resource.attributes.get("advisorUserId")
    return str(advisor) if advisor else None


def _with_net(values: dict[str, int]) -> dict[str, int]:
    return {**{name: values.get(name, 0) for name in figures.MONEY_FIELDS}, "net": values["gross"] - values["refunds"]}


def revenue(
    caller: Caller,
    *,
    venue_id: str | None,
    resource_id: str | None,
    frm: date,
    to: date,
    group_by: GroupBy,
) -> dict[str, Any]:
    """Gross, refunds, wallet credits, net and counts per group and currency (advisor: advised resources only)."""
    days = check_range(frm, to)
    resources = scope.resources_for(caller, venue_id, resource_id)
    groups: dict[tuple[str, str], dict[str, int]] = {}
    totals: dict[str, dict[str, int]] = {}
    for resource in resources:
        if group_by == "advisor" and not resource.attributes.get("advisorUserId"):
            continue
        _, money = _read(resource, days)
        for key, values in money.items():
            day, currency = key.split("#", 1)
            group = _group_of(resource, day, group_by)
            if group is None:
                continue
            for target in (groups.setdefault((group, currency), {}), totals.setdefault(currency, {})):
                for name, value in values.items():
                    target[name] = target.get(name, 0) + value
    rows = [
        {"group": group, "currency": currency, **_with_net(values)}
        for (group, currency), values in sorted(groups.items())
    ]
    total_rows = [{"currency": currency, **_with_net(values)} for currency, values in sorted(totals.items())]
    return {"from": frm.isoformat(), "to": to.isoformat(), "groupBy": group_by, "rows": rows, "totals": total_rows}


OCCUPANCY_COLUMNS = ("resourceId", "resourceName", "unit", "period", "from", "to", "sold", "sellable", "rate")
REVENUE_COLUMNS = ("group", "currency", *figures.MONEY_FIELDS, "net")


def _csv(columns: tuple[str, ...], rows: Iterator[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        # A cell starting with = + - @ is a formula to a spreadsheet: names are quoted with a leading apostrophe.
        writer.writerow({k: f"'{v}" if isinstance(v, str) and v[:1] in "=+-@" else v for k, v in row.items()})
    return out.getvalue()


def occupancy_csv(report: dict[str, Any]) -> str:
    def rows() -> Iterator[dict[str, Any]]:
        for resource in report["resources"]:
            for period in resource["periods"]:
                rate = period["rate"]
                yield {
                    **{k: resource[k] for k in ("resourceId", "resourceName", "unit")},
                    **period,
                    "rate": "" if rate is None else rate,
                }

    return _csv(OCCUPANCY_COLUMNS, rows())


def revenue_csv(report: dict[str, Any]) -> str:
    return _csv(REVENUE_COLUMNS, iter(report["rows"]))
