"""Whether a resource's policy can be booked at all: its granule against its zone's clock changes, and the number
of inventory records (lock keys) one booking may claim.

Timed lock keys are UTC instants of granule starts on one lattice; that lattice exists only while every UTC offset
the zone uses differs from the others by whole granules. The catalog refuses other policies when a resource is
written, and the booking engine checks again before it lays keys (`slotwise.booking.keys`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from math import gcd
from zoneinfo import ZoneInfo

from slotwise import errors
from slotwise.catalog.models import Resource
from slotwise.wording import duration_text, either

# A DynamoDB transaction takes 100 items; the rest is for the booking, reference and idempotency records and the
# items every transaction carries (audit entry, counters, quota token): see `slotwise.transaction`.
MAX_LOCK_KEYS = 90

# Offsets are compared over the years a booking could plausibly fall in, not the zone's whole history (LMT etc.).
_OFFSET_SCAN = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2101, 1, 1, tzinfo=UTC))
_HOUR_DIVISORS = tuple(d for d in range(5, 61) if 60 % d == 0)


def check_granule_fits_timezone(granule_minutes: int, tz: str) -> None:
    """Refuse a granule whose grid the zone's clock changes would shift (keys of overlapping bookings could differ)."""
    problem = _granule_problem(granule_minutes, tz)
    if problem is not None:
        raise errors.ValidationFailed(problem, code="granule_incompatible_with_timezone")


def check_bookable(resource: Resource) -> None:
    """Refuse a policy no booking could satisfy: a granule the timezone's offset changes would misalign, or a
    minimum booking (with its buffers) larger than one transaction can claim."""
    policy = resource.policy
    if policy.unit != "minutes":
        return
    check_granule_fits_timezone(policy.granule_minutes, resource.timezone)
    smallest = policy.min_units + (policy.buffer_before_minutes + policy.buffer_after_minutes) // policy.granule_minutes
    if smallest > MAX_LOCK_KEYS:
        raise errors.ValidationFailed(
            f"The shortest booking this policy allows needs {smallest} slots of {policy.granule_minutes} minutes "
            f"(buffers included); one booking can claim at most {MAX_LOCK_KEYS}. Use a longer granule.",
            code="policy_unbookable",
        )


@lru_cache(maxsize=1024)
def _granule_problem(granule_minutes: int, tz: str) -> str | None:
    if granule_minutes < 1 or 60 % granule_minutes:
        choices = either(list(_HOUR_DIVISORS))
        return (
            f"A granule of {granule_minutes} minutes does not divide an hour, so daylight-saving changes would "
            f"move its grid; timed resources use {choices} minutes."
        )
    offsets = _offsets_seconds(tz)
    lowest = min(offsets)
    shift_gcd = 0
    for offset in offsets:
        shift_gcd = gcd(shift_gcd, offset - lowest)
    if shift_gcd % (granule_minutes * 60) == 0:
        return None
    shifts = sorted({duration_text(abs(a - b) // 60) for a in offsets for b in offsets if a > b})
    fitting = [d for d in _HOUR_DIVISORS if shift_gcd % (d * 60) == 0]
    advice = f"; use a granule of {either(fitting)} minutes" if fitting else ""
    return (
        f"{tz} moves its clocks by {', '.join(shifts)}, which is not a whole number of {granule_minutes}-minute "
        f"granules, so the booking grid would shift after the change{advice}."
    )


@lru_cache(maxsize=256)
def _offsets_seconds(tz: str) -> frozenset[int]:
    """Every UTC offset the zone uses in 2000-2100, sampled daily: no offset in that span lasts under a day."""
    zone = ZoneInfo(tz)
    first, stop = (int(edge.timestamp()) for edge in _OFFSET_SCAN)
    found = set()
    for stamp in range(first, stop, 86_400):
        offset = datetime.fromtimestamp(stamp, zone).utcoffset()
        if offset is not None:
            found.add(int(offset.total_seconds()))
    return frozenset(found)
