"""The catalog endpoints through their real handler and the route table (moto; conditions are judged on DynamoDB
Local in tests/integration/test_catalog_conditions.py)."""

from __future__ import annotations

from typing import Any

import pytest

from slotwise.catalog import repository
from tests.support.http import ApiResponse, call

VENDOR = "vendor-a"
OTHER = "vendor-b"
VENUES = "/api/v1/venues"
RESOURCES = "/api/v1/resources"


def api(method: str, path: str, **kwargs: Any) -> ApiResponse:
    """`call`, plus the media-type rule every catalog answer keeps: JSON, or problem+json with a code."""
    response = call(method, path, **kwargs)
    content_type = response.headers.get("content-type", "")
    if response.status >= 400:
        assert content_type == "application/problem+json", (response.status, content_type)
        assert response.code and response.body["status"] == response.status
    elif response.status == 204:
        assert response.body in ("", None)
    else:
        assert content_type.startswith("application/json"), content_type
    return response


def as_vendor(method: str, path: str, user: str = VENDOR, **kwargs: Any) -> ApiResponse:
    return api(method, path, user=user, role="vendor", **kwargs)


def venue_body(**changes: Any) -> dict[str, Any]:
    return {"name": "Harbour Hostel", "city": "Lisbon", "country": "PT", "timezone": "Europe/Lisbon", **changes}


def resource_body(venue_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "venueId": venue_id,
        "name": "Room 1",
        "type": "meeting_room",
        "capacity": 4,
        "amenities": ["wifi"],
        "policy": {"unit": "minutes", "granuleMinutes": 30},
        "pricing": {"currency": "EUR", "unitPrice": 1500},
        **changes,
    }


def new_venue(user: str = VENDOR, **changes: Any) -> dict[str, Any]:
    created = as_vendor("POST", VENUES, user=user, body=venue_body(**changes))
    assert created.status == 201, created.body
    return dict(created.body)


def new_resource(venue_id: str, user: str = VENDOR, **changes: Any) -> dict[str, Any]:
    created = as_vendor("POST", RESOURCES, user=user, body=resource_body(venue_id, **changes))
    assert created.status == 201, created.body
    return dict(created.body)


def ids(response: ApiResponse, key: str = "resources") -> list[str]:
    assert response.status == 200, response.body
    return [item["id"] for item in response.body[key]]


@pytest.fixture
def venue(table: str) -> dict[str, Any]:
    return new_venue()


# --- venues -------------------------------------------------------------------------------------------------------


def test_venue_round_trip(venue: dict[str, Any]) -> None:
    assert venue["ownerId"] == VENDOR and venue["version"] == 1 and venue["activeResources"] == 0
    assert {"createdAt", "updatedAt", "timezone"} <= venue.keys()
    path = f"{VENUES}/{venue['id']}"

    got = api("GET", path)
    assert got.status == 200 and got.headers["etag"] == '"1"' and got.body == venue

    changed = as_vendor("PUT", path, body=venue_body(name="Harbour House", amenities=["wifi"]))
    assert changed.status == 200 and changed.headers["etag"] == '"2"'
    assert changed.body["name"] == "Harbour House" and changed.body["amenities"] == ["wifi"]
    assert changed.body["createdAt"] == venue["createdAt"] and changed.body["ownerId"] == VENDOR
    assert api("GET", path).body["version"] == 2

    assert as_vendor("DELETE", path).status == 204
    gone = api("GET", path)
    assert gone.status == 404 and gone.code == "venue_not_found"


def test_create_venue_answers_location_and_etag(table: str) -> None:
    created = as_vendor("POST", VENUES, body=venue_body())
    assert created.headers["location"] == f"{VENUES}/{created.body['id']}"
    assert created.headers["etag"] == '"1"'


def test_put_may_omit_or_repeat_the_timezone_but_not_change_it(venue: dict[str, Any]) -> None:
    path = f"{VENUES}/{venue['id']}"
    without = venue_body()
    del without["timezone"]
    assert as_vendor("PUT", path, body=without).status == 200
    assert as_vendor("PUT", path, body=venue_body()).status == 200
    moved = as_vendor("PUT", path, body=venue_body(timezone="Europe/Madrid"))
    assert moved.status == 422 and moved.code == "immutable_field" and moved.body["field"] == "timezone"


def test_invalid_timezone_is_422(table: str) -> None:
    bad = as_vendor("POST", VENUES, body=venue_body(timezone="Mars/Olympus"))
    assert bad.status == 422 and bad.code == "validation_failed"
    assert ["body", "timezone"] in [err["location"] for err in bad.body["errors"]]


def test_list_venues_by_city_ignores_case_and_mine_lists_own(table: str) -> None:
    lisbon = new_venue(name="A", city="Lisbon")
    porto = new_venue(name="B", city="Porto")
    other = new_venue(user=OTHER, name="C", city="lisbon")
    assert set(ids(api("GET", VENUES, query={"city": "LISBON"}), "venues")) == {lisbon["id"], other["id"]}
    assert set(ids(api("GET", VENUES), "venues")) == {lisbon["id"], porto["id"], other["id"]}
    mine = as_vendor("GET", VENUES, query={"mine": "true"})
    assert set(ids(mine, "venues")) == {lisbon["id"], porto["id"]}
    assert ids(as_vendor("GET", VENUES, query={"mine": "true", "city": "porto"}), "venues") == [porto["id"]]
    assert mine.body["pagination"] == {"limit": 20, "nextCursor": None}
    assert api("GET", VENUES, query={"mine": "true"}).status == 401


def test_venue_list_pages_with_a_cursor(table: str) -> None:
    made = {new_venue(name=f"V{i}")["id"] for i in range(5)}
    first = api("GET", VENUES, query={"limit": 3})
    rest = api("GET", VENUES, query={"limit": 3, "cursor": first.body["pagination"]["nextCursor"]})
    assert rest.body["pagination"]["nextCursor"] is None
    assert set(ids(first, "venues")) | set(ids(rest, "venues")) == made and len(ids(rest, "venues")) == 2


def test_admin_may_change_any_venue(venue: dict[str, Any]) -> None:
    changed = api("PUT", f"{VENUES}/{venue['id']}", body=venue_body(name="Fixed"), user="root", role="admin")
    assert changed.status == 200 and changed.body["ownerId"] == VENDOR


def test_city_change_reaches_the_venues_resources(venue: dict[str, Any]) -> None:
    room = new_resource(venue["id"])
    assert as_vendor("PUT", f"{VENUES}/{venue['id']}", body=venue_body(city="Porto")).status == 200
    moved = api("GET", f"{RESOURCES}/{room['id']}")
    assert moved.body["city"] == "Porto" and moved.body["version"] == 2
    assert ids(api("GET", RESOURCES, query={"city": "porto"})) == [room["id"]]
    assert ids(api("GET", VENUES, query={"city": "porto"}), "venues") == [venue["id"]]
    assert ids(api("GET", VENUES, query={"city": "lisbon"}), "venues") == []


def test_venue_delete_is_refused_while_it_has_active_resources(venue: dict[str, Any]) -> None:
    room = new_resource(venue["id"])
    path = f"{VENUES}/{venue['id']}"
    assert api("GET", path).body["activeResources"] == 1
    refused = as_vendor("DELETE", path)
    assert refused.status == 409 and refused.code == "venue_has_resources"
    assert as_vendor("DELETE", f"{RESOURCES}/{room['id']}").status == 204
    assert api("GET", path).body["activeResources"] == 0
    assert as_vendor("DELETE", path).status == 204


# --- resources ----------------------------------------------------------------------------------------------------


def test_resource_round_trip(venue: dict[str, Any]) -> None:
    created = as_vendor("POST", RESOURCES, body=resource_body(venue["id"]))
    assert created.status == 201 and created.headers["location"] == f"{RESOURCES}/{created.body['id']}"
    room = created.body
    assert room["ownerId"] == VENDOR and room["timezone"] == "Europe/Lisbon" and room["city"] == "Lisbon"
    assert room["policy"]["granuleMinutes"] == 30 and room["version"] == 1
    path = f"{RESOURCES}/{room['id']}"

    got = api("GET", path)
    assert got.status == 200 and got.headers["etag"] == '"1"' and got.body == room

    replaced = as_vendor("PUT", path, body=resource_body(venue["id"], name="Boardroom", capacity=10))
    assert replaced.status == 200 and replaced.headers["etag"] == '"2"'
    assert (replaced.body["name"], replaced.body["capacity"], replaced.body["amenities"]) == ("Boardroom", 10, ["wifi"])
    assert replaced.body["createdAt"] == room["createdAt"]

    assert as_vendor("DELETE", path).status == 204
    assert api("GET", path).status == 404
    archived = as_vendor("GET", path)
    assert archived.status == 200 and archived.body["active"] is False and archived.body["version"] == 3
    assert as_vendor("DELETE", path).status == 204  # archiving twice changes nothing
    assert repository.get_resource(room["id"]) is not None  # kept for the bookings that refer to it


def test_put_without_venue_id_and_revival(venue: dict[str, Any]) -> None:
    room = new_resource(venue["id"])
    path = f"{RESOURCES}/{room['id']}"
    assert as_vendor("DELETE", path).status == 204
    body = resource_body(venue["id"], active=True)
    del body["venueId"]
    revived = as_vendor("PUT", path, body=body)
    assert revived.status == 200 and revived.body["active"] is True
    assert api("GET", f"{VENUES}/{venue['id']}").body["activeResources"] == 1


def test_immutable_resource_fields(venue: dict[str, Any]) -> None:
    room = new_resource(venue["id"])
    elsewhere = new_venue(name="Second")
    path = f"{RESOURCES}/{room['id']}"
    cases = {
        "venueId": resource_body(elsewhere["id"]),
        "policy.unit": resource_body(venue["id"], policy={"unit": "night"}),
        "policy.granuleMinutes": resource_body(venue["id"], policy={"unit": "minutes", "granuleMinutes": 15}),
    }
    for field, body in cases.items():
        refused = as_vendor("PUT", path, body=body)
        assert (refused.status, refused.code, refused.body["field"]) == (422, "immutable_field", field)
    assert api("GET", path).body["version"] == 1


def test_if_match_guards_replacement(venue: dict[str, Any]) -> None:
    room = new_resource(venue["id"])
    path = f"{RESOURCES}/{room['id']}"
    body = resource_body(venue["id"], name="First")
    assert as_vendor("PUT", path, body=body, headers={"If-Match": '"1"'}).status == 200
    stale = as_vendor("PUT", path, body=resource_body(venue["id"], name="Stale"), headers={"If-Match": '"1"'})
    assert stale.status == 409 and stale.code == "version_conflict" and stale.body["currentETag"] == '"2"'
    assert as_vendor("PUT", path, body=body, headers={"If-Match": 'W/"2"'}).status == 200
    assert as_vendor("PUT", path, body=body, headers={"If-Match": "*"}).status == 200
    assert api("GET", path).body["name"] == "First"

    venue_path = f"{VENUES}/{venue['id']}"
    current = api("GET", venue_path).headers["etag"]
    assert as_vendor("PUT", venue_path, body=venue_body(), headers={"If-Match": '"999"'}).code == "version_conflict"
    assert as_vendor("PUT", venue_path, body=venue_body(), headers={"If-Match": current}).status == 200


@pytest.mark.parametrize(
    ("path", "field"),
    [(VENUES, "id"), (VENUES, "ownerId"), (VENUES, "version"), (VENUES, "createdAt"), (VENUES, "activeResources")],
)
def test_clients_cannot_set_server_fields_on_venues(table: str, path: str, field: str) -> None:
    refused = as_vendor("POST", path, body=venue_body(**{field: "x"}))
    assert refused.status == 422 and refused.code == "validation_failed"
    assert ["body", field] in [err["location"] for err in refused.body["errors"]]


@pytest.mark.parametrize("field", ["id", "ownerId", "version", "createdAt", "timezone", "city"])
def test_clients_cannot_set_server_fields_on_resources(venue: dict[str, Any], field: str) -> None:
    refused = as_vendor("POST", RESOURCES, body=resource_body(venue["id"], **{field: "x"}))
    assert refused.status == 422 and ["body", field] in [err["location"] for err in refused.body["errors"]]
    room = new_resource(venue["id"])
    refused = as_vendor("PUT", f"{RESOURCES}/{room['id']}", body=resource_body(venue["id"], **{field: "x"}))
    assert refused.status == 422 and ["body", field] in [err["location"] for err in refused.body["errors"]]


def test_unknown_ids_are_404_with_codes(table: str) -> None:
    assert api("GET", f"{VENUES}/nope").code == "venue_not_found"
    assert api("GET", f"{RESOURCES}/nope").code == "resource_not_found"
    assert as_vendor("PUT", f"{VENUES}/nope", body=venue_body()).code == "venue_not_found"
    assert as_vendor("DELETE", f"{RESOURCES}/nope").code == "resource_not_found"
    missing = as_vendor("POST", RESOURCES, body=resource_body("nope"))
    assert missing.status == 404 and missing.code == "venue_not_found"


def test_foreign_vendor_sees_someone_elses_things_as_missing(venue: dict[str, Any]) -> None:
    room = new_resource(venue["id"])
    hidden = new_resource(venue["id"], name="Archived")
    assert as_vendor("DELETE", f"{RESOURCES}/{hidden['id']}").status == 204
    venue_path, room_path = f"{VENUES}/{venue['id']}", f"{RESOURCES}/{room['id']}"

    for response, code in [
        (as_vendor("GET", f"{RESOURCES}/{hidden['id']}", user=OTHER), "resource_not_found"),
        (as_vendor("PUT", venue_path, user=OTHER, body=venue_body(name="Mine")), "venue_not_found"),
        (as_vendor("DELETE", venue_path, user=OTHER), "venue_not_found"),
        (as_vendor("PUT", room_path, user=OTHER, body=resource_body(venue["id"])), "resource_not_found"),
        (as_vendor("DELETE", room_path, user=OTHER), "resource_not_found"),
        (as_vendor("POST", RESOURCES, user=OTHER, body=resource_body(venue["id"])), "venue_not_found"),
    ]:
        assert (response.status, response.code) == (404, code)
    assert api("GET", room_path).body["version"] == 1 and api("GET", venue_path).body["name"] == "Harbour Hostel"
    assert hidden["id"] not in ids(as_vendor("GET", RESOURCES, user=OTHER, query={"venueId": venue["id"]}))
    assert hidden["id"] in ids(as_vendor("GET", RESOURCES, query={"venueId": venue["id"]}))
    assert hidden["id"] in ids(api("GET", RESOURCES, user="root", role="admin", query={"venueId": venue["id"]}))


@pytest.mark.parametrize(
    ("user", "role", "status", "code"),
    [
        (None, None, 401, "authentication_required"),
        ("c-1", "customer", 403, "permission_denied"),
        ("a-1", "agent", 403, "permission_denied"),
        ("d-1", "advisor", 403, "permission_denied"),
    ],
)
def test_only_catalog_roles_write(
    venue: dict[str, Any], user: str | None, role: str | None, status: int, code: str
) -> None:
    room = new_resource(venue["id"])
    writes = [
        ("POST", VENUES, venue_body()),
        ("PUT", f"{VENUES}/{venue['id']}", venue_body()),
        ("DELETE", f"{VENUES}/{venue['id']}", None),
        ("POST", RESOURCES, resource_body(venue["id"])),
        ("PUT", f"{RESOURCES}/{room['id']}", resource_body(venue["id"])),
        ("DELETE", f"{RESOURCES}/{room['id']}", None),
    ]
    for method, path, body in writes:
        response = api(method, path, body=body, user=user, role=role)
        assert (response.status, response.code) == (status, code), (method, path)
    assert api("GET", f"{RESOURCES}/{room['id']}", user=user, role=role).status == 200


def test_staff_and_admin_write(table: str) -> None:
    for user, role in [("s-1", "staff"), ("root", "admin")]:
        created = api("POST", VENUES, body=venue_body(), user=user, role=role)
        assert created.status == 201 and created.body["ownerId"] == user


# --- listing resources --------------------------------------------------------------------------------------------


def test_filters(table: str) -> None:
    lisbon, porto = new_venue(city="Lisbon"), new_venue(city="Porto")
    small = new_resource(lisbon["id"], capacity=2, amenities=["wifi"])
    big = new_resource(lisbon["id"], capacity=12, amenities=["wifi", "projector"])
    desk = new_resource(porto["id"], type="desk", capacity=1, amenities=["projector"])
    archived = new_resource(porto["id"], capacity=50, amenities=["wifi", "projector"])
    assert as_vendor("DELETE", f"{RESOURCES}/{archived['id']}").status == 204

    def find(**query: Any) -> set[str]:
        return set(ids(api("GET", RESOURCES, query=query)))

    assert find() == {small["id"], big["id"], desk["id"]}
    assert find(type="desk") == {desk["id"]}
    assert find(type="meeting_room") == {small["id"], big["id"]}
    assert find(venueId=lisbon["id"]) == {small["id"], big["id"]}
    assert find(venueId=porto["id"], type="meeting_room") == set()
    assert find(city="PORTO") == {desk["id"]}
    assert find(minCapacity=10) == {big["id"]}
    assert find(amenities="wifi,projector") == {big["id"]}
    assert find(amenities="projector") == {big["id"], desk["id"]}
    assert find(amenities="projector", city="lisbon", minCapacity=2, type="meeting_room") == {big["id"]}
    assert find(venueId="unknown") == set()


def test_cursor_pagination_returns_everything_once(venue: dict[str, Any]) -> None:
    made = {new_resource(venue["id"], name=f"R{i}")["id"] for i in range(25)}
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query: dict[str, Any] = {"limit": 10} | ({"cursor": cursor} if cursor else {})
        page = api("GET", RESOURCES, query=query)
        seen += ids(page)
        pages += 1
        assert page.body["pagination"]["limit"] == 10 and "page" not in page.body["pagination"]
        cursor = page.body["pagination"]["nextCursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == 25 and set(seen) == made


def test_filtered_pagination_keeps_reading_until_the_page_is_full(venue: dict[str, Any]) -> None:
    wanted = set()
    for i in range(24):
        made = new_resource(venue["id"], name=f"R{i}", amenities=["wifi", "tv"] if i % 3 == 0 else ["wifi"])
        if i % 3 == 0:
            wanted.add(made["id"])
    first = api("GET", RESOURCES, query={"amenities": "tv", "limit": 5})
    assert len(ids(first)) == 5
    rest = api(
        "GET", RESOURCES, query={"amenities": "tv", "limit": 5, "cursor": first.body["pagination"]["nextCursor"]}
    )
    assert len(ids(rest)) == 3 and rest.body["pagination"]["nextCursor"] is None
    assert set(ids(first)) | set(ids(rest)) == wanted


def test_page_and_limit(venue: dict[str, Any]) -> None:
    for i in range(25):
        new_resource(venue["id"], name=f"R{i}")
    by_cursor = api("GET", RESOURCES, query={"limit": 10})
    second_by_cursor = api("GET", RESOURCES, query={"limit": 10, "cursor": by_cursor.body["pagination"]["nextCursor"]})
    second = api("GET", RESOURCES, query={"limit": 10, "page": 2})
    assert ids(second) == ids(second_by_cursor)
    assert second.body["pagination"]["page"] == 2 and second.body["pagination"]["limit"] == 10
    last = api("GET", RESOURCES, query={"limit": 10, "page": 3})
    assert len(ids(last)) == 5 and last.body["pagination"]["nextCursor"] is None
    assert ids(api("GET", RESOURCES, query={"limit": 10, "page": 4})) == []
    assert ids(api("GET", RESOURCES, query={"page": 1})) == ids(api("GET", RESOURCES, query={"limit": 20}))


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"limit": 0}, "validation_failed"),
        ({"limit": 101}, "validation_failed"),
        ({"limit": "ten"}, "validation_failed"),
        ({"page": 0}, "validation_failed"),
        ({"page": 11, "limit": 100}, "page_too_deep"),
        ({"page": 2, "cursor": "abc"}, "page_and_cursor"),
        ({"minCapacity": 0}, "validation_failed"),
        ({"minCapacity": "lots"}, "validation_failed"),
        ({"type": "spaceship"}, "validation_failed"),
        ({"amenities": "Wi Fi"}, "validation_failed"),
        ({"amenities": "wifi,"}, "validation_failed"),
        ({"cursor": "not-a-cursor"}, "invalid_cursor"),
        ({"cursor": "e30="}, "invalid_cursor"),
    ],
)
def test_bad_query_parameters_are_422(table: str, query: dict[str, Any], code: str) -> None:
    response = api("GET", RESOURCES, query=query)
    assert (response.status, response.code) == (422, code)


def test_a_cursor_only_works_for_its_own_listing(venue: dict[str, Any]) -> None:
    for i in range(3):
        new_resource(venue["id"], name=f"R{i}")
    cursor = api("GET", RESOURCES, query={"limit": 1}).body["pagination"]["nextCursor"]
    assert cursor
    for query in ({"venueId": venue["id"]}, {"type": "desk"}):
        misused = api("GET", RESOURCES, query={"cursor": cursor, **query})
        assert (misused.status, misused.code) == (422, "invalid_cursor")
    assert api("GET", VENUES, query={"cursor": cursor}).code == "invalid_cursor"
    assert api("GET", VENUES, query={"limit": 0}).status == 422


def test_openapi_documents_real_schemas() -> None:
    from functions.catalog.handler import app

    spec = app.get_openapi_schema().model_dump(mode="json", by_alias=True, exclude_none=True)
    listing = spec["paths"]["/api/v1/resources"]["get"]
    assert listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/ResourcePage")
    assert {p["name"] for p in listing["parameters"]} == {
        "type",
        "venueId",
        "city",
        "minCapacity",
        "minGuests",
        "amenities",
        "limit",
        "cursor",
        "page",
        "availableFrom",
        "availableTo",
        "origin",
        "destination",
        "date",
    }
    created = spec["paths"]["/api/v1/venues"]["post"]["responses"]["201"]
    assert created["content"]["application/json"]["schema"]["$ref"].endswith("/Venue")


def test_unbookable_policies_are_refused(table: str) -> None:
    venue = call(
        "POST",
        "/api/v1/venues",
        user="v-lh",
        role="vendor",
        body={"name": "Island hall", "city": "Lord Howe", "timezone": "Australia/Lord_Howe"},
    ).body
    base = {"venueId": venue["id"], "name": "Hall", "type": "hall", "pricing": {"currency": "AUD", "unitPrice": 100}}
    hourly = call(
        "POST", "/api/v1/resources", user="v-lh", role="vendor", body={**base, "policy": {"granuleMinutes": 60}}
    )
    assert (hourly.status, hourly.code) == (422, "granule_incompatible_with_timezone")
    assert (
        call(
            "POST", "/api/v1/resources", user="v-lh", role="vendor", body={**base, "policy": {"granuleMinutes": 30}}
        ).status
        == 201
    )
    two_hours = call(
        "POST", "/api/v1/resources", user="v-lh", role="vendor", body={**base, "policy": {"granuleMinutes": 120}}
    )
    assert two_hours.status == 422
    huge = call(
        "POST",
        "/api/v1/resources",
        user="v-lh",
        role="vendor",
        body={**base, "policy": {"granuleMinutes": 5, "minUnits": 80, "bufferAfterMinutes": 60}},
    )
    assert (huge.status, huge.code) == (422, "policy_unbookable")
