"""Creating a booking: the policy checks, then one transaction that puts the booking, its reference and its
Idempotency-Key record and claims every lock key (evicting lapsed holds on the way).

A reference that collides is drawn again; a key used before with the same request answers with the booking it
made (`Created.replayed`), with another request 422.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from slotwise import errors, ratelimit
from slotwise.addons.models import Addon
from slotwise.audit import log as audit
from slotwise.booking import access, addons, claims, keys, policy, references, resources, store
from slotwise.booking.changes import add_claims, add_evictions, add_new_booking, charge_request
from slotwise.booking.deadlines import expire_each
from slotwise.booking.models import EXPIRING, Booking, BookingCreate, BookingStatus, HistoryEntry
from slotwise.booking.pricing import price_of
from slotwise.booking.resources import bookable_resource
from slotwise.booking.windows import Window, now_utc, window_of
from slotwise.catalog import repository as catalog_store
from slotwise.catalog.models import Resource
from slotwise.identity import permissions
from slotwise.identity.models import Caller
from slotwise.transaction import Tag, Transaction

IDEMPOTENCY_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class Created:
    booking: Booking
    replayed: bool = False


INITIAL_STATUS: dict[str, BookingStatus] = {
    "auto": "confirmed",
    "approval": "awaiting_approval",
    "approval_then_payment": "awaiting_approval",
    "payment": "held",
    # Held while the card is authorized (the payment with capture_method=manual); the authorization confirms it.
    "authorize_then_capture": "held",
}


def initial_status(resource: Resource) -> BookingStatus:
    return INITIAL_STATUS[resource.policy.confirmation]


def first_deadline(resource: Resource, status: str, now: datetime) -> tuple[datetime | None, datetime | None]:
    """When a new booking lapses, and when its decider is reminded (half-way through a request's wait).

    A request waits `approvalTtlHours` when the policy names it (a person's time: days, not minutes), else the hold
    TTL, like a hold for payment."""
    policy = resource.policy
    if status not in EXPIRING:
        return None, None
    if status == "awaiting_approval" and policy.approval_ttl_hours is not None:
        wait = timedelta(hours=policy.approval_ttl_hours)
        return now + wait, now + wait / 2
    return now + timedelta(seconds=policy.hold_ttl_seconds), None


def new_booking(
    resource: Resource,
    window: Window,
    data: BookingCreate,
    *,
    customer_id: str,
    created_by: str,
    now: datetime,
    series_id: str | None = None,
    request_id: str | None = None,
    chosen_addons: list[Addon] | None = None,
) -> Booking:
    """The booking `data` asks for; `chosen_addons` are the add-ons it names, as `addons.chosen` checked them."""
    status = initial_status(resource)
    expires, remind_at = first_deadline(resource, status, now)
    start, end = window.start.astimezone(resource.zone), window.end.astimezone(resource.zone)
    lock_keys = keys.lock_keys(resource, window)
    booked_addons = addons.booked(chosen_addons or [], data.addons) if data.addons else []
    return Booking(
        id=str(uuid.uuid4()),
        reference=references.new_reference(),
        resource_id=resource.id,
        resource_name=resource.name,
        resource_type=resource.type,
        venue_id=resource.venue_id,
        vendor_id=resource.owner_id,
        customer_id=customer_id,
        created_by=created_by,
        timezone=resource.timezone,
        start_time=start,
        end_time=end,
        check_in=window.check_in,
        check_out=window.check_out,
        quantity=data.quantity,
        lock_keys=lock_keys,
        addons=booked_addons,
        stock_claims=addons.stock_claims(resource, window, lock_keys, booked_addons),
        status=status,
        expires_at=expires,
        price=price_of(resource, window, data.quantity, addons.choices(booked_addons), data.guests),
        title=data.title,
        description=data.description,
        attendees=data.attendees,
        guests=data.guests,
        metadata=data.metadata,
        series_id=series_id,
        occurrence_date=start.date() if series_id else None,
        history=[HistoryEntry(at=now, by=created_by, action="created")],
        request_id=request_id,
        reminder_minutes=list(resource.policy.reminder_minutes),
        cancellation_policy=resource.policy.cancellation,
        confirmation=resource.policy.confirmation,
        payment_due_minutes=resource.policy.payment_due_minutes
        if resource.policy.confirmation == "approval_then_payment"
        else None,
        approval_reminder_at=remind_at,
        created_at=now,
        updated_at=now,
    )


def create_booking(
    caller: Caller,
    data: BookingCreate,
    *,
    idempotency_key: str | None = None,
    now: datetime | None = None,
    notify_attendees: bool = True,
) -> Created:
    now = now or now_utc()
    permissions.require(caller, "booking.create")
    customer = access.customer_for(caller, data.customer_id, data.created_by)
    resource = access.resource_visible(caller, bookable_resource(data.resource_id), data.resource_id)
    window = window_of(resource, data)
    policy.check_policy(resource, window, data.quantity, now)
    policy.check_guests(resource, data.guests)
    booking = new_booking(
        resource,
        window,
        data,
        customer_id=customer,
        created_by=caller.user_id or customer,
        now=now,
        request_id=caller.request_id,
        chosen_addons=addons.chosen(resource, data.addons) if data.addons else None,
    ).model_copy(update={"notify_attendees": notify_attendees})
    limits = addons.stock_limits(resource.id, booking.stock_claims) if booking.stock_claims else {}
    hashed = request_hash(caller, data)
    cap = ratelimit.active_hold_cap(caller)
    if booking.status in EXPIRING:
        # Holds are the expensive, abusable writes (OWASP API6): they take a token before the transaction, so
        # requests refused earlier (403, 404, 422) spend none, and a firm booking stays one write call.
        ratelimit.booking_write(caller)

    def build(booking: Booking, state: claims.ClaimState) -> Transaction:
        tx = Transaction()
        add_new_booking(tx, booking, hold_cap=cap)
        if idempotency_key:
            tx.put_new(
                Tag("idempotency", idempotency_key),
                {
                    "PK": idempotency_pk(caller, idempotency_key),
                    "SK": "IDEMP",
                    "type": "idempotency",
                    "bookingId": booking.id,
                    "requestHash": hashed,
                    "ttl": int((now + IDEMPOTENCY_TTL).timestamp()),
                },
            )
        add_claims(tx, booking, booking.lock_keys, state, resource.capacity)
        addons.add_stock_claims(tx, booking, booking.stock_claims, state, limits)
        if resource.policy.unit == "fixed":
            # Sold for the window read: a schedule change committed meanwhile fails this booking, never strands it.
            tx.add(Tag("resource", resource.id), catalog_store.window_check(resource))
        evicted = add_evictions(tx, state, now)
        tx.audit(
            audit.entry(
                caller,
                "booking.create",
                "booking",
                booking.id,
                at=now,
                detail={
                    "resourceId": booking.resource_id,
                    "customerId": booking.customer_id,
                    "status": booking.status,
                    "reference": booking.reference,
                    "evicted": evicted or None,
                },
            )
        )
        charge_request(tx)
        return tx

    state = claims.ClaimState()
    while True:
        outcome = claims.run(
            partial(build, booking),
            resource=resource,
            booking_id=booking.id,
            quantity=booking.quantity,
            capacity=resource.capacity,
            now_epoch=int(now.timestamp()),
            state=state,
            expire_separately=lambda ids: expire_each(ids, now),
            stock=limits,
        )
        if isinstance(outcome, claims.Committed):
            return Created(booking)
        failed = outcome.failed
        if idempotency_key and failed.of_kind("idempotency"):
            return Created(_replayed(caller, idempotency_key, hashed), replayed=True)
        if failed.of_kind("resource"):
            resources.forget(resource.id)  # so that the customer's next attempt sees the new times
            raise errors.Conflict(
                "The departure was rescheduled while you booked; look at the new times and book again.",
                code="schedule_changed",
            ) from failed
        if not failed.of_kind("reference"):
            claims.refuse(failed)
        booking = booking.model_copy(update={"reference": references.new_reference()})


def request_hash(caller: Caller, data: BookingCreate) -> str:
    canonical = json.dumps([caller.user_id, data.model_dump(mode="json")], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotency_pk(caller: Caller, key: str) -> str:
    return f"IDEMP#{caller.user_id}#{key}"


def _replayed(caller: Caller, key: str, hashed: str) -> Booking:
    """The Idempotency-Key was used before: the booking it made, if the request was this one."""
    record = store.get_plain(idempotency_pk(caller, key), "IDEMP")
    if record is None:  # expired between the failed condition and this read: treat as contention
        raise errors.Conflict("The Idempotency-Key is being used by a request in flight.", code="idempotency_in_flight")
    if record["requestHash"] != hashed or "bookingId" not in record:
        raise errors.ValidationFailed(
            "This Idempotency-Key was used with a different request; use a new key for a new booking.",
            code="idempotency_key_reused",
        )
    booking = store.get_booking(record["bookingId"])
    if booking is None:
        raise errors.NotFound("The booking this key created no longer exists.", code="booking_not_found")
    return booking
