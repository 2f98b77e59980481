"""Add-ons, guests and quotes through the real handlers (moto, single-threaded; stock races are judged on
DynamoDB Local in tests/integration/test_addon_stock.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from slotwise.catalog import repository
from slotwise.catalog.models import Resource, Venue
from tests.support.catalog import EPOCH, VENDOR, make_resource
from tests.support.http import ApiResponse, call

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # 09:00 in Lisbon (UTC+0 in March)


def item_count(table: str) -> int:
    return len(boto3.client("dynamodb").scan(TableName=table)["Items"])


def hall(**fields: Any) -> Resource:
    """A stored hall (and its venue) with the given extra fields (max_guests, min_guests, policy...)."""
    policy = fields.pop("policy", None)
    resource = make_resource(kind="hall", store=False, policy=policy).model_copy(update=fields)
    venue = Venue(
        id=resource.venue_id,
        owner_id=VENDOR,
        name="Venue",
        city="Lisbon",
        timezone=resource.timezone,
        created_at=EPOCH,
        updated_at=EPOCH,
    )
    repository.save_venue(venue)
    repository.create_resource(resource)
    return resource


def addon(resource_id: str, user: str = VENDOR, role: str = "vendor", **body: Any) -> ApiResponse:
    payload = {"name": "Projector", "price": 500, **body}
    return call("POST", f"/api/v1/resources/{resource_id}/addons", body=payload, user=user, role=role)


def book(resource_id: str, start: datetime = START, minutes: int = 60, user: str = "cust", **extra: Any) -> ApiResponse:
    body = {
        "resourceId": resource_id,
        "startTime": start.isoformat(),
        "endTime": (start + timedelta(minutes=minutes)).isoformat(),
        **extra,
    }
    return call("POST", "/api/v1/bookings", body=body, user=user, role="customer")


def quote(resource_id: str, start: datetime = START, minutes: int = 60, **extra: Any) -> ApiResponse:
    body = {
        "resourceId": resource_id,
        "startTime": start.isoformat(),
        "endTime": (start + timedelta(minutes=minutes)).isoformat(),
        **extra,
    }
    return call("POST", "/api/v1/quotes", body=body)


@pytest.fixture
def room(table: str) -> Resource:
    return hall(max_guests=30)


# ------------------------------------------------------------------------------------------------------ CRUD


def test_vendor_creates_lists_replaces_and_archives_an_addon(room: Resource) -> None:
    created = addon(room.id, description="HD, with screen", pricing="per_booking", stock=2, stockScope="per_day")
    assert created.status == 201, created.body
    body = created.body
    assert created.headers["location"] == f"/api/v1/resources/{room.id}/addons/{body['id']}"
    assert body | {"id": "x", "createdAt": "x", "updatedAt": "x"} == {
        "id": "x",
        "resourceId": room.id,
        "name": "Projector",
        "description": "HD, with screen",
        "price": 500,
        "currency": "EUR",
        "pricing": "per_booking",
        "stock": 2,
        "stockScope": "per_day",
        "status": "active",
        "createdAt": "x",
        "updatedAt": "x",
        "version": 1,
    }
    listed = call("GET", f"/api/v1/resources/{room.id}/addons")  # anonymous: public, like the resource
    assert listed.status == 200 and [a["id"] for a in listed.body["addons"]] == [body["id"]]

    path = f"/api/v1/resources/{room.id}/addons/{body['id']}"
    replaced = call("PUT", path, body={"name": "Beamer", "price": 700}, user=VENDOR, role="vendor")
    assert replaced.status == 200
    assert replaced.body["name"] == "Beamer" and replaced.body["stock"] is None and replaced.body["version"] == 2

    assert call("DELETE", path, user=VENDOR, role="vendor").status == 204
    assert call("GET", f"/api/v1/resources/{room.id}/addons").body["addons"] == []
    mine = call("GET", f"/api/v1/resources/{room.id}/addons", user=VENDOR, role="vendor").body["addons"]
    assert [(a["id"], a["status"]) for a in mine] == [(body["id"], "archived")]
    assert call("DELETE", path, user="boss", role="admin").status == 204  # archiving twice is a no-op


def test_stock_scope_defaults_to_per_day_and_needs_stock(room: Resource) -> None:
    assert addon(room.id, stock=3).body["stockScope"] == "per_day"
    refused = addon(room.id, stockScope="per_slot")
    assert refused.status == 422 and refused.code == "validation_failed"


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"price": -1}, "price"),
        ({"price": "5"}, "price"),
        ({"name": ""}, "name"),
        ({"stock": -1}, "stock"),
        ({"pricing": "per_hour"}, "pricing"),
        ({"status": "archived"}, "status"),  # mass assignment: the status changes only by DELETE
        ({"currency": "USD"}, "currency"),  # the resource's currency, never the client's
        ({"resourceId": "elsewhere"}, "resourceId"),
    ],
)
def test_bad_addon_bodies_are_problems_and_write_nothing(
    table: str, room: Resource, body: dict[str, Any], where: str
) -> None:
    before = item_count(table)
    response = addon(room.id, **body)
    assert response.status == 422, (where, response.body)
    assert response.headers["content-type"] == "application/problem+json"
    assert item_count(table) == before


def test_only_the_resources_manager_writes_its_addons(table: str, room: Resource) -> None:
    existing = addon(room.id).body
    path = f"/api/v1/resources/{room.id}/addons"
    before = item_count(table)
    for method, suffix, body in [
        ("POST", "", {"name": "x", "price": 1}),
        ("PUT", f"/{existing['id']}", {"name": "x", "price": 1}),
        ("DELETE", f"/{existing['id']}", None),
    ]:
        other = call(method, path + suffix, body=body, user="vendor-2", role="vendor")
        assert other.status == 404 and other.code == "resource_not_found", (method, other.body)
        customer = call(method, path + suffix, body=body, user="cust", role="customer")
        assert customer.status == 403, (method, customer.body)
        anonymous = call(method, path + suffix, body=body)
        assert anonymous.status == 401, (method, anonymous.body)
    assert item_count(table) == before
    staff = call("POST", path, body={"name": "Admin's", "price": 1}, user="boss", role="admin")
    assert staff.status == 201


def test_an_addon_of_another_resource_is_missing(room: Resource) -> None:
    other = hall()
    foreign = addon(other.id).body
    response = call(
        "PUT",
        f"/api/v1/resources/{room.id}/addons/{foreign['id']}",
        body={"name": "x", "price": 1},
        user=VENDOR,
        role="vendor",
    )
    assert response.status == 404 and response.code == "addon_not_found"


def test_an_archived_resource_hides_its_addons(room: Resource) -> None:
    addon(room.id)
    assert call("DELETE", f"/api/v1/resources/{room.id}", user=VENDOR, role="vendor").status == 204
    assert call("GET", f"/api/v1/resources/{room.id}/addons").status == 404
    assert call("GET", f"/api/v1/resources/{room.id}/addons", user=VENDOR, role="vendor").status == 200


# ---------------------------------------------------------------------------------------------- booking lines


def test_booking_lines_price_each_pricing_and_the_total_includes_them(room: Resource) -> None:
    per_booking = addon(room.id, name="Cleaning", price=2500, pricing="per_booking").body
    per_unit = addon(room.id, name="Projector", price=300, pricing="per_unit").body
    per_guest = addon(room.id, name="Coffee", price=150, pricing="per_guest").body
    made = book(
        room.id,
        minutes=90,
        guests=20,
        addons=[
            {"addonId": per_booking["id"], "quantity": 1},
            {"addonId": per_unit["id"], "quantity": 2},
            {"addonId": per_guest["id"], "quantity": 1},
        ],
    )
    assert made.status == 201, made.body
    price = made.body["price"]
    lines = {line["description"]: line for line in price["lines"]}
    # 90 minutes = 3 granules of 30 at 1000 each.
    assert lines["Standard rate"] | {"addonId": None} == {
        "description": "Standard rate",
        "unitPrice": 1000,
        "units": 3,
        "amount": 3000,
        "addonId": None,
    }
    assert lines["Cleaning"] == {
        "description": "Cleaning",
        "unitPrice": 2500,
        "units": 1,
        "amount": 2500,
        "addonId": per_booking["id"],
    }
    assert lines["Projector"] == {
        "description": "Projector",
        "unitPrice": 300,
        "units": 6,
        "amount": 1800,
        "addonId": per_unit["id"],
    }
    assert lines["Coffee"] == {
        "description": "Coffee",
        "unitPrice": 150,
        "units": 20,
        "amount": 3000,
        "addonId": per_guest["id"],
    }
    assert price["amount"] == 3000 + 2500 + 1800 + 3000
    assert [(a["addonId"], a["quantity"]) for a in made.body["addons"]] == [
        (per_booking["id"], 1),
        (per_unit["id"], 2),
        (per_guest["id"], 1),
    ]
    assert "stockClaims" not in made.body and "lockKeys" not in made.body


def test_editing_or_archiving_an_addon_leaves_booked_lines_alone(room: Resource) -> None:
    coffee = addon(room.id, name="Coffee", price=150, pricing="per_booking").body
    made = book(room.id, addons=[{"addonId": coffee["id"], "quantity": 2}]).body
    path = f"/api/v1/resources/{room.id}/addons/{coffee['id']}"
    call("PUT", path, body={"name": "Tea", "price": 999}, user=VENDOR, role="vendor")
    call("DELETE", path, user=VENDOR, role="vendor")
    again = call("GET", f"/api/v1/bookings/{made['id']}", user="cust").body
    assert again["price"] == made["price"] and again["addons"][0]["name"] == "Coffee"


@pytest.mark.parametrize(
    "case",
    [
        "quantity 0",
        "above stock",
        "unknown",
        "of another resource",
        "archived",
        "duplicate",
        "per guest without guests",
    ],
)
def test_bad_addon_requests_are_422_and_write_nothing(table: str, room: Resource, case: str) -> None:
    stocked = addon(room.id, stock=2).body
    archived = addon(room.id, name="Old").body
    call("DELETE", f"/api/v1/resources/{room.id}/addons/{archived['id']}", user=VENDOR, role="vendor")
    foreign = addon(hall().id).body
    per_guest = addon(room.id, name="Lunch", pricing="per_guest").body
    requested, code = {
        "quantity 0": ([{"addonId": stocked["id"], "quantity": 0}], "validation_failed"),
        "above stock": ([{"addonId": stocked["id"], "quantity": 3}], "addon_quantity_above_stock"),
        "unknown": ([{"addonId": "no-such-addon", "quantity": 1}], "addon_not_found"),
        "of another resource": ([{"addonId": foreign["id"], "quantity": 1}], "addon_not_found"),
        "archived": ([{"addonId": archived["id"], "quantity": 1}], "addon_archived"),
        "duplicate": ([{"addonId": stocked["id"], "quantity": 1}] * 2, "validation_failed"),
        "per guest without guests": ([{"addonId": per_guest["id"], "quantity": 1}], "guests_required"),
    }[case]
    before = item_count(table)
    response = book(room.id, addons=requested)
    assert response.status == 422 and response.code == code, response.body
    assert response.headers["content-type"] == "application/problem+json"
    assert item_count(table) == before
    quoted = quote(room.id, addons=requested)
    assert quoted.status == 422 and quoted.code == code


def test_stock_sold_out_is_409_and_cancel_gives_it_back(room: Resource) -> None:
    projector = addon(room.id, stock=1, stockScope="per_day").body
    wanted = [{"addonId": projector["id"], "quantity": 1}]
    first = book(room.id, addons=wanted).body
    later_same_day = book(room.id, start=START + timedelta(hours=3), addons=wanted, user="other")
    assert later_same_day.status == 409 and later_same_day.code == "addon_unavailable"
    assert later_same_day.body["conflicts"] == [{"addonId": projector["id"], "date": "2027-03-01", "available": 0}]
    assert "on 2027-03-01" in later_same_day.body["detail"] and "#" not in later_same_day.body["detail"]
    assert book(room.id, start=START + timedelta(days=1), addons=wanted, user="other").status == 201
    assert call("POST", f"/api/v1/bookings/{first['id']}/cancel", body={}, user="cust").status == 200
    assert book(room.id, start=START + timedelta(hours=3), addons=wanted, user="other").status == 201


# ---------------------------------------------------------------------------------------------------- guests


def test_guests_above_max_or_below_min_are_refused(table: str) -> None:
    studio = hall(max_guests=30, min_guests=10)
    before = item_count(table)
    too_many = book(studio.id, guests=1000)
    assert too_many.status == 422 and too_many.code == "too_many_guests"
    too_few = book(studio.id, guests=2)
    assert too_few.status == 422 and too_few.code == "too_few_guests"
    assert book(studio.id).code == "too_few_guests"  # a minimum needs the guests named
    assert item_count(table) == before
    made = book(studio.id, guests=30)
    assert made.status == 201
    path = f"/api/v1/bookings/{made.body['id']}"
    changed = call("PUT", path, body={"guests": 31}, user="cust")
    assert changed.status == 422 and changed.code == "too_many_guests"
    assert call("PUT", path, body={"guests": 12}, user="cust").body["guests"] == 12


def test_guests_of_a_booking_priced_per_guest_are_fixed(room: Resource) -> None:
    lunch = addon(room.id, name="Lunch", price=1500, pricing="per_guest").body
    made = book(room.id, guests=10, addons=[{"addonId": lunch["id"], "quantity": 1}]).body
    changed = call("PUT", f"/api/v1/bookings/{made['id']}", body={"guests": 12}, user="cust")
    assert changed.status == 422 and changed.code == "guests_priced"
    assert call("PUT", f"/api/v1/bookings/{made['id']}", body={"title": "Lunch"}, user="cust").status == 200


def test_resource_guest_bounds_are_validated_and_searchable(table: str) -> None:
    venue = call(
        "POST",
        "/api/v1/venues",
        body={"name": "V", "city": "Porto", "timezone": "Europe/Lisbon"},
        user=VENDOR,
        role="vendor",
    ).body
    base = {"venueId": venue["id"], "type": "hall", "pricing": {"currency": "EUR", "unitPrice": 100}}
    bad = call(
        "POST",
        "/api/v1/resources",
        body={**base, "name": "Bad", "maxGuests": 10, "minGuests": 20},
        user=VENDOR,
        role="vendor",
    )
    assert bad.status == 422
    assert (
        call(
            "POST", "/api/v1/resources", body={**base, "name": "Zero", "maxGuests": 0}, user=VENDOR, role="vendor"
        ).status
        == 422
    )
    small = call(
        "POST", "/api/v1/resources", body={**base, "name": "Studio", "maxGuests": 30}, user=VENDOR, role="vendor"
    ).body
    big = call(
        "POST",
        "/api/v1/resources",
        body={**base, "name": "Ballroom", "maxGuests": 400, "minGuests": 50},
        user=VENDOR,
        role="vendor",
    ).body
    open_ended = call("POST", "/api/v1/resources", body={**base, "name": "Field"}, user=VENDOR, role="vendor").body
    assert small["maxGuests"] == 30 and small["minGuests"] is None and small["capacity"] == 1

    def names(**query: str) -> set[str]:
        found = call("GET", "/api/v1/resources", query={"city": "porto", **query})
        assert found.status == 200, found.body
        return {r["name"] for r in found.body["resources"]}

    assert names(minGuests="20") == {"Studio", "Field"}  # the ballroom wants at least 50
    assert names(minGuests="100") == {"Ballroom", "Field"}
    assert names(minGuests="500") == {"Field"}
    paged: list[str] = []
    for page in ("1", "2", "3"):
        paged += names(minGuests="100", type="hall", venueId=venue["id"], limit="1", page=page)
    assert sorted(paged) == ["Ballroom", "Field"]  # combined with the other filters, paged by number
    assert call("GET", "/api/v1/resources", query={"minGuests": "0"}).status == 422
    assert big["id"] and open_ended["id"]


# ----------------------------------------------------------------------------------------------------- quotes


def test_an_anonymous_quote_prices_terms_and_availability(room: Resource) -> None:
    projector = addon(room.id, name="Projector", price=300, pricing="per_unit", stock=1).body
    wanted = [{"addonId": projector["id"], "quantity": 1}]
    summer = datetime(2027, 7, 1, 17, 0, tzinfo=UTC)  # 18:00 in Lisbon (UTC+1)
    quoted = quote(room.id, start=summer, minutes=60, guests=12, addons=wanted)
    assert quoted.status == 200, quoted.body
    body = quoted.body
    assert body["available"] is True and body["reasons"] == []
    assert body["total"] == body["price"]["amount"] == 2 * 1000 + 2 * 300
    assert body["currency"] == "EUR" and body["startTime"] == "2027-07-01T18:00:00+01:00"
    assert [(d["minHoursBefore"], d["refundPercent"], d["deadline"]) for d in body["cancellation"]["deadlines"]] == [
        (168, 100, "2027-06-24T18:00:00+01:00"),
        (48, 50, "2027-06-29T18:00:00+01:00"),
        (24, 25, "2027-06-30T18:00:00+01:00"),
    ]
    assert body["cancellation"]["refundPercentAfter"] == 0

    made = book(room.id, start=summer, guests=12, addons=wanted)
    assert made.status == 201 and made.body["price"] == body["price"]
    again = quote(room.id, start=summer, guests=12, addons=wanted).body
    assert again["available"] is False
    assert [r["code"] for r in again["reasons"]] == ["slot_unavailable", "addon_unavailable"]
    other_slot = quote(room.id, start=summer + timedelta(hours=2), guests=12, addons=wanted).body
    assert other_slot["available"] is False and [r["code"] for r in other_slot["reasons"]] == ["addon_unavailable"]
    assert quote(room.id, start=summer + timedelta(hours=2), guests=12).body["available"] is True
    crowd = quote(room.id, start=summer + timedelta(hours=2), guests=31).body
    assert crowd["available"] is False and crowd["reasons"][0]["code"] == "too_many_guests"


def test_a_quote_of_an_unseen_resource_is_404_and_a_broken_policy_a_reason(room: Resource) -> None:
    assert quote("no-such-resource").status == 404
    misaligned = quote(room.id, start=START + timedelta(minutes=7))
    assert misaligned.status == 200 and misaligned.body["available"] is False
    assert [r["code"] for r in misaligned.body["reasons"]] == ["misaligned"]
    assert call("POST", "/api/v1/quotes", body={"resourceId": room.id, "checkIn": "2027-03-01"}).status == 422
    assert call("POST", "/api/v1/quotes", body={"resourceId": room.id, "quantity": 0}).status == 422


def recurring(resource_id: str, start: datetime, rule: str, minutes: int = 60, **extra: Any) -> ApiResponse:
    body = {
        "resourceId": resource_id,
        "startTime": start.isoformat(),
        "endTime": (start + timedelta(minutes=minutes)).isoformat(),
        "recurrenceRule": rule,
        **extra,
    }
    return call("POST", "/api/v1/bookings/recurring", body=body, user="cust", role="customer")


def test_a_recurring_booking_checks_guests_and_claims_each_occurrences_addons(table: str, room: Resource) -> None:
    projector = addon(room.id, stock=1).body
    wanted = [{"addonId": projector["id"], "quantity": 1}]
    before = item_count(table)
    crowd = recurring(room.id, START, "FREQ=WEEKLY;COUNT=2", guests=31)
    assert crowd.status == 422 and crowd.code == "too_many_guests"
    assert recurring(room.id, START, "FREQ=WEEKLY;COUNT=2", addons=[{**wanted[0], "quantity": 2}]).code == (
        "addon_quantity_above_stock"
    )
    assert item_count(table) == before

    made = recurring(room.id, START, "FREQ=WEEKLY;COUNT=2", guests=30, addons=wanted)
    assert made.status == 201, made.body
    assert [[line["addonId"] for line in b["price"]["lines"] if line["addonId"]] for b in made.body["created"]] == [
        [projector["id"]],
        [projector["id"]],
    ]
    # The same days, other hours: the projector is taken on both.
    afternoon = START + timedelta(hours=5)
    before = item_count(table)
    refused = recurring(room.id, afternoon, "FREQ=WEEKLY;COUNT=2", addons=wanted)
    assert refused.status == 409 and refused.code == "addon_unavailable"
    assert item_count(table) == before  # all or nothing: what was claimed is rolled back
    skipping = recurring(room.id, afternoon, "FREQ=WEEKLY;COUNT=3", addons=wanted, mode="skip_conflicts")
    assert skipping.status == 201, skipping.body
    assert len(skipping.body["created"]) == 1
    assert [c["reasons"][0]["code"] for c in skipping.body["conflicts"]] == ["addon_unavailable"] * 2


def test_a_series_whose_occurrences_share_a_day_cannot_share_per_day_stock(table: str, room: Resource) -> None:
    projector = addon(room.id, stock=3).body
    late = START + timedelta(hours=13)  # 22:00-02:00 every day: each occurrence touches two days
    before = item_count(table)
    refused = recurring(
        room.id, late, "FREQ=DAILY;COUNT=2", minutes=240, addons=[{"addonId": projector["id"], "quantity": 1}]
    )
    assert refused.status == 422 and refused.code == "addon_stock_shared", refused.body
    assert item_count(table) == before


def test_the_demo_hall_seats_guests_and_sells_addons(table: str) -> None:
    from infra.local import demo_data

    demo_data.load()
    halls = call("GET", "/api/v1/resources", query={"type": "hall", "minGuests": "300"}).body["resources"]
    lotus = next(r for r in halls if r["name"] == "Lotus Hall")
    assert (lotus["maxGuests"], lotus["minGuests"], lotus["capacity"]) == (400, 50, 1)
    extras = call("GET", f"/api/v1/resources/{lotus['id']}/addons").body["addons"]
    assert {a["name"]: (a["pricing"], a["stock"]) for a in extras}["Projector and screen"] == ("per_booking", 2)
    assert all(a["currency"] == "INR" for a in extras)


def test_a_booking_over_the_transaction_budget_is_422_before_any_write(table: str) -> None:
    """32 slots of 15 minutes plus 3 per-slot stocked add-ons (96 stock items) cannot fit in 100 items."""
    long_hall = hall(policy={"granuleMinutes": 15, "maxUnits": 100})
    wanted = [
        {"addonId": addon(long_hall.id, name=f"Kit {n}", stock=5, stockScope="per_slot").body["id"], "quantity": 1}
        for n in range(3)
    ]
    before = item_count(table)
    refused = book(long_hall.id, minutes=8 * 60, addons=wanted)
    assert refused.status == 422 and refused.code == "too_many_items", refused.body
    assert item_count(table) == before
    assert book(long_hall.id, minutes=8 * 60, addons=wanted[:1]).status == 201  # 32 + 32 items fit
