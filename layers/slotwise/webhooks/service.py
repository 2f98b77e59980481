"""The subscription API's use cases. The caller arrives as an argument; permissions first, as everywhere.

Vendors and admins manage subscriptions (`webhook.manage`, approved accounts only); everybody else gets 403 (401
anonymous). A subscription belongs to who created it: another vendor's id answers 404 like a missing one; admins
reach every subscription (`webhook.manage_any`). A vendor's subscription receives the events of the vendor's own
venues, resources and bookings (scope `own`); an admin's receives every event (scope `all`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from slotwise import errors
from slotwise.audit import log as audit
from slotwise.identity import permissions
from slotwise.identity.models import Caller
from slotwise.webhooks import repository, signing, urls
from slotwise.webhooks.models import SecretRotation, Subscription, SubscriptionCreate, SubscriptionUpdate, hint

MAX_SUBSCRIPTIONS_PER_OWNER = 25


def _owner(caller: Caller) -> str:
    permissions.require(caller, "webhook.manage")
    assert caller.user_id is not None  # require() refuses anonymous callers
    return caller.user_id


def _checked_url(url: str) -> str:
    try:
        urls.check(url)
    except urls.UrlRefused as exc:
        raise errors.ValidationFailed(
            f"This URL cannot receive webhooks: {exc}.", code="webhook_url_refused", extra={"field": "url"}
        ) from exc
    return url


def _visible(caller: Caller, subscription_id: str) -> Subscription:
    user = _owner(caller)
    sub = repository.get_subscription(subscription_id)
    if sub is None or not (sub.owner_id == user or permissions.allows(caller, "webhook.manage_any")):
        raise errors.NotFound(f"No webhook subscription {subscription_id}.", code="webhook_subscription_not_found")
    return sub


def _changed() -> errors.Conflict:
    return errors.Conflict("The subscription changed meanwhile; read it again and retry.", code="version_conflict")


def _entry(caller: Caller, action: str, sub: Subscription, now: datetime, **detail: Any) -> audit.AuditEntry:
    return audit.entry(caller, action, "webhook", sub.id, at=now, detail=detail)


def created_view(sub: Subscription, secret: str) -> dict[str, Any]:
    """The answer to a creation or a rotation: the only time the secret is shown."""
    return {**sub.public(), "secret": secret}


def create(caller: Caller, body: SubscriptionCreate, now: datetime | None = None) -> tuple[Subscription, str]:
    owner = _owner(caller)
    url = _checked_url(body.url)
    now = now or datetime.now(UTC)
    secret = signing.new_secret()
    sub = Subscription(
        id=str(uuid.uuid4()),
        owner_id=owner,
        scope="all" if permissions.allows(caller, "webhook.manage_any") else "own",
        url=url,
        event_types=body.event_types,
        description=body.description,
        secret=secret,
        secret_hint=hint(secret),
        created_at=now,
        updated_at=now,
    )
    entry = _entry(caller, "webhook.create", sub, now, url=url, eventTypes=sub.event_types)
    if not repository.create_subscription(sub, cap=MAX_SUBSCRIPTIONS_PER_OWNER, audit=entry):
        raise errors.Conflict(
            f"An account may hold {MAX_SUBSCRIPTIONS_PER_OWNER} webhook subscriptions; delete one first.",
            code="webhook_subscription_limit",
        )
    return sub, secret


def list_own(caller: Caller, *, limit: int, cursor: str | None) -> dict[str, Any]:
    owner = _owner(caller)
    found, next_cursor = repository.list_owned(owner, limit=limit, cursor=cursor)
    return {
        "subscriptions": [sub.public() for sub in found],
        "pagination": {"limit": limit, "nextCursor": next_cursor},
    }


def get(caller: Caller, subscription_id: str) -> Subscription:
    return _visible(caller, subscription_id)


def update(caller: Caller, subscription_id: str, body: SubscriptionUpdate, now: datetime | None = None) -> Subscription:
    current = _visible(caller, subscription_id)
    changes = body.model_dump(exclude_unset=True)
    if "url" in changes and changes["url"] is not None:
        _checked_url(changes["url"])
    changes = {name: value for name, value in changes.items() if value is not None}
    now = now or datetime.now(UTC)
    updated_fields: dict[str, Any] = {**changes, "updated_at": now, "version": current.version + 1}
    if changes.get("active") is True and not current.active:
        updated_fields.update(disabled_reason=None, disabled_at=None)
    if changes.get("active") is False and current.active:
        updated_fields.update(disabled_reason="disabled by its owner", disabled_at=now)
    updated = current.model_copy(update=updated_fields)
    entry = _entry(caller, "webhook.update", updated, now, changed=sorted(changes), version=updated.version)
    if not repository.save_subscription(updated, current.version, audit=entry):
        raise _changed()
    return updated


def delete(caller: Caller, subscription_id: str, now: datetime | None = None) -> None:
    current = _visible(caller, subscription_id)
    now = now or datetime.now(UTC)
    if not repository.delete_subscription(current, audit=_entry(caller, "webhook.delete", current, now)):
        raise _changed()


def rotate_secret(
    caller: Caller, subscription_id: str, body: SecretRotation, now: datetime | None = None
) -> tuple[Subscription, str]:
    current = _visible(caller, subscription_id)
    now = now or datetime.now(UTC)
    secret = signing.new_secret()
    keep = body.previous_secret_valid_hours
    rotated = current.model_copy(
        update={
            "secret": secret,
            "secret_hint": hint(secret),
            "previous_secret": current.secret if keep else None,
            "previous_secret_expires_at": now + timedelta(hours=keep) if keep else None,
            "updated_at": now,
            "version": current.version + 1,
        }
    )
    entry = _entry(caller, "webhook.rotate_secret", rotated, now, previousSecretValidHours=keep)
    if not repository.save_subscription(rotated, current.version, audit=entry):
        raise _changed()
    return rotated, secret


def deliveries(caller: Caller, subscription_id: str, *, limit: int, cursor: str | None) -> dict[str, Any]:
    sub = _visible(caller, subscription_id)
    found, next_cursor = repository.list_attempts(sub.id, limit=limit, cursor=cursor)
    return {"deliveries": found, "pagination": {"limit": limit, "nextCursor": next_cursor}}
