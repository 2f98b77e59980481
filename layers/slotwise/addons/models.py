"""An add-on of a resource: what its vendor sets, what is stored, and what a booking asks for.

Pricing (minor units of the resource's currency), for a booking that takes `quantity` of the add-on:
  per_booking  price x quantity
  per_unit     price x quantity x the booking's priced units (granules, nights, or 1 for a fixed window)
  per_guest    price x quantity x the booking's guests (a booking with such an add-on names its guests)

Stock (optional) is how many exist: `per_day` counts every local day the booking touches, `per_slot` every
inventory slot it claims (its lock keys, buffers included). Without stock an add-on is unlimited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from slotwise.catalog.models import Money, Name
from slotwise.models import ApiModel, DomainModel, Id

AddonPricing = Literal["per_booking", "per_unit", "per_guest"]
StockScope = Literal["per_day", "per_slot"]
AddonStatus = Literal["active", "archived"]

MAX_ADDONS_PER_RESOURCE = 50
MAX_ADDONS_PER_BOOKING = 10
MAX_ADDON_QUANTITY = 1_000
MAX_STOCK = 10_000


class AddonFields(ApiModel):
    """What a resource's vendor sets; create and replace (PUT) share it."""

    name: Name
    description: Annotated[str, Field(max_length=2000)] = ""
    price: Money
    pricing: AddonPricing = "per_booking"
    stock: Annotated[int, Field(ge=0, le=MAX_STOCK)] | None = Field(
        default=None, description="how many exist per stockScope; null: unlimited; 0: none left to book"
    )
    stock_scope: StockScope | None = Field(
        default=None, description="what the stock counts: per_day (each local day) or per_slot (each slot)"
    )

    @model_validator(mode="after")
    def _scoped(self) -> AddonFields:
        if self.stock is None and self.stock_scope is not None:
            raise ValueError("stockScope goes with stock")
        if self.stock is not None and self.stock_scope is None:
            object.__setattr__(self, "stock_scope", "per_day")
        return self


class AddonInput(AddonFields):
    pass


class AddonUpdate(AddonFields):
    """A full replacement of an add-on's fields; the status changes only by DELETE (archive)."""


class Addon(DomainModel):
    id: str
    resource_id: str
    name: str
    description: str = ""
    price: int = Field(description="minor units of `currency`")
    currency: str
    pricing: AddonPricing
    stock: int | None = None
    stock_scope: StockScope | None = None
    status: AddonStatus = "active"
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


class AddonList(DomainModel):
    addons: list[Addon]


class AddonRequest(ApiModel):
    """One add-on a booking (or a quote) takes."""

    addon_id: Id
    quantity: Annotated[int, Field(ge=1, le=MAX_ADDON_QUANTITY)] = 1


AddonRequests = Annotated[list[AddonRequest], Field(max_length=MAX_ADDONS_PER_BOOKING)]


def check_distinct(requests: list[AddonRequest]) -> None:
    ids = [request.addon_id for request in requests]
    if len(set(ids)) != len(ids):
        raise ValueError("each add-on appears once in addons (raise its quantity instead)")
