"""Add-on use cases: list (public, like the resource), create, replace and archive (the resource's manager).

Object level as for resources (`slotwise.catalog.service`): a resource the caller may not manage, or an add-on of
another resource, is missing (404). DELETE archives: bookings that took the add-on keep their price lines, new
bookings and quotes refuse it (422 `addon_unavailable`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from slotwise import errors
from slotwise.addons import store
from slotwise.addons.models import MAX_ADDONS_PER_RESOURCE, Addon, AddonFields, AddonList
from slotwise.audit import log as audit
from slotwise.catalog import repository as catalog
from slotwise.catalog.models import Resource
from slotwise.identity import permissions
from slotwise.identity.models import Caller
from slotwise.organisations import service as organisations


def _manages(caller: Caller, resource: Resource) -> bool:
    return permissions.allows(caller, "catalog.manage_any") or organisations.same_organisation(
        caller, resource.owner_id, resource.organisation_id
    )


def _not_found(resource_id: str) -> errors.NotFound:
    return errors.NotFound(f"No resource {resource_id}.", code="resource_not_found")


def _managed_resource(caller: Caller, resource_id: str) -> Resource:
    permissions.require(caller, "addon.manage")
    resource = catalog.get_resource(resource_id)
    if resource is None or not _manages(caller, resource):
        raise _not_found(resource_id)
    return resource


def _managed_addon(caller: Caller, resource_id: str, addon_id: str) -> tuple[Resource, Addon]:
    resource = _managed_resource(caller, resource_id)
    addon = store.get_addon(resource_id, addon_id)
    if addon is None:
        raise errors.NotFound(f"No add-on {addon_id} on resource {resource_id}.", code="addon_not_found")
    return resource, addon


def list_addons(caller: Caller, resource_id: str) -> AddonList:
    """The resource's add-ons: active ones for everyone who can see it, archived ones too for its managers."""
    permissions.require(caller, "catalog.read")
    resource = catalog.get_resource(resource_id)
    manages = resource is not None and _manages(caller, resource)
    if resource is None or not (resource.active or manages):
        raise _not_found(resource_id)
    addons = store.list_addons(resource_id)
    return AddonList(addons=[a for a in addons if manages or a.status == "active"])


def create_addon(caller: Caller, resource_id: str, data: AddonFields, now: datetime | None = None) -> Addon:
    resource = _managed_resource(caller, resource_id)
    # A soft cap (read, then write): it bounds what one listing and one booking's look-ups cost, not inventory.
    if len(store.list_addons(resource_id)) >= MAX_ADDONS_PER_RESOURCE:
        raise errors.ValidationFailed(
            f"A resource has at most {MAX_ADDONS_PER_RESOURCE} add-ons; archive or edit one.", code="too_many_addons"
        )
    now = now or datetime.now(UTC)
    addon = Addon(
        id=str(uuid.uuid4()),
        resource_id=resource.id,
        currency=resource.pricing.currency,
        created_at=now,
        updated_at=now,
        **data.model_dump(),
    )
    store.save_addon(
        addon,
        expected_version=None,
        audit=audit.entry(
            caller, "addon.create", "addon", addon.id, at=now, detail={"resourceId": resource.id, "name": addon.name}
        ),
    )
    return addon


def update_addon(
    caller: Caller, resource_id: str, addon_id: str, data: AddonFields, now: datetime | None = None
) -> Addon:
    """Replace the fields; bookings already made keep the price and stock they took."""
    resource, current = _managed_addon(caller, resource_id, addon_id)
    now = now or datetime.now(UTC)
    updated = Addon.model_validate(
        {
            **current.model_dump(),
            **data.model_dump(),
            "currency": resource.pricing.currency,
            "updated_at": now,
            "version": current.version + 1,
        }
    )
    store.save_addon(
        updated,
        expected_version=current.version,
        audit=audit.entry(
            caller,
            "addon.update",
            "addon",
            addon_id,
            at=now,
            detail={"resourceId": resource_id, "version": updated.version},
        ),
    )
    return updated


def archive_addon(caller: Caller, resource_id: str, addon_id: str, now: datetime | None = None) -> None:
    _, current = _managed_addon(caller, resource_id, addon_id)
    if current.status == "archived":
        return
    now = now or datetime.now(UTC)
    archived = current.model_copy(update={"status": "archived", "updated_at": now, "version": current.version + 1})
    store.save_addon(
        archived,
        expected_version=current.version,
        audit=audit.entry(caller, "addon.archive", "addon", addon_id, at=now, detail={"resourceId": resource_id}),
    )
