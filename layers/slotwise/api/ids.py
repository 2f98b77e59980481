"""Ids in the path: checked before any route runs, so an id that cannot exist never reaches DynamoDB.

An id longer than `slotwise.models.MAX_ID_LENGTH` or with a character no id has is 404 with the code a missing
object of that kind answers (ids are not an oracle); ids in bodies and query strings are `slotwise.models.Id` (422).
"""

from __future__ import annotations

from collections.abc import Mapping

from slotwise import errors
from slotwise.models import is_id

# What a missing object of each path parameter answers (the services' own NotFound codes).
NOT_FOUND_CODES: dict[str, tuple[str, str]] = {
    "bookingId": ("booking", "booking_not_found"),
    "code": ("booking", "booking_not_found"),
    "resourceId": ("resource", "resource_not_found"),
    "venueId": ("venue", "venue_not_found"),
    "paymentId": ("payment", "payment_not_found"),
    "notificationId": ("notification", "notification_not_found"),
    "subscriptionId": ("webhook subscription", "webhook_subscription_not_found"),
    "userId": ("user", "user_not_found"),
    "seriesId": ("recurring booking", "series_not_found"),
    "reviewId": ("review", "review_not_found"),
}


def check_path(parameters: Mapping[str, str] | None) -> None:
    """Raise the missing object's 404 for a path id that no object can have."""
    for name, value in (parameters or {}).items():
        if name in NOT_FOUND_CODES and not is_id(value):
            noun, code = NOT_FOUND_CODES[name]
            raise errors.NotFound(f"No {noun} with this id.", code=code)
