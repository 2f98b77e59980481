"""Reading bookings: one by id or by reference, and listings by start time (a customer's, those a user made for
others, a resource's, an advisor's), each only as far as the caller may see.

An advisor's own listing (no `resourceId`) is every resource they are (the catalog's advisor index, archived ones
too: their past sessions stay theirs), each resource's GSI2 `RESBOOK#` partition read from the cursor on and merged
by start time. Every sort key is `<start>#<booking id>`, unique across resources, so the cursor is the last key
returned: the next page reads each resource strictly after it, and no booking is returned twice or skipped.
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


def list_bookings(
    caller: Caller,
    *,
    resource_id: str | None = None,
    customer_id: str | None = None,
    created_by: str | None = None,
    status: str | None = None,
    frm: datetime | None = None,
    to: datetime | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[list[Booking], str | None]:
    """By start time: a customer's own bookings, those a user made for others (`created_by`, "me" or an id; an
    agent's default), or a resource's bookings for its vendor, its advisor or an admin."""
    permissions.require(caller, "booking.read")
    user = access.require_user(caller)
    if caller.role == "advisor" and resource_id is None and customer_id is None and created_by is None:
        return _advised(user, status=status, frm=frm, to=to, limit=limit, cursor=cursor)
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
