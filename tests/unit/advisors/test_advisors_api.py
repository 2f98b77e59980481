"""The advisors' directory and an advisor's own bookings, through the real handlers (moto): who is listed, the
profile from resource attributes, filters, paging, the index entry kept right by every resource write, and the
advisor's `GET /bookings` across all their resources."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from slotwise import aws
from slotwise.data.dynamo import table_name
from slotwise.identity.models import User
from slotwise.identity.repository import put_user
from tests.support.http import ApiResponse, call

API = "/api/v1"
VENDOR = {"user": "vendor-1", "role": "vendor"}
START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def person(user_id: str, role: str = "advisor", status: str = "active", name: str = "") -> None:
    profile = User(
        id=user_id, email=f"{user_id}@x.test", name=name or user_id.title(), role=role, status=status, created_at=EPOCH
    )
    assert put_user(profile)


def venue() -> str:
    made = call("POST", f"{API}/venues", body={"name": "Office", "city": "Lisbon", "timezone": "UTC"}, **VENDOR)
    assert made.status == 201, made.body
    return str(made.body["id"])


def resource(venue_id: str, advisor: str | None, *, price: int = 5000, granule: int = 30, **attributes: Any) -> str:
    body = resource_body(venue_id, advisor, price=price, granule=granule, **attributes)
    made = call("POST", f"{API}/resources", body=body, **VENDOR)
    assert made.status == 201, made.body
    return str(made.body["id"])


def resource_body(
    venue_id: str, advisor: str | None, *, price: int = 5000, granule: int = 30, **attributes: Any
) -> Any:
    return {
        "venueId": venue_id,
        "name": f"Session with {advisor}",
        "type": "advisor",
        "policy": {"unit": "minutes", "granuleMinutes": granule},
        "pricing": {"currency": "EUR", "unitPrice": price},
        "attributes": {**({"advisorUserId": advisor} if advisor else {}), **attributes},
    }


def listed(**query: Any) -> ApiResponse:
    found = call("GET", f"{API}/advisors", query=query or None)
    assert found.status == 200, found.body
    return found


def ids(response: ApiResponse) -> list[str]:
    return [a["advisorId"] for a in response.body["advisors"]]


def book(resource_id: str, hours: float, customer: str = "cust-1", minutes: int = 30) -> dict[str, Any]:
    start = START + timedelta(hours=hours)
    made = call(
        "POST",
        f"{API}/bookings",
        body={
            "resourceId": resource_id,
            "startTime": start.isoformat(),
            "endTime": (start + timedelta(minutes=minutes)).isoformat(),
        },
        user=customer,
        role="customer",
    )
    assert made.status == 201, made.body
    return dict(made.body)


def gsi3(resource_id: str) -> tuple[str | None, str | None]:
    item = aws.dynamodb().get_item(
        TableName=table_name(), Key={"PK": {"S": f"RESOURCE#{resource_id}"}, "SK": {"S": "RESOURCE"}}
    )["Item"]
    return item.get("GSI3PK", {}).get("S"), item.get("GSI3SK", {}).get("S")


@pytest.fixture
def directory(table: str) -> dict[str, str]:
    for advisor in ("adv-1", "adv-2", "adv-archived"):
        person(advisor)
    person("adv-pending", status="pending_approval")
    person("adv-suspended", status="suspended")
    person("cust-9", role="customer")
    place = venue()
    found = {
        "a1": resource(place, "adv-1", headline="Pensions, plainly", expertise="Tax, Pensions", languages="en, pt"),
        "a1b": resource(place, "adv-1", price=9000, granule=60, expertise="retirement", languages="en"),
        "a2": resource(place, "adv-2", price=3000, headline="Crypto", expertise="crypto", languages="de"),
        "pending": resource(place, "adv-pending"),
        "suspended": resource(place, "adv-suspended"),
        "customer": resource(place, "cust-9"),
        "archived": resource(place, "adv-archived"),
        "plain": resource(place, None),
    }
    assert call("DELETE", f"{API}/resources/{found['archived']}", **VENDOR).status == 204
    # Reviews of adv-1's sessions (the review transactions move these counters on each resource).
    for key, total, count in (("a1", 9, 2), ("a1b", 5, 1)):
        aws.dynamodb().update_item(
            TableName=table_name(),
            Key={"PK": {"S": f"RESOURCE#{found[key]}"}, "SK": {"S": "RESOURCE"}},
            UpdateExpression="ADD ratingSum :s, ratingCount :c",
            ExpressionAttributeValues={":s": {"N": str(total)}, ":c": {"N": str(count)}},
        )
    return found


def test_only_approved_advisors_with_an_active_resource_are_listed(directory: dict[str, str]) -> None:
    page = listed()
    assert ids(page) == ["adv-1", "adv-2"]
    first = page.body["advisors"][0]
    assert first["name"] == "Adv-1" and first["headline"] == "Pensions, plainly"
    # The union over their resources (in resource id order, so compared as sets here).
    assert sorted(first["expertise"]) == ["pensions", "retirement", "tax"]
    assert sorted(first["languages"]) == ["en", "pt"]
    assert first["price"] == {"currency": "EUR", "amount": 5000, "unitMinutes": 30}
    assert first["rating"] == {"average": 4.67, "count": 3}
    assert sorted(first["resourceIds"]) == sorted([directory["a1"], directory["a1b"]])
    slot = first["nextFreeSlot"]
    assert slot is not None and slot["resourceId"] in first["resourceIds"]
    assert datetime.fromisoformat(slot["startTime"]) >= datetime.now(UTC) - timedelta(minutes=1)
    assert page.body["advisors"][1]["rating"] == {"average": None, "count": 0}
    assert page.body["pagination"]["nextCursor"] is None
    one = call("GET", f"{API}/advisors/adv-2")
    assert one.status == 200 and one.body["headline"] == "Crypto"
    for hidden in ("adv-pending", "adv-suspended", "cust-9", "adv-archived", "nobody"):
        missing = call("GET", f"{API}/advisors/{hidden}")
        assert (missing.status, missing.code) == (404, "advisor_not_found"), hidden


def test_filters(directory: dict[str, str]) -> None:
    assert ids(listed(expertise="PENSIONS")) == ["adv-1"]
    assert ids(listed(expertise="retirement")) == ["adv-1"]
    assert ids(listed(language="de")) == ["adv-2"]
    assert ids(listed(language="fr")) == []
    assert ids(listed(maxPrice=4000)) == ["adv-2"]
    assert ids(listed(maxPrice=5000, currency="EUR")) == ["adv-1", "adv-2"]
    assert ids(listed(maxPrice=5000, currency="USD")) == []
    # adv-2's one resource is booked for the whole hour asked about; adv-1's are free.
    book(directory["a2"], 0)
    book(directory["a2"], 0.5)
    hour = {"availableFrom": START.isoformat(), "availableTo": (START + timedelta(hours=1)).isoformat()}
    assert ids(listed(**hour)) == ["adv-1"]
    later = {"availableFrom": START.isoformat(), "availableTo": (START + timedelta(hours=2)).isoformat()}
    assert ids(listed(**later)) == ["adv-1", "adv-2"]
    refused = call("GET", f"{API}/advisors", query={"availableFrom": START.isoformat()})
    assert (refused.status, refused.code) == (422, "incomplete_window")


def test_paging_returns_each_advisor_once(directory: dict[str, str]) -> None:
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = listed(limit=1, **({"cursor": cursor} if cursor else {}))
        seen += ids(page)
        cursor = page.body["pagination"]["nextCursor"]
        if cursor is None:
            break
    assert seen == ["adv-1", "adv-2"]
    bad = call("GET", f"{API}/advisors", query={"cursor": "forged.cursor"})
    assert (bad.status, bad.code) == (422, "invalid_cursor")


def test_every_resource_write_keeps_the_index_entry_right(directory: dict[str, str], table: str) -> None:
    moved = directory["a2"]
    assert gsi3(moved) == ("ADVISORS", f"adv-2#{moved}")
    current = call("GET", f"{API}/resources/{moved}", **VENDOR)
    place = current.body["venueId"]
    body = resource_body(place, "adv-1", price=3000, expertise="crypto")
    changed = call(
        "PUT", f"{API}/resources/{moved}", body=body, headers={"if-match": current.headers["etag"]}, **VENDOR
    )
    assert changed.status == 200, changed.body
    assert gsi3(moved) == ("ADVISORS", f"adv-1#{moved}")
    assert ids(listed()) == ["adv-1"]
    assert "crypto" in listed().body["advisors"][0]["expertise"]
    current = call("GET", f"{API}/resources/{moved}", **VENDOR)
    body = resource_body(place, None, price=3000)
    assert (
        call(
            "PUT", f"{API}/resources/{moved}", body=body, headers={"if-match": current.headers["etag"]}, **VENDOR
        ).status
        == 200
    )
    assert gsi3(moved) == (None, None)
    # Archiving keeps the entry (the advisor's past sessions stay listed for them); the directory drops them.
    for key in ("a1", "a1b"):
        assert call("DELETE", f"{API}/resources/{directory[key]}", **VENDOR).status == 204
        assert gsi3(directory[key])[0] == "ADVISORS"
    assert ids(listed()) == []


@pytest.mark.parametrize(
    "attributes",
    [
        {"advisorUserId": "adv 1"},
        {"advisorUserId": 7},
        {"headline": "x" * 201},
        {"expertise": ",".join(f"topic{n}" for n in range(21))},
        {"expertise": "x" * 41},
        {"languages": "english"},
        {"languages": 3},
    ],
)
def test_profile_attributes_are_validated(table: str, attributes: dict[str, Any]) -> None:
    body = resource_body(venue(), None, **attributes)
    refused = call("POST", f"{API}/resources", body=body, **VENDOR)
    assert refused.status == 422, refused.body


def test_an_advisor_lists_the_bookings_of_all_their_resources(directory: dict[str, str]) -> None:
    mine = [book(directory["a1"], h) for h in (0, 2, 4)] + [book(directory["a1b"], h, minutes=60) for h in (1, 3, 5)]
    theirs = [book(directory["a2"], h) for h in (0.5, 2.5)]
    advisor = {"user": "adv-1", "role": "advisor"}
    everything = call("GET", f"{API}/bookings", **advisor)
    assert everything.status == 200, everything.body
    by_start = [b["id"] for b in sorted(mine, key=lambda b: b["startTime"])]
    assert [b["id"] for b in everything.body["bookings"]] == by_start
    # Pages of two: each booking once, in start order, across both resources.
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = call("GET", f"{API}/bookings", query={"limit": 2, **({"cursor": cursor} if cursor else {})}, **advisor)
        assert page.status == 200, page.body
        seen += [b["id"] for b in page.body["bookings"]]
        cursor = page.body["pagination"]["nextCursor"]
        if cursor is None:
            break
    assert seen == by_start
    window = {
        "from": (START + timedelta(hours=1)).isoformat(),
        "to": (START + timedelta(hours=3, minutes=30)).isoformat(),
    }
    assert [b["id"] for b in call("GET", f"{API}/bookings", query=window, **advisor).body["bookings"]] == by_start[1:4]
    cancelled = call("POST", f"{API}/bookings/{mine[0]['id']}/cancel", body={}, user="cust-1", role="customer")
    assert cancelled.status == 200, cancelled.body
    only = call("GET", f"{API}/bookings", query={"status": "cancelled"}, **advisor).body["bookings"]
    assert [b["id"] for b in only] == [mine[0]["id"]]
    # Another advisor sees only theirs; the cursor of one advisor's listing is not another's.
    other = call("GET", f"{API}/bookings", user="adv-2", role="advisor").body["bookings"]
    assert [b["id"] for b in other] == [b["id"] for b in theirs]
    first = call("GET", f"{API}/bookings", query={"limit": 2}, **advisor).body["pagination"]["nextCursor"]
    stolen = call("GET", f"{API}/bookings", query={"cursor": first}, user="adv-2", role="advisor")
    assert (stolen.status, stolen.code) == (422, "invalid_cursor")


def test_the_demo_advisor_is_in_the_directory(table: str) -> None:
    from infra.local import demo_data

    demo_data.load()
    (found,) = listed(expertise="tax").body["advisors"]
    assert found["advisorId"] == "demo-advisor" and found["languages"] == ["en", "es"]
    assert found["price"] == {"currency": "USD", "amount": 7500, "unitMinutes": 30}
    assert call("GET", f"{API}/advisors/demo-advisor").status == 200
