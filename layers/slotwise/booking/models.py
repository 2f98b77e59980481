"""Bookings: what a caller asks for, what is stored, and the state machine that moves them."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from slotwise.addons.models import AddonPricing, AddonRequests, StockScope, check_distinct
from slotwise.catalog.models import AwareDatetime, CancellationPolicy, Confirmation
from slotwise.models import ApiModel, BoundedDate, DomainModel, Id, OneLine

BookingStatus = Literal[
    "held",
    "awaiting_approval",
    "payment_pending",
    "confirmed",
    "in_progress",
    "rejected",
    "cancelled",
    "expired",
    "completed",
    "no_show",
]
# Statuses that keep inventory claimed. `payment_pending`: an asynchronous payment (a bank debit) is on its way; the
# slot is kept firmly, without a deadline, until the provider says whether it succeeded.
HOLDING: frozenset[str] = frozenset({"held", "awaiting_approval", "payment_pending", "confirmed"})
# Statuses whose claim lapses at `expiresAt` unless confirmed first.
EXPIRING: frozenset[str] = frozenset({"held", "awaiting_approval"})

# A session under way (`POST /bookings/{id}/start`): its inventory stays claimed, it can no longer be moved or
# cancelled, only completed.
SESSION_STATUSES: frozenset[str] = frozenset({"confirmed", "in_progress"})

TRANSITIONS: dict[str, frozenset[str]] = {
    "held": frozenset({"confirmed", "payment_pending", "cancelled", "expired"}),
    # Only the payment's outcome moves it (slotwise.payments.processor): paid, or failed and released.
    "payment_pending": frozenset({"confirmed", "cancelled"}),
    # `held`: accepted under approval_then_payment, now waiting for the customer's payment.
    "awaiting_approval": frozenset({"confirmed", "held", "rejected", "cancelled", "expired"}),
    "confirmed": frozenset({"cancelled", "in_progress", "completed", "no_show"}),
    "in_progress": frozenset({"completed"}),
    # The timers job completes every booking at its end; the vendor may then say the customer never came.
    "completed": frozenset({"no_show"}),
}

MetadataValue = str | int | float | bool
Text = Annotated[str, Field(max_length=4000)]


class PriceLineOut(DomainModel):
    description: str
    unit_price: int
    units: int
    amount: int
    # Set on an add-on's line (`slotwise.booking.pricing`): which add-on it prices.
    addon_id: str | None = None


class BookedAddon(DomainModel):
    """An add-on as the booking took it: its terms then, so editing or archiving the add-on changes nothing here."""

    addon_id: str
    name: str
    quantity: int
    unit_price: int
    pricing: AddonPricing
    stock_scope: StockScope | None = None


class StockClaim(DomainModel):
    """One add-on stock key the booking holds (`slotwise.booking.addons`), and how many of it."""

    addon_id: str
    key: str
    quantity: int


class Price(DomainModel):
    currency: str
    amount: int
    quantity: int
    lines: list[PriceLineOut] = Field(default_factory=list)


class Cancellation(DomainModel):
    reason: str = ""
    at: datetime
    by: str | None


class HistoryEntry(DomainModel):
    at: datetime
    by: str | None
    action: str
    from_start: datetime | None = None
    from_end: datetime | None = None
    to_start: datetime | None = None
    to_end: datetime | None = None
    note: str = ""


# `authorized`: the card is authorized (authorize_then_capture) and is captured when the session completes;
# `voided`: that authorization was released (cancelled before the start), nothing was taken.
PaymentState = Literal["unpaid", "authorized", "voided", "paid", "partially_refunded", "refunded"]


class BookingPayment(DomainModel):
    """What was paid for a booking and what went back: the payment's summary on the booking."""

    payment_id: str
    state: PaymentState = "paid"
    currency: str
    amount_paid: int
    card_amount: int = 0
    wallet_amount: int = 0
    amount_refunded: int = 0
    # The part of amount_refunded credited to the customer's wallet (the rest went back to the card).
    wallet_refunded: int = 0


class SentReminder(DomainModel):
    minutes: int
    at: datetime


class Booking(DomainModel):
    id: str
    reference: str
    resource_id: str
    resource_name: str
    resource_type: str
    venue_id: str
    vendor_id: str
    customer_id: str
    created_by: str
    timezone: str
    start_time: datetime
    end_time: datetime
    check_in: date | None = None
    check_out: date | None = None
    quantity: int
    lock_keys: list[str]
    addons: list[BookedAddon] = Field(default_factory=list)
    # The add-on stock keys held, like lock_keys the engine's business (claimed and released with them).
    stock_claims: list[StockClaim] = Field(default_factory=list)
    status: BookingStatus
    version: int = 1
    expires_at: datetime | None = None
    price: Price
    title: str = ""
    description: str = ""
    attendees: list[str] = Field(default_factory=list)
    # Whether the attendees are e-mailed about this version (the `notifyAttendees` query parameter of the change).
    notify_attendees: bool = True
    guests: int | None = None
    metadata: dict[str, MetadataValue] = Field(default_factory=dict)
    series_id: str | None = None
    occurrence_date: date | None = None
    cancellation: Cancellation | None = None
    # The resource's cancellation policy when booked: later policy changes never change an existing booking's quote.
    cancellation_policy: CancellationPolicy | None = None
    # Until then the customer may cancel with everything back, whatever the tier: the operator moved the booking
    # (a schedule change).
    full_refund_until: datetime | None = None
    payment: BookingPayment | None = None
    history: list[HistoryEntry] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    # Reminders to send (minutes before the start, from the resource's policy when booked) and the timers already
    # handled: `reminder:<minutes>` and `complete` (slotwise.booking.timers). A reschedule starts them afresh.
    reminder_minutes: list[int] = Field(default_factory=list)
    timers_done: list[str] = Field(default_factory=list)
    last_reminder: SentReminder | None = None
    # The API request that produced this version: the correlation id of its domain event (None for jobs).
    request_id: str | None = None
    # The resource's confirmation policy when booked (None: made before it was recorded, read as the resource's):
    # an approval_then_payment request becomes a hold for payment when accepted, an authorize_then_capture
    # booking is captured when it completes.
    confirmation: Confirmation | None = None
    payment_due_minutes: int | None = None
    # A request's half-way reminder to its decider (approvalTtlHours / 2 after it was made), sent once.
    approval_reminder_at: datetime | None = None
    approval_reminded: bool = False
    started_at: datetime | None = None
    # When the front desk checked the guest in (POST /bookings/{id}/check-in); the stay is then in progress.
    checked_in_at: datetime | None = None

    def public(self) -> dict[str, object]:
        """The booking as the API shows it (lock keys and the request id are the engine's business)."""
        return self.model_dump(mode="json", by_alias=True, exclude={"lock_keys", "stock_claims", "request_id"})

    @property
    def expires_epoch(self) -> int:
        """When the claim lapses, as stored on each inventory item; 0 for a firm (confirmed) claim."""
        if self.status in EXPIRING and self.expires_at is not None:
            return int(self.expires_at.timestamp())
        return 0


MAX_ATTENDEES = 50
# Deliberately simple, like the sign-up's check (slotwise.identity.models): one @, no spaces, a dot in the domain.
_ATTENDEE_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def _attendee_email(value: str) -> str:
    value = value.strip().lower()
    if len(value) > 254 or not _ATTENDEE_EMAIL.match(value):
        raise ValueError("an attendee is an e-mail address")
    return value


AttendeeEmail = Annotated[str, Field(min_length=3, max_length=254), AfterValidator(_attendee_email)]


class BookingDetails(ApiModel):
    title: Annotated[OneLine, Field(max_length=200)] = ""
    description: Text = ""
    # E-mail addresses; the notifier sends each an invitation and a cancellation (unless notifyAttendees=false).
    attendees: list[AttendeeEmail] = Field(default_factory=list, max_length=MAX_ATTENDEES)
    guests: Annotated[int, Field(ge=0, le=100_000)] | None = None
    metadata: dict[Annotated[str, Field(min_length=1, max_length=60)], MetadataValue] = Field(
        default_factory=dict, max_length=30
    )


class BookingTimes(ApiModel):
    """When: start/end for timed resources, check-in/check-out dates for nights, nothing for a fixed window."""

    start_time: AwareDatetime | None = None
    end_time: AwareDatetime | None = None
    check_in: BoundedDate | None = None
    check_out: BoundedDate | None = None


class BookingCreate(BookingTimes, BookingDetails):
    resource_id: Id
    quantity: Annotated[int, Field(ge=1, le=10_000)] = 1
    # Each add-on once; stocked ones are claimed in the booking's own transaction.
    addons: AddonRequests = Field(default_factory=list)
    # Agents and staff book on behalf of a customer; everyone else books for themselves.
    customer_id: Id | None = None
    # Documented by the resource-booking API; accepted only when it names the caller (never to act as someone else).
    created_by: Id | None = None

    @model_validator(mode="after")
    def _distinct_addons(self) -> BookingCreate:
        check_distinct(self.addons)
        return self


class BookingUpdate(BookingDetails):
    pass


class RescheduleRequest(BookingTimes):
    reason: Annotated[str, Field(max_length=500)] = ""


class CancelRequest(ApiModel):
    reason: Annotated[str, Field(max_length=500)] = ""
    # A paid booking's refund: back to the card or to the wallet (default: the resource's policy says).
    refund_to: Literal["card", "wallet"] | None = None
    # For a series occurrence: cancel this one, or this one and every later one.
    scope: Literal["this", "this_and_following"] = "this"


class DecisionRequest(ApiModel):
    reason: Annotated[str, Field(max_length=500)] = ""


class RecurringCreate(BookingCreate):
    recurrence_rule: Annotated[str, Field(min_length=1, max_length=500)]
    mode: Literal["all_or_nothing", "skip_conflicts"] = "all_or_nothing"

    @model_validator(mode="after")
    def _timed(self) -> RecurringCreate:
        if self.start_time is None or self.end_time is None:
            raise ValueError("a recurring booking names the first occurrence's startTime and endTime")
        return self


class ExceptionCreate(ApiModel):
    exception_type: Literal["cancelled", "modified"]
    exception_date: BoundedDate
    reason: Annotated[str, Field(max_length=500)] = ""
    new_start_time: AwareDatetime | None = None
    new_end_time: AwareDatetime | None = None
    new_title: Annotated[OneLine, Field(max_length=200)] | None = None

    @model_validator(mode="after")
    def _coherent(self) -> ExceptionCreate:
        if self.exception_type == "cancelled" and (self.new_start_time or self.new_end_time or self.new_title):
            raise ValueError("a cancelled occurrence takes no new times or title")
        if self.exception_type == "modified" and not (self.new_start_time or self.new_end_time or self.new_title):
            raise ValueError("a modified occurrence names newStartTime/newEndTime and/or newTitle")
        if (self.new_start_time is None) != (self.new_end_time is None):
            raise ValueError("newStartTime and newEndTime go together")
        return self
