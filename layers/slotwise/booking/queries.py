"""Reading bookings: one by id or by reference, and listings by start time (a customer's, those a user made for
others, a resource's, an advisor's), each only as far as the caller may see.

An advisor's own listing (no `resourceId`) is every resource they are (the catalog's advisor index, archived ones
too: their past sessions stay theirs), each resource's GSI2 `RESBOOK#` partition read from the cursor on and merged
by start time. Every sort key is `<start>#<booking id>`, unique across resources, so the cursor is the last key
returned: the next page reads each resource strictly after it, and no booking is returned twice or skipped.

Vendors and staff list their organisation's bookings newest first from GSI5 (`ORGBOOK#<organisation>`).
"""

from __future__ import annotations

from datetime import datetime

from slotwise import errors
from slotwise.booking import access, store
from slotwise.booking.models import Booking
from slotwise.booking.references import normalise
from slotwise.booking.resources import bookable_resource
from slotwise.catalog import repository as catalog
from slotwise.data.codec import to_item
from slotwise.data.due import sort_range, sort_time
from slotwise.data.pagination import decode_cursor, encode_cursor
from slotwise.identity import permissions
from slotwise.identity.models import Caller
from slotwise.organisations import service as organisations


def get_booking(caller: Caller, booking_id: str) -> Booking:
    permissions.require(caller, "booking.read")
    return access.visible(caller, store.get_booking(booking_id, consistent=False), booking_id)


def get_by_reference(caller: Caller, code: str) -> Booking:
    permissions.require(caller, "booking.read")
    reference = normalise(code)
    record = store.get_plain(f"REF#{reference}", "REF") if reference else None
    if record is None:
        raise errors.NotFound(f"No booking with reference {code}.", code="booking_not_found")
    return get_booking(caller, record["bookingId"])


def _listing(
    caller: Caller, user: str, resource_id: str | None, customer_id: str | None, created_by: str | None
) -> tuple[str, str]:
    """The index and partition a listing reads, once the caller may read it."""
    if created_by is not None and (resource_id is not None or customer_id is not None):
        raise errors.ValidationFailed(
            "createdBy cannot be combined with resourceId or customerId.", code="conflicting_filters"
        )
    if resource_id is not None:
        resource = bookable_resource(resource_id)
        if not (
            access.manages_resource(caller, resource)
            or access.advises(caller, resource)
            or permissions.allows(caller, "booking.view_any")
        ):
            raise errors.NotFound(f"No resource {resource_id}.", code="resource_not_found")
        return "GSI2", f"RESBOOK#{resource_id}"
    if created_by is not None:
        creator = user if created_by == "me" else created_by
        if creator != user and not permissions.allows(caller, "booking.view_any"):
            raise errors.PermissionDenied("Only admins list the bookings someone else made.")
        return "GSI4", f"CREATOR#{creator}"
    if customer_id is not None and customer_id != user:
        if not permissions.allows(caller, "booking.view_any"):
            raise errors.PermissionDenied("Only admins list another customer's bookings.")
        return "GSI1", f"USER#{customer_id}"
    if customer_id is None and caller.role == "agent":
        # Agents book for others: by default they see what they made (their own as customer: customerId=<self>).
        return "GSI4", f"CREATOR#{user}"
    return "GSI1", f"USER#{user}"


def _organisation_listed(caller: Caller, user: str, venue_id: str | None, customer_id: str | None) -> str | None:
    """The organisation whose bookings this listing reads, or None for the other listings: a venue's (for the
    venue's organisation and admins), or the caller's own organisation's when they run it (vendor, staff) and
    ask for no one's bookings in particular (`customerId` of their own lists what they booked themselves)."""
    if venue_id is not None:
        venue = catalog.get_venue(venue_id)
        if venue is None or not (
            organisations.same_organisation(caller, venue.owner_id, venue.organisation_id)
            or permissions.allows(caller, "booking.view_any")
        ):
            raise errors.NotFound(f"No venue {venue_id}.", code="venue_not_found")
        return venue.organisation_id
    if customer_id == user:
        return None
    membership = organisations.membership_of(caller)
    if membership is None or membership.role not in ("owner", "staff"):
        return None
    return membership.organisation_id


def list_bookings(
    caller: Caller,
    *,
    resource_id: str | None = None,
    venue_id: str | None = None,
    customer_id: str | None = None,
    created_by: str | None = None,
    status: str | None = None,
    frm: datetime | None = None,
    to: datetime | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[list[Booking], str | None]:
    """By start time: a customer's own bookings, those a user made for others (`created_by`, "me" or an id; an
    agent's default), or a resource's bookings for its vendor's organisation, its advisor or an admin. Vendors and
    staff list every booking of their organisation by default, newest first (GSI5), filtered by venue, resource,
    status, customer and period (`resourceId` alone stays that resource's bookings by start time)."""
    permissions.require(caller, "booking.read")
    user = access.require_user(caller)
    if caller.role == "advisor" and resource_id is None and customer_id is None and created_by is None:
        return _advised(user, status=status, frm=frm, to=to, limit=limit, cursor=cursor)
    # A resource's bookings alone stay its calendar by start time (GSI2, one partition); with a venue, or without
    # a resource, vendors and staff read their organisation's listing.
    if created_by is None and (resource_id is None or venue_id is not None):
        organisation_id = _organisation_listed(caller, user, venue_id, customer_id)
        if organisation_id is not None:
            return _organisation_bookings(
                caller, user, organisation_id, venue_id, resource_id, customer_id, status, frm, to, limit, cursor
            )
    if venue_id is not None:
        raise errors.ValidationFailed("venueId cannot be combined with createdBy.", code="conflicting_filters")
    index, partition = _listing(caller, user, resource_id, customer_id, created_by)
    low, high = sort_range(frm, to)
    # A cursor pages this caller's listing only: the index, its partition and who asks.
    scope = f"bookings:{index}:{partition}:{user}"
    bookings, last = store.query_bookings(
        index, partition, low=low, high=high, limit=limit, start_key=decode_cursor(cursor, scope=scope)
    )
    if status is not None:
        bookings = [b for b in bookings if b.status == status]
    return bookings, encode_cursor(last, scope=scope)


# An advisor's merged listing reads at most this many of their resources (each one Query per page).
MAX_ADVISED_RESOURCES = 50


def _advised(
    user: str, *, status: str | None, frm: datetime | None, to: datetime | None, limit: int, cursor: str | None
) -> tuple[list[Booking], str | None]:
    """The bookings of every resource the advisor is, by start time: a k-way merge of one page per resource."""
    scope = f"bookings:advised:{user}"
    start = decode_cursor(cursor, scope=scope)
    after = start.get("after", {}).get("S") if start else None
    if start is not None and not after:
        raise errors.ValidationFailed("cursor is not one this listing returned", code="invalid_cursor")
    low, high = sort_range(frm, to)
    if after is not None:
        # Strictly after the last key returned: no sort key continues a `<start>#<id>` key with a space.
        low = max(low or "", f"{after} ")
        high = high or "~"
    resources, _ = catalog.advisor_resources(user, limit=MAX_ADVISED_RESOURCES)
    merged: list[tuple[str, Booking]] = []
    more = False
    for resource in resources:
        found, last = store.query_bookings(
            "GSI2", f"RESBOOK#{resource.id}", low=low, high=high, limit=limit, start_key=None
        )
        merged += [(f"{sort_time(b.start_time)}#{b.id}", b) for b in found]
        more = more or last is not None
    merged.sort(key=lambda pair: pair[0])
    page = merged[:limit]
    more = more or len(merged) > limit
    next_cursor = encode_cursor(to_item({"after": page[-1][0]}), scope=scope) if more and page else None
    bookings = [b for _, b in page if status is None or b.status == status]
    return bookings, next_cursor


def _organisation_bookings(
    caller: Caller,
    user: str,
    organisation_id: str,
    venue_id: str | None,
    resource_id: str | None,
    customer_id: str | None,
    status: str | None,
    frm: datetime | None,
    to: datetime | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Booking], str | None]:
    if resource_id is not None:
        resource = bookable_resource(resource_id)
        if resource.organisation_id != organisation_id or not (
            access.manages_resource(caller, resource) or access.advises(caller, resource)
        ):
            raise errors.NotFound(f"No resource {resource_id}.", code="resource_not_found")
    filters = {
        attribute: value
        for attribute, value in (
            ("venueId", venue_id),
            ("resourceId", resource_id),
            ("customerId", customer_id),
            ("status", status),
        )
        if value is not None
    }
    low, high = sort_range(frm, to)
    scope = f"bookings:GSI5:{organisation_id}:{user}"
    bookings, last = store.query_organisation(
        organisation_id,
        low=low,
        high=high,
        filters=filters,
        limit=limit,
        start_key=decode_cursor(cursor, scope=scope),
    )
    return bookings, encode_cursor(last, scope=scope)
