"""Venues and their bookable resources, with the rules that decide when and how a resource can be booked.

One model sells every inventory: a hostel room or dorm (unit `night`, capacity = beds), a meeting room or advisor
(unit `minutes`, a granule of 15/30/60 minutes, capacity 1), a hall (long `minutes` bookings with buffers, capacity
1: its guests per booking are `maxGuests`), a cabin class on a flight (unit `fixed`: one departure window, capacity =
seats). `capacity` always counts bookings that may overlap one slot, never people.

Longer than 400 lines because the policy, pricing, route and schedule-change models nest into one stored resource,
and requests and stored items share them.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from itertools import pairwise
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, Field, computed_field, model_validator

from slotwise.identity.models import organisation_id_of
from slotwise.models import ApiModel, BoundedDate, BoundedDatetime, DomainModel, Id, OneLine

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

ResourceType = Literal[
    "room", "dorm", "hall", "meeting_room", "seat_pool", "advisor", "equipment", "desk", "class", "other"
]
BookingUnit = Literal["minutes", "night", "fixed"]
# approval_then_payment: the decider accepts, then the customer pays within `paymentDueMinutes`;
# authorize_then_capture: the card is authorized when booking (capture_method=manual) and captured on completion.
Confirmation = Literal["auto", "approval", "payment", "approval_then_payment", "authorize_then_capture"]
# Statuses through which a booking waits for a decider, per confirmation policy.
NEEDS_DECISION: frozenset[str] = frozenset({"approval", "approval_then_payment"})

MINUTES_PER_DAY = 1440


# Names the tz database has that are not zones a venue is in: the host's own zone, the build placeholder and the
# POSIX-rule copies. A venue names a canonical IANA zone (`Europe/Lisbon`), never these.
# The aliases of UTC under other spellings go too (`UTC` and `Etc/UTC` stay).
_NOT_ZONES = frozenset(
    {"localtime", "Factory", "posixrules"}
    | {f"{prefix}{alias}" for prefix in ("", "Etc/") for alias in ("UCT", "Universal", "Zulu", "Greenwich")}
    | {f"{prefix}GMT{suffix}" for prefix in ("", "Etc/") for suffix in ("0", "+0", "-0")}
)


def _valid_timezone(name: str) -> str:
    if name in _NOT_ZONES or name.startswith(("posix/", "right/")) or name not in _timezones():
        raise ValueError(f"{name!r} is not an IANA timezone (e.g. Europe/Lisbon)")
    try:
        ZoneInfo(name)
    except ZoneInfoNotFoundError as exc:  # pragma: no cover - available_timezones() said it exists
        raise ValueError(f"{name!r} is not an IANA timezone") from exc
    return name


_TZ_CACHE: set[str] = set()


def _timezones() -> set[str]:
    if not _TZ_CACHE:
        _TZ_CACHE.update(available_timezones())
    return _TZ_CACHE


def _valid_currency(code: str) -> str:
    if len(code) != 3 or not code.isascii() or not code.isupper() or not code.isalpha():
        raise ValueError("currency is an ISO 4217 code in capitals, e.g. EUR")
    return code


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("times carry an offset (ISO 8601, e.g. 2026-12-01T09:00:00+01:00)")
    return value


TimeZoneName = Annotated[str, AfterValidator(_valid_timezone)]
CurrencyCode = Annotated[str, AfterValidator(_valid_currency)]
AwareDatetime = Annotated[BoundedDatetime, AfterValidator(_aware)]
Money = Annotated[int, Field(ge=0, le=10**11, description="integer minor units (cents)")]
Name = Annotated[OneLine, Field(min_length=1, max_length=200)]
Tag = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[a-z0-9_\-]+$")]
AttributeName = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_\-]+$")]


class TimeRange(ApiModel):
    """Local wall-clock opening interval; `end` "24:00" means midnight at the end of the day."""

    start: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
    end: Annotated[str, Field(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")]

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.end_minute <= self.start_minute:
            raise ValueError("an opening interval ends after it starts")
        return self

    @property
    def start_minute(self) -> int:
        hours, minutes = self.start.split(":")
        return int(hours) * 60 + int(minutes)

    @property
    def end_minute(self) -> int:
        hours, minutes = self.end.split(":")
        return int(hours) * 60 + int(minutes)


class DateOverride(ApiModel):
    """Hours for one date that replace the weekly ones (an empty list closes the day)."""

    date: BoundedDate
    hours: list[TimeRange] = Field(default_factory=list, max_length=8)


class PriceRule(ApiModel):
    """A price per unit that applies on some weekdays and/or local hours (peak, weekend); the first match wins."""

    name: Annotated[str, Field(min_length=1, max_length=60)]
    unit_price: Money
    weekdays: list[Weekday] | None = None
    start: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] | None = None
    end: Annotated[str, Field(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")] | None = None


class Pricing(ApiModel):
    currency: CurrencyCode
    unit_price: Money = Field(description="price per unit (granule, night or seat) in minor units")
    rules: list[PriceRule] = Field(default_factory=list, max_length=20)


class RefundTier(ApiModel):
    """Cancelled at least `min_hours_before` the start: this percentage of what was paid comes back."""

    min_hours_before: Annotated[int, Field(ge=0, le=24 * 366)]
    percent: Annotated[int, Field(ge=0, le=100)]


class CancellationPolicy(ApiModel):
    """What a customer gets back when they cancel (a vendor's or admin's cancellation refunds everything).

    The first tier (by hours, largest first) the cancellation time reaches applies; none reached: 0 %. `fee` is kept
    from any refund above zero. The policy in force when a booking is made is the one its quote uses.
    """

    tiers: list[RefundTier] = Field(
        default_factory=lambda: [
            RefundTier(min_hours_before=168, percent=100),
            RefundTier(min_hours_before=48, percent=50),
            RefundTier(min_hours_before=24, percent=25),
        ],
        max_length=10,
    )
    fee: Annotated[int, Field(ge=0, le=10**11, description="kept from a refund, minor units")] = 0
    # Where a customer's refund goes unless they choose: back to the card, or to their Slotwise wallet.
    default_refund_to: Literal["card", "wallet"] = "card"

    @model_validator(mode="after")
    def _ordered(self) -> CancellationPolicy:
        hours = [tier.min_hours_before for tier in self.tiers]
        if len(set(hours)) != len(hours):
            raise ValueError("each tier has its own minHoursBefore")
        ordered = sorted(self.tiers, key=lambda tier: -tier.min_hours_before)
        if any(a.percent < b.percent for a, b in pairwise(ordered)):
            raise ValueError("an earlier cancellation never gets back less: percent falls as minHoursBefore falls")
        object.__setattr__(self, "tiers", ordered)
        return self


class BookingPolicy(ApiModel):
    """How a resource is booked. Times of day are local to the resource's timezone."""

    unit: BookingUnit = "minutes"
    granule_minutes: Annotated[int, Field(ge=5, le=MINUTES_PER_DAY)] = 30
    min_units: Annotated[int, Field(ge=1, le=366)] = 1
    max_units: Annotated[int, Field(ge=1, le=366)] | None = None
    buffer_before_minutes: Annotated[int, Field(ge=0, le=MINUTES_PER_DAY)] = 0
    buffer_after_minutes: Annotated[int, Field(ge=0, le=MINUTES_PER_DAY)] = 0
    min_notice_minutes: Annotated[int, Field(ge=0, le=525_600)] = 0
    max_horizon_days: Annotated[int, Field(ge=1, le=1_100)] = 365
    hold_ttl_seconds: Annotated[int, Field(ge=60, le=86_400)] = 900
    # Reminders, in minutes before the start (at most three, up to 14 days); [] sends none.
    reminder_minutes: list[Annotated[int, Field(ge=5, le=20_160)]] = Field(
        default_factory=lambda: [1440, 60], max_length=3
    )
    confirmation: Confirmation = "auto"
    # How long a request waits for the decider (approval policies); None: as long as a hold (`holdTtlSeconds`).
    approval_ttl_hours: Annotated[int, Field(ge=1, le=168)] | None = None
    # approval_then_payment: how long the customer has to pay once the request is accepted.
    payment_due_minutes: Annotated[int, Field(ge=5, le=10_080)] = 60
    cancellation: CancellationPolicy = Field(default_factory=CancellationPolicy)
    # unit == "night": arrival and departure times printed on the confirmation.
    check_in_time: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "15:00"
    check_out_time: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "11:00"
    # unit == "fixed": the one window that can be booked (a departure, a class session).
    fixed_start: AwareDatetime | None = None
    fixed_end: AwareDatetime | None = None
    # None: open around the clock. A weekday missing from the map is closed.
    opening_hours: dict[Weekday, list[TimeRange]] | None = None
    date_overrides: list[DateOverride] = Field(default_factory=list, max_length=366)
    blackout_dates: list[BoundedDate] = Field(default_factory=list, max_length=366)

    @model_validator(mode="after")
    def _coherent(self) -> BookingPolicy:
        if self.unit == "minutes" and 60 % self.granule_minutes:
            # Slots are keyed by UTC instant; only a granule dividing the hour stays aligned across DST changes.
            raise ValueError("granuleMinutes divides an hour (5, 6, 10, 12, 15, 20, 30 or 60)")
        for buffer in (self.buffer_before_minutes, self.buffer_after_minutes):
            if self.unit == "minutes" and buffer % self.granule_minutes:
                raise ValueError("buffers are whole granules")
        if self.max_units is not None and self.max_units < self.min_units:
            raise ValueError("maxUnits is at least minUnits")
        if len(set(self.reminder_minutes)) != len(self.reminder_minutes):
            raise ValueError("reminderMinutes are distinct")
        if self.unit == "fixed":
            if self.fixed_start is None or self.fixed_end is None or self.fixed_end <= self.fixed_start:
                raise ValueError("a fixed resource names fixedStart < fixedEnd")
        elif self.fixed_start is not None or self.fixed_end is not None:
            raise ValueError("fixedStart/fixedEnd belong to unit 'fixed'")
        return self


AirportCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="IATA-style location code, e.g. LIS")]


class Route(ApiModel):
    """Where a fixed-window resource goes (a flight's cabin, a ferry, a tour): searched by origin, destination and
    the departure's date in the resource's timezone, which is the origin's."""

    origin: AirportCode
    destination: AirportCode
    flight_number: Annotated[str, Field(pattern=r"^[A-Z0-9]{2}[0-9]{1,4}[A-Z]?$")] | None = None
    # Arrivals are shown in the destination's time when it is named.
    destination_timezone: TimeZoneName | None = None

    @model_validator(mode="after")
    def _goes_somewhere(self) -> Route:
        if self.origin == self.destination:
            raise ValueError("a route's destination differs from its origin")
        return self


class HoursUpdate(ApiModel):
    """`PUT /resources/{id}/availability`: a resource's calendar, replaced whole; nothing else of the resource."""

    # None: open around the clock. A weekday missing from the map is closed.
    opening_hours: dict[Weekday, list[TimeRange]] | None
    date_overrides: list[DateOverride] = Field(default_factory=list, max_length=366)
    blackout_dates: list[BoundedDate] = Field(default_factory=list, max_length=366)


class ScheduleChangeRequest(ApiModel):
    """`POST /resources/{id}/schedule-change`: the fixed window's new times and why (told to every passenger)."""

    fixed_start: AwareDatetime
    fixed_end: AwareDatetime
    reason: Annotated[OneLine, Field(min_length=1, max_length=500)]

    @model_validator(mode="after")
    def _ordered(self) -> ScheduleChangeRequest:
        if self.fixed_end <= self.fixed_start:
            raise ValueError("fixedEnd comes after fixedStart")
        return self


class ScheduleChange(DomainModel):
    """The latest move of a fixed window: `moving` while its bookings are being moved to it, then `done`."""

    id: str
    status: Literal["moving", "done"]
    from_start: datetime
    from_end: datetime
    to_start: datetime
    to_end: datetime
    reason: str
    requested_by: str | None
    started_at: datetime
    finished_at: datetime | None = None
    moved: int = 0


class VenueFields(ApiModel):
    """What a venue's owner may set; create and replace share it and differ only in `timezone`."""

    name: Name
    city: Annotated[str, Field(min_length=1, max_length=100)]
    address: Annotated[str, Field(max_length=300)] = ""
    country: Annotated[str, Field(min_length=2, max_length=2, pattern=r"^[A-Z]{2}$")] | None = None
    description: Annotated[str, Field(max_length=4000)] = ""
    amenities: list[Tag] = Field(default_factory=list, max_length=50)


class VenueInput(VenueFields):
    timezone: TimeZoneName


class VenueUpdate(VenueFields):
    """A full replacement of a venue's fields (PUT)."""

    # Resources copy the timezone and bookings are stored in its local time, so it never changes; sending the
    # current value back (a GET-edit-PUT round trip) is accepted.
    timezone: TimeZoneName | None = None


ORGANISATION_DESCRIPTION = "the organisation it belongs to: its owner's (derived for items older than organisations)"


class Venue(DomainModel):
    id: str
    owner_id: str
    organisation_id: str = Field(default="", description=ORGANISATION_DESCRIPTION)
    name: str
    city: str
    address: str = ""
    country: str | None = None
    timezone: str
    description: str = ""
    amenities: list[str] = Field(default_factory=list)
    active: bool = True
    # Kept in the same transactions that create, archive or revive a resource, so that a venue delete can be
    # conditional on it: counting with a query first would race with a resource being added meanwhile.
    active_resources: int = Field(default=0, description="resources of this venue that are not archived")
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @model_validator(mode="after")
    def _organisation(self) -> Venue:
        self.organisation_id = self.organisation_id or organisation_id_of(self.owner_id)
        return self

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


CAPACITY_DESCRIPTION = (
    "how many bookings may overlap one slot (beds of a dorm, seats of a departure, 1 for a hall): not a guest "
    "count, see maxGuests"
)
MAX_GUESTS_DESCRIPTION = "the most guests one booking may bring (a hall's seated capacity); null: no limit"
MIN_GUESTS_DESCRIPTION = "the fewest guests one booking may bring; null: no minimum"


def check_guest_bounds(min_guests: int | None, max_guests: int | None) -> None:
    if min_guests is not None and max_guests is not None and min_guests > max_guests:
        raise ValueError("minGuests is at most maxGuests")


# An advisor's public profile lives on the resource they are (`attributes`, set by its vendor): who they are
# (`advisorUserId`), a `headline`, and `expertise` and `languages` as comma-separated lists ("tax, pensions",
# "en, pt"). Attributes hold scalars only, hence the lists as text; `slotwise.advisors` splits them.
ADVISOR_ATTRIBUTES = ("advisorUserId", "headline", "expertise", "languages")
MAX_PROFILE_TAGS = 20
_ADVISOR_ID = re.compile(r"^[A-Za-z0-9._:@|+\-]{1,128}$")
_PROFILE_TAG = re.compile(r"^[\w][\w .&+/-]{0,39}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


def profile_tags(value: object) -> list[str]:
    """ "Tax, Pensions ,tax" -> ["tax", "pensions"]: trimmed, lower case, each once, in order."""
    if not isinstance(value, str):
        return []
    found: list[str] = []
    for part in value.split(","):
        tag = part.strip().casefold()
        if tag and tag not in found:
            found.append(tag)
    return found


def check_advisor_profile(attributes: dict[str, str | int | float | bool], route: object) -> None:
    advisor = attributes.get("advisorUserId")
    if advisor is not None and (not isinstance(advisor, str) or not _ADVISOR_ID.match(advisor)):
        raise ValueError("attributes.advisorUserId is a user id")
    if advisor is not None and route is not None:
        raise ValueError("a resource with a route is not an advisor's (attributes.advisorUserId)")
    headline = attributes.get("headline")
    if headline is not None and (not isinstance(headline, str) or len(headline) > 200 or "\n" in headline):
        raise ValueError("attributes.headline is one line of at most 200 characters")
    for name, pattern in (("expertise", _PROFILE_TAG), ("languages", _LANGUAGE)):
        raw = attributes.get(name)
        if raw is None:
            continue
        tags = profile_tags(raw)
        if not isinstance(raw, str) or len(tags) > MAX_PROFILE_TAGS or not all(pattern.match(t) for t in tags):
            raise ValueError(
                f"attributes.{name} is a comma-separated list of at most {MAX_PROFILE_TAGS} "
                + ("topics of up to 40 characters" if name == "expertise" else "language codes (en, pt-BR)")
            )


class ResourceFields(ApiModel):
    """What a resource's owner may set; create and replace share it and differ only in `venueId`."""

    name: Name
    type: ResourceType
    capacity: Annotated[int, Field(ge=1, le=10_000)] = Field(default=1, description=CAPACITY_DESCRIPTION)
    max_guests: Annotated[int, Field(ge=1, le=100_000)] | None = Field(default=None, description=MAX_GUESTS_DESCRIPTION)
    min_guests: Annotated[int, Field(ge=1, le=100_000)] | None = Field(default=None, description=MIN_GUESTS_DESCRIPTION)
    location: Annotated[str, Field(max_length=200)] = ""
    description: Annotated[str, Field(max_length=4000)] = ""
    amenities: list[Tag] = Field(default_factory=list, max_length=50)
    attributes: dict[AttributeName, str | int | float | bool] = Field(default_factory=dict, max_length=50)
    active: bool = True
    policy: BookingPolicy = Field(default_factory=BookingPolicy)
    pricing: Pricing
    route: Route | None = None

    @model_validator(mode="after")
    def _route_has_a_departure(self) -> ResourceFields:
        if self.route is not None and self.policy.unit != "fixed":
            raise ValueError("a route belongs to a fixed-window resource (policy.unit 'fixed'): it departs once")
        return self

    @model_validator(mode="after")
    def _guest_bounds(self) -> ResourceFields:
        check_guest_bounds(self.min_guests, self.max_guests)
        return self

    @model_validator(mode="after")
    def _advisor_profile(self) -> ResourceFields:
        check_advisor_profile(self.attributes, self.route)
        return self


class ResourceInput(ResourceFields):
    venue_id: Id


class ResourceUpdate(ResourceFields):
    """A full replacement of a resource's fields (PUT); `active: true` revives an archived resource."""

    # Immutable: the resource takes its owner, timezone and city from its venue, and its bookings were made on
    # those terms. Sending the current value back is accepted.
    venue_id: Id | None = None


class Rating(DomainModel):
    """A resource's reviews in two numbers (`slotwise.reviews`)."""

    average: float | None = Field(description="mean of the ratings (1-5), two decimals; null before the first review")
    count: int = Field(description="published reviews")


class Resource(DomainModel):
    id: str
    venue_id: str
    owner_id: str
    organisation_id: str = Field(default="", description=ORGANISATION_DESCRIPTION)
    name: str
    type: ResourceType
    capacity: int = Field(description=CAPACITY_DESCRIPTION)
    max_guests: int | None = Field(default=None, description=MAX_GUESTS_DESCRIPTION)
    min_guests: int | None = Field(default=None, description=MIN_GUESTS_DESCRIPTION)
    timezone: str
    city: str
    location: str = ""
    description: str = ""
    amenities: list[str] = Field(default_factory=list)
    attributes: dict[str, str | int | float | bool] = Field(default_factory=dict)
    active: bool = True
    policy: BookingPolicy
    pricing: Pricing
    route: Route | None = None
    schedule_change: ScheduleChange | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1
    # Moved only by the review transactions (ADD on this item, `slotwise.reviews.store`), never by the owner's
    # writes, and without a new version: a review neither changes the ETag a vendor edits against nor is wiped by
    # their PUT (`repository.replace_resource` updates the owner's fields and leaves these alone).
    rating_sum: int = Field(default=0, exclude=True)
    rating_count: int = Field(default=0, exclude=True)

    @model_validator(mode="after")
    def _organisation(self) -> Resource:
        self.organisation_id = self.organisation_id or organisation_id_of(self.owner_id)
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def rating(self) -> Rating:
        if self.rating_count <= 0:
            return Rating(average=None, count=0)
        return Rating(average=round(self.rating_sum / self.rating_count, 2), count=self.rating_count)

    @property
    def etag(self) -> str:
        return f'"{self.version}"'

    @property
    def departure_date(self) -> date | None:
        """The local date a fixed-window resource departs on (its timezone is its origin's)."""
        start = self.policy.fixed_start
        return start.astimezone(self.zone).date() if start is not None else None

    def local_time(self, value: datetime) -> datetime:
        return value.astimezone(ZoneInfo(self.timezone))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class CursorPagination(DomainModel):
    limit: int
    next_cursor: str | None = Field(default=None, description="pass as `cursor` for the next page; null at the end")


class PagePagination(CursorPagination):
    page: int


class VenuePage(DomainModel):
    venues: list[Venue]
    pagination: CursorPagination


class ResourcePage(DomainModel):
    resources: list[Resource]
    # `page` appears only when the request paged by number.
    pagination: PagePagination | CursorPagination


def parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours) % 24, int(minutes))
