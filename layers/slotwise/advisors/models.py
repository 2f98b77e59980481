"""An advisor as the public directory shows them."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from slotwise.catalog.models import CursorPagination, Rating
from slotwise.models import DomainModel


class Price(DomainModel):
    currency: str
    amount: int = Field(description="the lowest price per unit of their sessions, integer minor units")
    unit_minutes: int | None = Field(default=None, description="the unit's length in minutes (null: per night/seat)")


class FreeSlot(DomainModel):
    resource_id: str
    start_time: datetime = Field(description="in the resource's time zone, with offset")
    end_time: datetime


class Advisor(DomainModel):
    advisor_id: str = Field(description="the advisor's user id")
    name: str
    headline: str | None = None
    expertise: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    price: Price
    rating: Rating = Field(description="reviews of their sessions, across their resources")
    next_free_slot: FreeSlot | None = Field(default=None, description="the earliest bookable slot in the next 14 days")
    resource_ids: list[str] = Field(description="their active resources (book one of these)")


class AdvisorPage(DomainModel):
    advisors: list[Advisor]
    pagination: CursorPagination
