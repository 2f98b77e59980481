"""Which inventory lock keys a booking claims, and the key ranges that reads of inventory cover.

Double-booking is prevented by the data layer claiming one inventory item per lock key in one transaction, so the
keys carry the whole safety argument: two bookings whose buffered intervals overlap share a key, two that do not
overlap share none. Timed keys are UTC instants of granule starts on one lattice; that lattice exists only while
every UTC offset the zone uses differs from the others by whole granules
(`slotwise.catalog.bookable.check_granule_fits_timezone`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from slotwise import errors
from slotwise.booking.windows import DAY, MINUTE, Window, local_instant, nights_of, utc
from slotwise.catalog.bookable import MAX_LOCK_KEYS, check_granule_fits_timezone
from slotwise.catalog.models import Resource
from slotwise.wording import duration_text, hhmm

FIXED_KEY = "F#"
TIME_KEY_PREFIX = "T#"
NIGHT_KEY_PREFIX = "N#"


def lock_keys(resource: Resource, window: Window) -> list[str]:
    """The sorted, unique inventory keys the booking claims: its buffered time, its nights, or the fixed window."""
    policy = resource.policy
    if policy.unit == "fixed":
        return [FIXED_KEY]
    if policy.unit == "night":
        check_in, check_out = nights_of(window)
        nights = (check_out - check_in).days
        if nights > MAX_LOCK_KEYS:
            raise too_many_keys(resource)
        return [night_key(check_in + timedelta(days=n)) for n in range(nights)]
    check_granule_fits_timezone(policy.granule_minutes, resource.timezone)
    start, end = utc(window.start), utc(window.end)
    check_aligned(resource, start, end)
    granule = timedelta(minutes=policy.granule_minutes)
    first = start - timedelta(minutes=policy.buffer_before_minutes)
    count = (end + timedelta(minutes=policy.buffer_after_minutes) - first) // granule
    if count > MAX_LOCK_KEYS:
        raise too_many_keys(resource)
    return [time_key(first + n * granule) for n in range(count)]


def time_key(instant: datetime) -> str:
    """`T#2026-03-29T09:15Z`: fixed width, so lexicographic order is time order (DynamoDB BETWEEN relies on it)."""
    u = instant.astimezone(UTC)
    return f"{TIME_KEY_PREFIX}{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}Z"


def night_key(night: date) -> str:
    return f"{NIGHT_KEY_PREFIX}{night.isoformat()}"


def check_aligned(resource: Resource, start: datetime, end: datetime) -> None:
    """Refuse a start or end off the resource's granule grid (in its local time)."""
    granule = resource.policy.granule_minutes
    zone = resource.zone
    for instant, name in ((start, "start"), (end, "end")):
        local = instant.astimezone(zone)
        minute = local.hour * 60 + local.minute
        if minute % granule or local.second or local.microsecond:
            before = minute - minute % granule
            raise errors.ValidationFailed(
                f"Bookings start and end on the {granule}-minute grid of {resource.timezone} time; the {name} "
                f"{local:%H:%M:%S} is between {hhmm(before)} and {hhmm(before + granule)}.",
                code="misaligned",
            )


def too_many_keys(resource: Resource) -> errors.ValidationFailed:
    """Why a booking that would claim more than MAX_LOCK_KEYS inventory records is refused, in the unit's terms."""
    policy = resource.policy
    why = (
        f"one booking claims all its inventory records in a single transaction, which holds at most "
        f"{MAX_LOCK_KEYS} of them"
    )
    if policy.unit == "night":
        return _fail(
            f"A stay lasts at most {MAX_LOCK_KEYS} nights: every night is an inventory record and {why}.", "too_long"
        )
    granule = policy.granule_minutes
    buffers = policy.buffer_before_minutes + policy.buffer_after_minutes
    longest = MAX_LOCK_KEYS * granule - buffers
    if longest < granule:
        return _fail(
            f"This resource cannot be booked: its buffers ({duration_text(buffers)}) already take the "
            f"{MAX_LOCK_KEYS} {granule}-minute slots a booking may claim, because {why}.",
            "too_long",
        )
    with_buffers = f", plus {duration_text(buffers)} of buffers" if buffers else ""
    return _fail(
        f"A booking lasts at most {duration_text(longest)} ({longest // granule} slots of {granule} minutes"
        f"{with_buffers}): every slot is an inventory record and {why}.",
        "too_long",
    )


def _fail(detail: str, code: str) -> errors.ValidationFailed:
    return errors.ValidationFailed(detail, code=code)


# ------------------------------------------------------------------------------------------------------- key ranges


def day_key_range(resource: Resource, day: date) -> tuple[str, str]:
    """Inclusive key bounds of every granule starting on the local `day`, widened by the buffers around them."""
    policy = resource.policy
    if policy.unit == "fixed":
        return FIXED_KEY, FIXED_KEY
    if policy.unit == "night":
        return night_key(day), night_key(day)
    zone = resource.zone
    first = local_instant(zone, day, time(0)) - timedelta(minutes=policy.buffer_before_minutes)
    stop = local_instant(zone, day + DAY, time(0)) + timedelta(minutes=policy.buffer_after_minutes)
    # The last key starts before `stop`; one minute earlier is the largest key string that can.
    return time_key(first), time_key(stop - MINUTE)


def span_key_range(resource: Resource, windows: Sequence[Window]) -> tuple[str, str]:
    """Inclusive key bounds covering every lock key of every window, for one Query.

    No windows: a range that matches no stored key (the bare prefix), so the Query returns nothing.
    """
    policy = resource.policy
    if policy.unit == "fixed":
        return FIXED_KEY, FIXED_KEY
    if policy.unit == "night":
        if not windows:
            return NIGHT_KEY_PREFIX, NIGHT_KEY_PREFIX
        stays = [nights_of(w) for w in windows]
        return night_key(min(s[0] for s in stays)), night_key(max(s[1] for s in stays) - DAY)
    if not windows:
        return TIME_KEY_PREFIX, TIME_KEY_PREFIX
    first = min(utc(w.start) for w in windows) - timedelta(minutes=policy.buffer_before_minutes)
    stop = max(utc(w.end) for w in windows) + timedelta(minutes=policy.buffer_after_minutes)
    # Keys are whole minutes: a window inside one minute would put the upper key before the lower one, which
    # DynamoDB refuses (BETWEEN needs low <= high); its only key is the minute it starts in.
    low = time_key(first)
    return low, max(low, time_key(stop - MINUTE))
