"""Request bodies of the availability endpoints."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from slotwise.booking.models import BookingTimes
from slotwise.models import ApiModel, Id


class BulkAvailabilityRequest(ApiModel):
    resource_id: Id
    time_slots: list[BookingTimes] = Field(min_length=1, max_length=100)
    quantity: Annotated[int, Field(ge=1, le=10_000)] = 1
