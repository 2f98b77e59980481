"""Payments, refunds and wallet entries: what the API accepts and what is stored. Money is integer minor units."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from slotwise.models import ApiModel, DomainModel

PaymentStatus = Literal[
    # waiting for the customer to pay the card share at the provider
    "requires_payment",
    # an asynchronous method (a bank debit) is on its way; the booking is `payment_pending`
    "processing",
    "succeeded",
    # the provider said no, or the checkout expired: the booking's hold is released, the wallet share returned
    "failed",
    # the booking ended (expired, cancelled) before the payment: voided at the provider, wallet share returned
    "canceled",
    # paid after the booking could no longer be confirmed (the hold lapsed and the slot went): refunded in full
    "refunded_unconfirmed",
    # authorize_then_capture: the card is authorized (the booking confirmed), nothing taken yet
    "authorized",
    # the capture was asked of the provider (the session completed); `succeeded` when its event arrives
    "capturing",
]
OPEN_PAYMENT: frozenset[str] = frozenset({"requires_payment", "processing"})
# An authorization the reconciler must not forget: captured or released before the provider's window closes.
AUTHORIZED: frozenset[str] = frozenset({"authorized", "capturing"})
RefundStatus = Literal["requested", "pending", "succeeded", "failed", "canceled"]
RefundDestination = Literal["card", "wallet"]
WalletEntryKind = Literal["payment", "payment_returned", "refund", "top_up"]
# A wallet top-up: `pending` until the provider's event says `succeeded` (the wallet is credited then, once) or
# `failed` / `cancelled` (nothing credited). `refunded`: the money arrived after the top-up had failed, and went back
# to the card, as a booking payment that succeeds too late is refunded (docs/payments.md).
TopUpStatus = Literal["pending", "succeeded", "failed", "cancelled", "refunded"]


class PaymentCreate(ApiModel):
    """Pay for a held booking. The amount is the booking's price, never the client's; the wallet may pay part."""

    wallet_amount: Annotated[
        int | Literal["max"], Field(description='minor units from the wallet, or "max" (as much as it holds)')
    ] = 0


class Payment(DomainModel):
    id: str
    booking_id: str
    booking_reference: str
    customer_id: str
    created_by: str
    vendor_id: str
    resource_id: str
    attempt: int
    currency: str
    amount: int
    wallet_amount: int
    card_amount: int
    status: PaymentStatus
    provider: str
    flow: str | None = None
    provider_ref: str | None = None  # pi_... / cs_...
    payment_intent_id: str | None = None  # known at creation (intent flow) or from the webhook (checkout)
    amount_refunded: int = 0
    failure_reason: str | None = None
    # Stripe events applied to this payment, newest last (ids; the dedupe itself is a conditional item).
    events: list[str] = Field(default_factory=list)
    version: int = 1
    created_at: datetime
    updated_at: datetime
    # The hold's deadline when the payment started: after it, a reconciler voids an unpaid payment.
    expires_at: datetime | None = None
    # `manual`: an authorization (authorize_then_capture), captured when the session completes.
    capture_method: Literal["automatic", "manual"] = "automatic"
    authorized_at: datetime | None = None
    captured_at: datetime | None = None
    # When the capture was last asked of the provider (None: marked for the reconciler to ask).
    capture_sent_at: datetime | None = None

    def public(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True, exclude={"events"})


class Refund(DomainModel):
    id: str
    payment_id: str
    booking_id: str
    customer_id: str
    vendor_id: str
    currency: str
    amount: int
    destination: RefundDestination
    status: RefundStatus
    reason: str
    provider_ref: str | None = None
    failure_reason: str | None = None
    attempts: int = 0
    version: int = 1
    created_at: datetime
    updated_at: datetime

    def public(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True)


class WalletEntry(DomainModel):
    id: str
    user_id: str
    currency: str
    amount: int  # + credit, - debit
    kind: WalletEntryKind
    booking_id: str | None = None  # None: not a booking's money (a top-up)
    top_up_id: str | None = None
    payment_id: str | None = None
    refund_id: str | None = None
    note: str = ""
    at: datetime

    def public(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True, exclude={"user_id"})


class RefundQuote(DomainModel):
    """What cancelling now would give back, before the customer decides."""

    booking_id: str
    currency: str
    amount_paid: int
    already_refunded: int
    percent: int
    fee: int
    refund_amount: int
    tier_min_hours_before: int | None
    # When this quote gets worse (the next tier boundary), None when it cannot.
    valid_until: datetime | None
    by: Literal["customer", "provider"]
    refund_to: list[RefundDestination]
    default_refund_to: RefundDestination


class TopUpCreate(ApiModel):
    """Add money to your wallet through the payment provider. Limits per top-up and per day are the server's."""

    amount: Annotated[int, Field(gt=0, le=10**9, description="minor units (cents), more than 0")]
    currency: Annotated[str, Field(min_length=3, max_length=3, pattern=r"^[A-Z]{3}$", description="ISO 4217")]


class TopUp(DomainModel):
    id: str
    user_id: str
    amount: int
    currency: str
    status: TopUpStatus
    provider: str
    flow: str | None = None
    provider_ref: str | None = None  # pi_... / cs_...
    payment_intent_id: str | None = None
    failure_reason: str | None = None
    # The UTC day whose limit this top-up counts against (YYYY-MM-DD).
    day: str
    version: int = 1
    created_at: datetime
    updated_at: datetime

    def public(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True, exclude={"user_id", "day", "version"})
