"""Who may see and change a booking. Someone else's booking is reported as missing, never as forbidden."""

from __future__ import annotations

from slotwise import errors
from slotwise.booking.models import Booking
from slotwise.catalog.models import Resource
from slotwise.identity.models import Caller

# Roles that may book on behalf of a customer.
BOOKS_FOR_OTHERS = frozenset({"agent", "staff", "vendor", "admin"})


def require_user(caller: Caller) -> str:
    if caller.user_id is None:
        raise errors.AuthenticationRequired("Sign in to book.")
    return caller.user_id


def can_view(caller: Caller, booking: Booking) -> bool:
    if caller.role == "admin":
        return True
    return caller.user_id is not None and caller.user_id in {booking.customer_id, booking.created_by, booking.vendor_id}


def visible(caller: Caller, booking: Booking | None, booking_id: str) -> Booking:
    if booking is None or not can_view(caller, booking):
        raise errors.NotFound(f"No booking {booking_id}.", code="booking_not_found")
    return booking


def require_decider(caller: Caller, booking: Booking, resource: Resource | None) -> None:
    """Approvals belong to the vendor, an admin, or the advisor who is the resource."""
    if caller.role == "admin" or caller.user_id == booking.vendor_id:
        return
    if (
        resource is not None
        and caller.user_id is not None
        and resource.attributes.get("advisorUserId") == caller.user_id
    ):
        return
    raise errors.PermissionDenied("Only the vendor, the advisor or an admin decides on this booking.")


def customer_for(caller: Caller, requested: str | None, created_by: str | None) -> str:
    user_id = require_user(caller)
    if created_by is not None and created_by != user_id:
        raise errors.PermissionDenied("createdBy must name the caller.", code="cannot_act_as_other_user")
    if requested is None or requested == user_id:
        return user_id
    if caller.role not in BOOKS_FOR_OTHERS:
        raise errors.PermissionDenied(
            "Only agents, staff, vendors and admins book for someone else.", code="cannot_act_as_other_user"
        )
    return requested
