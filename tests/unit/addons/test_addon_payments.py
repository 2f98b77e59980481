"""Add-on lines are part of what is paid and refunded: payments and refunds use `price.amount`, which includes
them; the card path and the wallet path agree (moto, through the real handlers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from slotwise.addons import service as addon_service
from slotwise.addons.models import AddonInput
from slotwise.booking import create
from slotwise.booking import store as booking_store
from slotwise.booking.models import BookingCreate
from slotwise.identity.models import Caller
from slotwise.payments import processor, store
from slotwise.payments.provider import use_provider
from tests.support.catalog import VENDOR, make_resource
from tests.support.http import call
from tests.support.payments import FakeProvider, credit, intent_event

START = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=3)
BASE = 2 * 1000  # one hour: two 30-minute granules at 10.00
CATERING = 12 * 450  # per guest, 12 guests
PROJECTOR = 2500  # per booking, stock 1 a day
TOTAL = BASE + CATERING + PROJECTOR
TIERS = {"tiers": [{"minHoursBefore": 168, "percent": 100}, {"minHoursBefore": 48, "percent": 50}], "fee": 100}


@pytest.fixture
def provider(table: str) -> FakeProvider:
    fake = FakeProvider()
    use_provider(fake)
    return fake


def held_with_addons(user: str = "cust") -> tuple[str, str]:
    """A held booking of a payment-confirmed hall with catering and a stocked projector: (booking, projector)."""
    hall = make_resource(kind="hall", policy={"confirmation": "payment", "cancellation": TIERS})
    vendor = Caller(VENDOR, "vendor")
    catering = addon_service.create_addon(
        vendor, hall.id, AddonInput.model_validate({"name": "Catering", "price": 450, "pricing": "per_guest"})
    )
    projector = addon_service.create_addon(
        vendor, hall.id, AddonInput.model_validate({"name": "Projector", "price": PROJECTOR, "stock": 1})
    )
    data: dict[str, Any] = {
        "resourceId": hall.id,
        "startTime": START.isoformat(),
        "endTime": (START + timedelta(hours=1)).isoformat(),
        "guests": 12,
        "addons": [{"addonId": catering.id, "quantity": 1}, {"addonId": projector.id, "quantity": 1}],
    }
    booking = create.create_booking(Caller(user, "customer"), BookingCreate.model_validate(data)).booking
    assert booking.status == "held" and booking.price.amount == TOTAL
    return booking.id, projector.id


def test_the_card_pays_the_total_with_addons_and_a_tiered_refund_is_of_that_total(provider: FakeProvider) -> None:
    booking_id, _ = held_with_addons()
    started = call("POST", f"/api/v1/bookings/{booking_id}/payment", body={}, user="cust", role="customer")
    assert started.status == 201 and started.body["payment"]["amount"] == TOTAL
    assert [request.amount for request in provider.payments] == [TOTAL]
    payment, _ = store.current_payment(booking_id)
    assert payment is not None
    assert processor.handle(intent_event("succeeded", payment)) == "confirmed"
    quote = call("GET", f"/api/v1/bookings/{booking_id}/cancellation-quote", user="cust").body
    assert quote["percent"] == 50 and quote["refundAmount"] == TOTAL // 2 - 100
    cancelled = call("POST", f"/api/v1/bookings/{booking_id}/cancel", body={"refundTo": "card"}, user="cust")
    assert cancelled.body["cancelled"][0]["payment"]["amountRefunded"] == TOTAL // 2 - 100
    assert provider.refunds[-1].amount == TOTAL // 2 - 100


def test_the_wallet_pays_and_gets_back_the_same_total(provider: FakeProvider) -> None:
    credit("cust", 20_000)
    booking_id, _ = held_with_addons()
    paid = call("POST", f"/api/v1/bookings/{booking_id}/payment", body={"walletAmount": "max"}, user="cust")
    assert paid.status == 201 and paid.body["booking"]["status"] == "confirmed"
    assert store.wallet_balances("cust")["EUR"] == 20_000 - TOTAL
    cancelled = call("POST", f"/api/v1/bookings/{booking_id}/cancel", body={"refundTo": "wallet"}, user="cust")
    assert cancelled.status == 200
    assert store.wallet_balances("cust")["EUR"] == 20_000 - TOTAL + TOTAL // 2 - 100
    assert provider.payments == [] and provider.refunds == []


def test_a_failed_payment_gives_the_stock_back(provider: FakeProvider) -> None:
    booking_id, projector = held_with_addons()
    call("POST", f"/api/v1/bookings/{booking_id}/payment", body={}, user="cust", role="customer")
    payment, _ = store.current_payment(booking_id)
    assert payment is not None
    processor.handle(intent_event("payment_failed", payment))
    assert booking_store.get_booking(booking_id).status == "cancelled"  # type: ignore[union-attr]
    hall_id = booking_store.get_booking(booking_id).resource_id  # type: ignore[union-attr]
    again = call(
        "POST",
        "/api/v1/bookings",
        body={
            "resourceId": hall_id,
            "startTime": (START + timedelta(hours=2)).isoformat(),
            "endTime": (START + timedelta(hours=3)).isoformat(),
            "addons": [{"addonId": projector, "quantity": 1}],
        },
        user="other",
        role="customer",
    )
    assert again.status == 201, again.body
