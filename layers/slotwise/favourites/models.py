"""Favourites: a user's saved resources, as the API shows them."""

from __future__ import annotations

from datetime import datetime

from slotwise.catalog.models import CursorPagination, Rating
from slotwise.models import DomainModel


class Favourite(DomainModel):
    """A saved resource with what a list of halls shows; `available: false` (and no details) once the resource is
    archived, so the user sees it went and can remove it."""

    resource_id: str
    added_at: datetime
    available: bool = True
    name: str | None = None
    type: str | None = None
    venue_id: str | None = None
    venue_name: str | None = None
    city: str | None = None
    rating: Rating | None = None


class FavouritePage(DomainModel):
    favourites: list[Favourite]
    pagination: CursorPagination
