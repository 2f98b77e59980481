"""Demo data for the local runtime: one business of each kind the seeds describe, and a user per role.

Loaded through the same services the API uses, so it is valid by the same rules. Loading twice is a no-op: the
users have fixed ids and a marker item records that the catalog was seeded.

Each demo user signs in with `POST /api/v1/auth/login` as `<role>@demo.slotwise.test` and the password
`slotwise-demo-<role>` (DEMO_PASSWORD). These are local-only: demo data is loaded by the local runtime only.

The demo vendor runs the hostel, the airline desk and the halls as one organisation (`org-demo-vendor`): the demo
staff member works for it (the hostel's front desk: its bookings, check-outs, no-shows) and the demo agent sells
its flights for customers. Loading also runs the organisation index backfill to its end (slotwise.booking.backfill),
so a table persisted from before GSI5 lists every booking.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from slotwise import aws
from slotwise.addons import service as addons
from slotwise.addons.models import AddonInput
from slotwise.booking import backfill
from slotwise.booking.changes import add_new_booking
from slotwise.booking.create import new_booking
from slotwise.booking.models import BookingCreate
from slotwise.booking.windows import window_for
from slotwise.catalog import service as catalog
from slotwise.catalog.models import Resource, ResourceInput, VenueInput
from slotwise.data.dynamo import table_name
from slotwise.identity import passwords
from slotwise.identity.models import ROLES, Caller, Role, User, organisation_id_of
from slotwise.identity.repository import get_user, put_user, set_password_hash
from slotwise.organisations import service as organisations
from slotwise.organisations.service import MemberInput
from slotwise.transaction import Transaction, execute

DEMO_PASSWORD = "slotwise-demo-{role}"  # noqa: S105 - known on purpose: local demo accounts only

USERS = [
    User(
        id=f"demo-{role}",
        email=f"{role}@demo.slotwise.test",
        name=f"Demo {role.title()}",
        role=role,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    for role in ROLES
    if role != "guest"
]
VENDOR = Caller(user_id="demo-vendor", role="vendor")

BUSINESS_HOURS = {day: [{"start": "09:00", "end": "18:00"}] for day in ("mon", "tue", "wed", "thu", "fri")}


def _catalog(departure: datetime) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    arrival = departure + timedelta(hours=7, minutes=45)
    flight = {
        "unit": "fixed",
        "fixedStart": departure.isoformat(),
        "fixedEnd": arrival.isoformat(),
        "confirmation": "payment",
        "holdTtlSeconds": 900,
    }
    route = {"origin": "LHR", "destination": "JFK", "flightNumber": "SW101", "destinationTimezone": "America/New_York"}
    return [
        (
            {
                "name": "Harbour Hostel",
                "city": "Lisbon",
                "country": "PT",
                "timezone": "Europe/Lisbon",
                "address": "Rua do Cais 12",
                "amenities": ["wifi", "kitchen"],
            },
            [
                {
                    "name": "Private double",
                    "type": "room",
                    "capacity": 1,
                    "amenities": ["ensuite"],
                    "policy": {
                        "unit": "night",
                        "maxUnits": 14,
                        "confirmation": "payment",
                        # The hostel's terms: a week ahead everything back, two days half, one day a quarter.
                        "cancellation": {
                            "tiers": [
                                {"minHoursBefore": 168, "percent": 100},
                                {"minHoursBefore": 48, "percent": 50},
                                {"minHoursBefore": 24, "percent": 25},
                            ],
                            "fee": 500,
                        },
                    },
                    "pricing": {
                        "currency": "EUR",
                        "unitPrice": 6500,
                        "rules": [{"name": "weekend", "unitPrice": 8000, "weekdays": ["fri", "sat"]}],
                    },
                },
                {
                    "name": "8-bed dorm",
                    "type": "dorm",
                    "capacity": 8,
                    "amenities": ["lockers"],
                    "policy": {"unit": "night", "maxUnits": 30, "confirmation": "payment"},
                    "pricing": {"currency": "EUR", "unitPrice": 2200},
                },
            ],
        ),
        (
            {
                "name": "SW 101 London to New York",
                "city": "London",
                "country": "GB",
                "timezone": "Europe/London",
                "address": "Heathrow T5",
                "description": "Flight SW101 LHR-JFK",
            },
            [
                {
                    "name": "Economy",
                    "type": "seat_pool",
                    "capacity": 150,
                    "policy": flight,
                    "pricing": {"currency": "GBP", "unitPrice": 42000},
                    "route": route,
                },
                {
                    "name": "Business",
                    "type": "seat_pool",
                    "capacity": 24,
                    "policy": flight,
                    "pricing": {"currency": "GBP", "unitPrice": 189000},
                    "route": route,
                },
            ],
        ),
        (
            {
                "name": "Canal Street Offices",
                "city": "Amsterdam",
                "country": "NL",
                "timezone": "Europe/Amsterdam",
                "amenities": ["wifi"],
            },
            [
                {
                    "name": "Conference Room A",
                    "type": "meeting_room",
                    "capacity": 1,
                    "location": "Floor 3",
                    "amenities": ["projector", "whiteboard", "video_conference"],
                    "attributes": {"seats": 10},
                    "policy": {
                        "unit": "minutes",
                        "granuleMinutes": 15,
                        "maxUnits": 32,
                        "openingHours": BUSINESS_HOURS,
                        "bufferAfterMinutes": 15,
                    },
                    "pricing": {"currency": "EUR", "unitPrice": 1000},
                },
            ],
        ),
        (
            {"name": "Northstar Advisors", "city": "New York", "country": "US", "timezone": "America/New_York"},
            [
                {
                    "name": "Dana Whitfield, tax advisor",
                    "type": "advisor",
                    "capacity": 1,
                    # The demo advisor's profile in the directory (`GET /advisors`; slotwise.advisors).
                    "attributes": {
                        "advisorUserId": "demo-advisor",
                        "headline": "Tax returns, pensions and small-business accounts",
                        "expertise": "tax, pensions, small business",
                        "languages": "en, es",
                    },
                    "policy": {
                        "unit": "minutes",
                        "granuleMinutes": 30,
                        "minUnits": 1,
                        "maxUnits": 4,
                        "minNoticeMinutes": 720,
                        # The advisor accepts, then the client pays within two hours; a request waits three days.
                        "confirmation": "approval_then_payment",
                        "approvalTtlHours": 72,
                        "paymentDueMinutes": 120,
                        "openingHours": BUSINESS_HOURS,
                    },
                    "pricing": {"currency": "USD", "unitPrice": 7500},
                },
            ],
        ),
        (
            {
                "name": "Grand Lotus Banquets",
                "city": "Mumbai",
                "country": "IN",
                "timezone": "Asia/Kolkata",
                "amenities": ["parking", "catering", "air_conditioning"],
            },
            [
                {
                    "name": "Lotus Hall",
                    "type": "hall",
                    # One event at a time (capacity counts bookings); up to 400 guests each, at least 50.
                    "capacity": 1,
                    "maxGuests": 400,
                    "minGuests": 50,
                    "amenities": ["stage", "sound_system"],
                    "policy": {
                        "unit": "minutes",
                        "granuleMinutes": 60,
                        "minUnits": 4,
                        "maxUnits": 16,
                        "bufferBeforeMinutes": 60,
                        "bufferAfterMinutes": 120,
                        "confirmation": "payment",
                        "maxHorizonDays": 540,
                        # The hall site refunds to the customer's wallet unless they ask for the card.
                        "cancellation": {
                            "tiers": [
                                {"minHoursBefore": 720, "percent": 100},
                                {"minHoursBefore": 168, "percent": 50},
                            ],
                            "defaultRefundTo": "wallet",
                        },
                    },
                    "pricing": {
                        "currency": "INR",
                        "unitPrice": 1500000,
                        "rules": [{"name": "weekend", "unitPrice": 2200000, "weekdays": ["sat", "sun"]}],
                    },
                },
            ],
        ),
    ]


# Add-ons of the demo halls, by resource name: a stocked one (two projectors per venue-day), per guest, per booking.
_ADDONS: dict[str, list[dict[str, Any]]] = {
    "Lotus Hall": [
        {
            "name": "Projector and screen",
            "price": 250000,
            "pricing": "per_booking",
            "stock": 2,
            "stockScope": "per_day",
        },
        {
            "name": "Veg buffet",
            "description": "Per guest, served for the booked time.",
            "price": 90000,
            "pricing": "per_guest",
        },
        {"name": "Stage decoration", "price": 1500000, "pricing": "per_booking"},
        {"name": "Extra sound engineer", "price": 200000, "pricing": "per_unit", "stock": 1, "stockScope": "per_slot"},
    ],
}

_MARKER = {"PK": {"S": "DEMO"}, "SK": {"S": "SEEDED"}}


def _put_with_password(user: User) -> bool:
    """Store a demo user with its known password; give one stored earlier without a password hash its password."""
    password = DEMO_PASSWORD.format(role=user.role)
    if put_user(user.model_copy(update={"password_hash": passwords.hash_password(password)})):
        return True
    stored = get_user(user.id)
    if stored is not None and stored.password_hash is None:
        set_password_hash(stored, passwords.hash_password(password))
    return False


def load(now: datetime | None = None) -> dict[str, int]:
    """Load the demo data once; returns how many of each kind were written this time."""
    counts = {"users": sum(_put_with_password(user) for user in USERS), "venues": 0, "resources": 0}
    counts["members"] = _join_organisation()
    counts["bookings_indexed"] = backfill.backfill_all()
    client = aws.dynamodb()
    try:
        client.put_item(TableName=table_name(), Item=_MARKER, ConditionExpression="attribute_not_exists(PK)")
    except client.exceptions.ConditionalCheckFailedException:
        return counts
    now = now or datetime.now(UTC)
    departure = (now + timedelta(days=30)).replace(hour=8, minute=30, second=0, microsecond=0)
    for venue_data, resources in _catalog(departure):
        venue = catalog.create_venue(VENDOR, VenueInput.model_validate(venue_data))
        counts["venues"] += 1
        for resource_data in resources:
            resource = catalog.create_resource(
                VENDOR, ResourceInput.model_validate({**resource_data, "venueId": venue.id})
            )
            for addon_data in _ADDONS.get(resource.name, []):
                addons.create_addon(VENDOR, resource.id, AddonInput.model_validate(addon_data))
            if resource.name == PAST_EVENT_AT:
                _past_event(resource, now)
            counts["resources"] += 1
    return counts


# The demo vendor's organisation: its staff member and its agent (the roles' demo users).
MEMBERS: tuple[Role, ...] = ("staff", "agent")


def _join_organisation() -> int:
    """Add the demo staff member and agent to the demo vendor's organisation; those already in it stay."""
    added = 0
    for role in MEMBERS:
        membership = organisations.membership_of(Caller(user_id=f"demo-{role}", role=role))
        if membership is None:
            body = MemberInput.model_validate({"email": f"{role}@demo.slotwise.test", "role": role})
            organisations.add_member(VENDOR, organisation_id_of("demo-vendor"), body)
            added += 1
    return added


# The demo customer's event that already took place, so that reviewing works on a fresh `make dev`.
PAST_EVENT_AT = "Lotus Hall"


def _past_event(resource: Resource, now: datetime) -> None:
    """A completed booking of the demo customer, three weeks ago. Written as history (no API makes a booking in
    the past): the booking and its reference in one transaction, its inventory long released."""
    local_day = (now - timedelta(days=21)).astimezone(resource.zone).date()
    start = datetime.combine(local_day, time(18, 0), resource.zone)
    window = window_for(resource, start=start, end=start + timedelta(hours=5))
    data = BookingCreate.model_validate({"resourceId": resource.id, "guests": 180, "title": "Anniversary dinner"})
    made = new_booking(resource, window, data, customer_id="demo-customer", created_by="demo-customer", now=now)
    booking = made.model_copy(
        update={"status": "completed", "expires_at": None, "created_at": start - timedelta(days=60), "updated_at": now}
    )
    tx = Transaction()
    add_new_booking(tx, booking)
    execute(tx)
