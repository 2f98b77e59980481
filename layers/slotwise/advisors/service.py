"""The advisors' directory: `GET /advisors` and `GET /advisors/{id}`, public.

**Who is listed.** A user with the role `advisor` and the status `active` (an admin approved them and nobody
suspended them) who is at least one active resource (`attributes.advisorUserId`, set by the resource's vendor).
Their profile is on those resources' attributes (`headline`, and `expertise` and `languages` as comma-separated
lists, validated by `slotwise.catalog.models.check_advisor_profile`); an advisor with several resources shows the
first headline (by resource id) and the union of the lists. Their name is their account's.

**No scan.** The catalog keeps a sparse index entry per advisor resource (GSI3 `ADVISORS` /
`<advisorUserId>#<resourceId>`, `slotwise.catalog.repository`), so the directory is a Query of that partition in
advisor order; the cursor is the last advisor listed, and the next page starts after every key of theirs. One
request reads at most `MAX_ADVISORS_READ` advisors, then answers what it found with a cursor (a short page is not
the end: `nextCursor` null is).

**Filters.** `expertise` and `language` match a tag of the profile (case-insensitive); `maxPrice` (minor units,
optionally with `currency`) keeps advisors with a resource at most that price per unit; `availableFrom` /
`availableTo` keep those with a free slot inside that window (the booking engine's candidate windows and
inventory, `slotwise.booking.availability.first_free_slot`). `rating` is the exact sum and count of the reviews of
all their resources (`slotwise.reviews` keeps those on each resource).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from slotwise import errors
from slotwise.advisors.models import Advisor, AdvisorPage, FreeSlot, Price
from slotwise.booking.availability import MAX_GRID_DAYS, first_free_slot
from slotwise.catalog import repository
from slotwise.catalog.models import CursorPagination, Rating, Resource, profile_tags
from slotwise.data.codec import to_item
from slotwise.data.pagination import decode_cursor, encode_cursor
from slotwise.identity import permissions
from slotwise.identity import repository as users
from slotwise.identity.models import Caller, User

LOOKAHEAD = timedelta(days=14)
MAX_ADVISORS_READ = 100
MAX_AVAILABILITY_PAGE = 20
_SCOPE = "advisors"


@dataclass(frozen=True)
class Filters:
    expertise: str | None = None
    language: str | None = None
    max_price: int | None = None
    currency: str | None = None
    available_from: datetime | None = None
    available_to: datetime | None = None

    def check(self, limit: int) -> None:
        frm, to = self.available_from, self.available_to
        if frm is None and to is None:
            return
        if frm is None or to is None:
            raise errors.ValidationFailed("availableFrom and availableTo go together.", code="incomplete_window")
        if frm.tzinfo is None or to.tzinfo is None:
            raise errors.ValidationFailed("availableFrom/availableTo carry a UTC offset.", code="missing_offset")
        if to <= frm:
            raise errors.ValidationFailed("availableTo comes after availableFrom.", code="end_before_start")
        if to - frm > timedelta(days=MAX_GRID_DAYS):
            raise errors.ValidationFailed(f"Ask for at most {MAX_GRID_DAYS} days at a time.", code="range_too_long")
        if limit > MAX_AVAILABILITY_PAGE:
            raise errors.ValidationFailed(
                f"With an availability window, limit is at most {MAX_AVAILABILITY_PAGE}.", code="limit_too_high"
            )


def _listed_user(advisor_id: str) -> User | None:
    user = users.get_user(advisor_id)
    return user if user is not None and user.role == "advisor" and user.status == "active" else None


def _priced(resource: Resource, filters: Filters) -> bool:
    if filters.currency is not None and resource.pricing.currency != filters.currency:
        return False
    return filters.max_price is None or resource.pricing.unit_price <= filters.max_price


def _slot(resource: Resource, frm: datetime, to: datetime, now: datetime) -> FreeSlot | None:
    window = first_free_slot(resource, frm, to, now)
    if window is None:
        return None
    return FreeSlot(
        resource_id=resource.id,
        start_time=window.start.astimezone(resource.zone),
        end_time=window.end.astimezone(resource.zone),
    )


def _rating(resources: list[Resource]) -> Rating:
    total = sum(r.rating_sum for r in resources)
    count = sum(r.rating_count for r in resources)
    return Rating(average=round(total / count, 2) if count > 0 else None, count=count)


def describe(user: User, resources: list[Resource], filters: Filters, now: datetime) -> Advisor | None:
    """The directory's entry for this advisor, or None when they are not listed under these filters."""
    active = sorted((r for r in resources if r.active), key=lambda r: r.id)
    if not active:
        return None
    expertise = _union(active, "expertise")
    languages = _union(active, "languages")
    if filters.expertise is not None and filters.expertise.strip().casefold() not in expertise:
        return None
    if filters.language is not None and filters.language.strip().casefold() not in languages:
        return None
    offered = [r for r in active if _priced(r, filters)]
    frm, to = filters.available_from, filters.available_to
    if frm is not None and to is not None:
        offered = [r for r in offered if _slot(r, frm, to, now) is not None]
    if not offered:
        return None
    cheapest = min(offered, key=lambda r: (r.pricing.unit_price, r.id))
    slots = [slot for r in offered if (slot := _slot(r, now, now + LOOKAHEAD, now)) is not None]
    headline = next((str(r.attributes["headline"]) for r in active if r.attributes.get("headline")), None)
    return Advisor(
        advisor_id=user.id,
        name=user.name,
        headline=headline,
        expertise=expertise,
        languages=languages,
        price=Price(
            currency=cheapest.pricing.currency,
            amount=cheapest.pricing.unit_price,
            unit_minutes=cheapest.policy.granule_minutes if cheapest.policy.unit == "minutes" else None,
        ),
        rating=_rating(resources),
        next_free_slot=min(slots, key=lambda s: s.start_time) if slots else None,
        resource_ids=[r.id for r in offered],
    )


def _union(resources: list[Resource], name: str) -> list[str]:
    found: list[str] = []
    for resource in resources:
        found += [tag for tag in profile_tags(resource.attributes.get(name)) if tag not in found]
    return found


def list_advisors(
    caller: Caller, filters: Filters, *, limit: int, cursor: str | None, now: datetime | None = None
) -> AdvisorPage:
    permissions.require(caller, "catalog.read")
    filters.check(limit)
    now = now or datetime.now(UTC)
    start = decode_cursor(cursor, scope=_SCOPE)
    after = str(start["after"]["S"]) if start and "S" in start.get("after", {}) else None
    if start is not None and after is None:
        raise errors.ValidationFailed("cursor is not one this listing returned", code="invalid_cursor")
    found: list[Advisor] = []
    read = 0
    last: str | None = after
    while True:
        resources, more = repository.advisor_resources(after=last, limit=MAX_ADVISORS_READ)
        advisors = list(dict.fromkeys(a for r in resources if (a := repository.advisor_of(r)) is not None))
        if not advisors:
            return AdvisorPage(advisors=found, pagination=CursorPagination(limit=limit, next_cursor=None))
        for position, advisor_id in enumerate(advisors):
            group = [r for r in resources if repository.advisor_of(r) == advisor_id]
            if position == len(advisors) - 1 and more:
                # The page may have cut this advisor's resources short: read all of theirs.
                group, _ = repository.advisor_resources(advisor_id, limit=MAX_ADVISORS_READ)
            user = _listed_user(advisor_id)
            entry = describe(user, group, filters, now) if user is not None else None
            if entry is not None:
                found.append(entry)
            read += 1
            last = advisor_id
            if len(found) >= limit or read >= MAX_ADVISORS_READ:
                has_more = position < len(advisors) - 1 or more
                next_cursor = encode_cursor(to_item({"after": last}), scope=_SCOPE) if has_more else None
                return AdvisorPage(advisors=found, pagination=CursorPagination(limit=limit, next_cursor=next_cursor))
        if not more:
            return AdvisorPage(advisors=found, pagination=CursorPagination(limit=limit, next_cursor=None))


def get_advisor(caller: Caller, advisor_id: str, now: datetime | None = None) -> Advisor:
    permissions.require(caller, "catalog.read")
    user = _listed_user(advisor_id)
    resources = repository.advisor_resources(advisor_id, limit=MAX_ADVISORS_READ)[0] if user is not None else []
    entry = describe(user, resources, Filters(), now or datetime.now(UTC)) if user is not None else None
    if entry is None:
        raise errors.NotFound(f"No advisor {advisor_id}.", code="advisor_not_found")
    return entry
