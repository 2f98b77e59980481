"""Object-level rules that take ids outside the path (query and body), the advisor's view of their requests, and
the audit entries and hold cap of recurring series (moto; conditions are judged on DynamoDB Local)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from slotwise import ratelimit
from tests.support.catalog import VENDOR, make_resource
from tests.support.http import call

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
TIMES = {"startTime": START.isoformat(), "endTime": (START + timedelta(hours=1)).isoformat()}


def audit_items(table: str) -> list[dict[str, Any]]:
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    return [i for i in items if i.get("type", {}).get("S") == "audit"]


@pytest.fixture
def archived(table: str) -> Any:
    resource = make_resource()
    assert call("DELETE", f"/api/v1/resources/{resource.id}", user=VENDOR, role="vendor").status == 204
    return resource


@pytest.mark.parametrize("who", [{}, {"user": "cust-x", "role": "customer"}, {"user": "other-v", "role": "vendor"}])
def test_an_archived_resource_is_missing_from_every_availability_question(archived: Any, who: dict[str, str]) -> None:
    rid = archived.id
    asks = [
        call("GET", "/api/v1/availability", query={"resourceId": rid, **TIMES}, **who),
        call("POST", "/api/v1/availability/bulk", body={"resourceId": rid, "timeSlots": [TIMES]}, **who),
        call(
            "GET",
            "/api/v1/conflicts",
            query={"resourceId": rid, **TIMES, "recurrenceRule": "FREQ=DAILY;COUNT=2"},
            **who,
        ),
        call("POST", "/api/v1/bookings", body={"resourceId": rid, **TIMES}, **who),
        call("GET", "/api/v1/bookings", query={"resourceId": rid}, **who),
    ]
    expected = [404, 404, 404, 401 if not who else 404, 401 if not who else 404]
    assert [a.status for a in asks] == expected, [a.body for a in asks]
    assert {a.code for a in asks if a.status == 404} == {"resource_not_found"}
    owner = call("GET", "/api/v1/availability", query={"resourceId": rid, **TIMES}, user=VENDOR, role="vendor")
    assert owner.status == 200 and owner.body["available"] is False  # the owner sees it, not bookable


def test_the_advisor_lists_and_decides_the_requests_of_their_resource_only(table: str) -> None:
    advisor = make_resource(kind="advisor", policy={"confirmation": "approval"}, attributes={"advisorUserId": "adv-1"})
    request = call("POST", "/api/v1/bookings", body={"resourceId": advisor.id, **TIMES}, user="cust").body
    mine = call("GET", "/api/v1/bookings", query={"resourceId": advisor.id}, user="adv-1", role="advisor")
    assert [b["id"] for b in mine.body["bookings"]] == [request["id"]]
    other = call("GET", "/api/v1/bookings", query={"resourceId": advisor.id}, user="adv-2", role="advisor")
    assert (other.status, other.code) == (404, "resource_not_found")
    # The resource's advisor must be an advisor: a customer named in the attribute gets nothing.
    assert call("GET", f"/api/v1/bookings/{request['id']}", user="adv-1", role="customer").status == 404
    cancel = call("POST", f"/api/v1/bookings/{request['id']}/cancel", body={}, user="adv-1", role="advisor")
    assert (cancel.status, cancel.code) == (403, "permission_denied")
    assert call("POST", f"/api/v1/bookings/{request['id']}/reject", body={}, user="adv-1", role="advisor").status == 200


def test_listing_another_customers_bookings_is_for_admins_and_within_an_organisation(table: str) -> None:
    room = make_resource()
    made = call("POST", "/api/v1/bookings", body={"resourceId": room.id, **TIMES}, user="cust-a").body
    for user, role in [("cust-b", "customer"), ("agent-1", "agent")]:
        refused = call("GET", "/api/v1/bookings", query={"customerId": "cust-a"}, user=user, role=role)
        assert (refused.status, refused.code) == (403, "permission_denied"), role
    listed = call("GET", "/api/v1/bookings", query={"customerId": "cust-a"}, user="root", role="admin")
    assert [b["id"] for b in listed.body["bookings"]] == [made["id"]]
    # A vendor filters their own organisation's bookings by customer; another vendor's organisation has none.
    own = call("GET", "/api/v1/bookings", query={"customerId": "cust-a"}, user=VENDOR, role="vendor")
    assert [b["id"] for b in own.body["bookings"]] == [made["id"]]
    other = call("GET", "/api/v1/bookings", query={"customerId": "cust-a"}, user="vendor-x", role="vendor")
    assert (other.status, other.body["bookings"]) == (200, [])


def test_a_series_is_audited_per_transaction(table: str) -> None:
    room = make_resource()
    made = call(
        "POST",
        "/api/v1/bookings/recurring",
        body={"resourceId": room.id, "recurrenceRule": "FREQ=WEEKLY;COUNT=3", **TIMES},
        user="cust",
    ).body
    series_id = made["seriesId"]
    exception = call(
        "POST",
        f"/api/v1/bookings/{series_id}/exceptions",
        body={"exceptionType": "cancelled", "exceptionDate": made["created"][1]["occurrenceDate"]},
        user="cust",
    )
    assert exception.status == 201
    actions = sorted((i["target"]["S"], i["action"]["S"]) for i in audit_items(table))
    assert actions == sorted(
        [
            (f"series:{series_id}", "series.book"),
            (f"series:{series_id}", "series.create"),
            (f"series:{series_id}", "series.exception"),
            (f"booking:{made['created'][1]['id']}", "booking.cancel"),
        ]
    )


def test_a_held_series_counts_every_occurrence_against_the_cap(table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ratelimit.ACTIVE_HOLDS_ENV, "3")
    room = make_resource(policy={"confirmation": "approval"})
    before = len(boto3.client("dynamodb").scan(TableName=table)["Items"])
    body = {"resourceId": room.id, "recurrenceRule": "FREQ=WEEKLY;COUNT=4", **TIMES}
    refused = call("POST", "/api/v1/bookings/recurring", body=body, user="cust")
    assert (refused.status, refused.code) == (429, "active_holds_exceeded")
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    # Nothing but the rate limiter's bucket was written.
    assert len(items) == before + 1 and any(i["PK"]["S"].startswith("RATE#") for i in items)
    fits = call(
        "POST", "/api/v1/bookings/recurring", body={**body, "recurrenceRule": "FREQ=WEEKLY;COUNT=3"}, user="cust"
    )
    assert fits.status == 201 and len(fits.body["created"]) == 3
    # An agent (premium tier) has a larger cap.
    agent = call(
        "POST",
        "/api/v1/bookings/recurring",
        body={
            **body,
            "startTime": (START + timedelta(hours=2)).isoformat(),
            "endTime": (START + timedelta(hours=3)).isoformat(),
        },
        user="agent-1",
        role="agent",
    )
    assert agent.status == 201
