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


# ----------------------------------------------------------------------------------------------- keys shown to people


def key_span(resource: Resource, key: str) -> dict[str, str]:
    """What an inventory key stands for, in the resource's own time: a granule's local start and end, a night's
    date, or the fixed window. Conflicts carry this, never the key itself (keys are storage, not API)."""
    zone = resource.zone
    if key.startswith(TIME_KEY_PREFIX):
        start = datetime.strptime(key[len(TIME_KEY_PREFIX) :], "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)
        end = start + timedelta(minutes=resource.policy.granule_minutes)
        return {"startTime": start.astimezone(zone).isoformat(), "endTime": end.astimezone(zone).isoformat()}
    if key.startswith(NIGHT_KEY_PREFIX):
        return {"night": key[len(NIGHT_KEY_PREFIX) :]}
    policy = resource.policy
    if policy.fixed_start is not None and policy.fixed_end is not None:
        return {
            "startTime": policy.fixed_start.astimezone(zone).isoformat(),
            "endTime": policy.fixed_end.astimezone(zone).isoformat(),
        }
    return {}


def key_text(resource: Resource, key: str) -> str:
    """`2027-01-04 10:30 to 11:00 Europe/Lisbon time`, `the night of 2026-12-29`, `the departure at ...`."""
    span = key_span(resource, key)
    if "night" in span:
        return f"the night of {span['night']}"
    if not span:
        return "the booked window"
    start, end = datetime.fromisoformat(span["startTime"]), datetime.fromisoformat(span["endTime"])
    if key == FIXED_KEY:
        return f"the window {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} {resource.timezone} time"
    same_day = start.date() == end.date() or (end.hour, end.minute) == (0, 0)
    until = f"{end:%H:%M}" if same_day else f"{end:%Y-%m-%d %H:%M}"
    return f"{start:%Y-%m-%d %H:%M} to {until} {resource.timezone} time"


def keys_text(resource: Resource, keys: Sequence[str]) -> str:
    """Consecutive granules joined into spans: `2027-01-04 10:30 to 11:30 Europe/Lisbon time`, nights as dates."""
    spans: list[list[str]] = []
    for key in sorted(keys):
        if spans and key.startswith(TIME_KEY_PREFIX) and spans[-1][-1].startswith(TIME_KEY_PREFIX):
            previous = key_span(resource, spans[-1][-1])
            if previous["endTime"] == key_span(resource, key)["startTime"]:
                spans[-1].append(key)
                continue
        spans.append([key])
    texts = []
    for span in spans:
        if len(span) == 1:
            texts.append(key_text(resource, span[0]))
            continue
        first, last = key_span(resource, span[0]), key_span(resource, span[-1])
        start, end = datetime.fromisoformat(first["startTime"]), datetime.fromisoformat(last["endTime"])
        until = f"{end:%H:%M}" if start.date() == end.date() else f"{end:%Y-%m-%d %H:%M}"
        texts.append(f"{start:%Y-%m-%d %H:%M} to {until} {resource.timezone} time")
    return ", ".join(texts)
