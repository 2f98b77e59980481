"""Object-level rules for bookings: who may see, change and decide one. Role-level rules are the permission table
(`slotwise.identity.permissions`); these run after it.

Someone else's booking is reported as missing (404), never as forbidden; a booking the caller may see but not act
on in the way asked (an advisor cancelling a request, a customer's own booking on their own resource) is 403.
"""

from __future__ import annotations

from slotwise import errors
from slotwise.booking.models import Booking
from slotwise.catalog import repository as catalog
from slotwise.catalog.models import Resource
from slotwise.identity import permissions
from slotwise.identity.models import Caller
from slotwise.organisations import service as organisations


def require_user(caller: Caller) -> str:
    if caller.user_id is None:
        raise errors.AuthenticationRequired("Sign in to book.")
    return caller.user_id


def advises(caller: Caller, resource: Resource | None) -> bool:
    """The caller is the advisor who is this resource (`attributes.advisorUserId`, set by its vendor)."""
    return (
        resource is not None
        and caller.role == "advisor"
        and caller.user_id is not None
        and resource.attributes.get("advisorUserId") == caller.user_id
    )


def _party(caller: Caller, booking: Booking) -> bool:
    """Customer, creator (an agent), or the vendor's organisation (the vendor and its staff)."""
    if caller.user_id is None:
        return False
    return caller.user_id in {booking.customer_id, booking.created_by} or organisations.same_organisation(
        caller, booking.vendor_id
    )


def can_view(caller: Caller, booking: Booking, resource: Resource | None = None) -> bool:
    if permissions.allows(caller, "booking.view_any") or _party(caller, booking):
        return True
    if caller.role != "advisor":
        return False
    return advises(caller, resource if resource is not None else catalog.get_resource(booking.resource_id))


def can_change(caller: Caller, booking: Booking) -> bool:
    return permissions.allows(caller, "booking.manage_any") or _party(caller, booking)


def visible(caller: Caller, booking: Booking | None, booking_id: str, resource: Resource | None = None) -> Booking:
    if booking is None or not can_view(caller, booking, resource):
        raise errors.NotFound(f"No booking {booking_id}.", code="booking_not_found")
    return booking


def changeable(caller: Caller, booking: Booking | None, booking_id: str) -> Booking:
    """A booking the caller may change (details, times, cancellation): 404 if unseen, 403 if only seen."""
    found = visible(caller, booking, booking_id)
    if not can_change(caller, found):
        raise errors.PermissionDenied(
            "Only the customer, whoever made the booking, or its vendor and their staff may change it."
        )
    return found


def cancellable(caller: Caller, booking: Booking | None, booking_id: str) -> Booking:
    """A booking the caller may cancel: one they may change, or a confirmed session of the resource they advise
    (the advisor calls it off: the customer gets everything back). 404 if unseen, 403 if only seen."""
    resource = catalog.get_resource(booking.resource_id) if booking is not None and caller.role == "advisor" else None
    found = visible(caller, booking, booking_id, resource)
    if can_change(caller, found) or (found.status == "confirmed" and advises(caller, resource)):
        return found
    raise errors.PermissionDenied(
        "Only the customer, whoever made the booking, its vendor, or the advisor of a confirmed session may cancel it."
    )


def require_decider(caller: Caller, booking: Booking, resource: Resource | None) -> None:
    """Approvals belong to the vendor's organisation (the vendor, its staff), an admin, or the advisor who is the
    resource."""
    if permissions.allows(caller, "booking.manage_any") or organisations.same_organisation(caller, booking.vendor_id):
        return
    if advises(caller, resource):
        return
    raise errors.PermissionDenied("Only the vendor, the advisor or an admin decides on this booking.")


def manages_resource(caller: Caller, resource: Resource) -> bool:
    return permissions.allows(caller, "catalog.manage_any") or organisations.same_organisation(
        caller, resource.owner_id, resource.organisation_id
    )


def resource_visible(caller: Caller, resource: Resource | None, resource_id: str) -> Resource:
    """A resource the caller may book or query: active, or their own (an archived one looks missing)."""
    if resource is None or not (resource.active or manages_resource(caller, resource)):
        raise errors.NotFound(f"No resource {resource_id}.", code="resource_not_found")
    return resource


def customer_for(caller: Caller, requested: str | None, created_by: str | None) -> str:
    user_id = require_user(caller)
    if created_by is not None and created_by != user_id:
        raise errors.PermissionDenied("createdBy must name the caller.", code="cannot_act_as_other_user")
    if requested is None or requested == user_id:
        return user_id
    if not permissions.allows(caller, "booking.create_for_other"):
        raise errors.PermissionDenied(
            "Only agents, staff, vendors and admins book for someone else.", code="cannot_act_as_other_user"
        )
    return requested
