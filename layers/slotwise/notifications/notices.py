"""An admin's notice: `POST /admin/notifications` to one user, or to every user of a role.

**One user**: the notification and the admin's audit entry in one transaction, at once.

**A role**: never one synchronous loop over every user. The request stores a notice item (`NOTICE#<id>`, with its
audit entry) and answers 202. The item's stream record is a `notice.page` event (`slotwise.events.changes`), routed
by the bus to the notifications queue, whose consumer (the notifier) delivers one page of the role's users
(`PAGE_SIZE`, from GSI1 `ROLE#<role>` after the notice's cursor) and then moves the notice to the next page with a
conditional update: a new version, so a new stream record, so the next page's event. The last page marks the notice
`done`. Each Lambda invocation does a bounded amount of work whatever the size of the role.

**Exactly one per user.** A notification's id is derived from the notice and the user
(`models.notification_id`) and created on `attribute_not_exists`, so a page delivered twice (SQS and EventBridge
deliver at least once) adds nothing the second time, and the page's move is conditional on the page it read, so a
redelivered event never skips or repeats a page.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from slotwise import errors
from slotwise.audit import log as audit
from slotwise.events.envelope import DomainEvent
from slotwise.identity import permissions
from slotwise.identity import repository as users
from slotwise.identity.models import Caller
from slotwise.notifications import store
from slotwise.notifications.models import NOTICE_EVENT_TYPE, Notice, NoticeInput, Notification, notification_id

PAGE_SIZE = 100


def _notification(notice_id: str, user_id: str, title: str, body: str, at: datetime) -> Notification:
    return Notification(
        id=notification_id(at, f"{NOTICE_EVENT_TYPE}|{notice_id}", user_id),
        user_id=user_id,
        event_id=notice_id,
        event_type=NOTICE_EVENT_TYPE,
        title=title,
        body=body,
        created_at=at,
    )


def send_notice(caller: Caller, data: NoticeInput, now: datetime | None = None) -> dict[str, Any]:
    permissions.require(caller, "admin.notify")
    at = now or datetime.now(UTC)
    notice_id = str(uuid.uuid4())
    if data.user_id is not None:
        if users.get_user(data.user_id) is None:
            raise errors.NotFound(f"No user {data.user_id}.", code="user_not_found")
        entry = audit.entry(caller, "notification.send", "user", data.user_id, at=at, detail={"noticeId": notice_id})
        store.send_one(_notification(notice_id, data.user_id, data.title, data.body, at), audit=entry)
        return {"id": notice_id, "target": f"user:{data.user_id}", "recipients": 1}
    assert data.role is not None  # NoticeInput names exactly one audience
    notice = Notice(
        id=notice_id,
        role=data.role,
        title=data.title,
        body=data.body,
        created_by=caller.user_id or "",
        created_at=at,
        updated_at=at,
    )
    entry = audit.entry(caller, "notification.broadcast", "notice", notice_id, at=at, detail={"role": data.role})
    store.create_notice(notice, audit=entry)
    return {"id": notice_id, "target": f"role:{data.role}"}


def deliver_page(event: DomainEvent, *, now: datetime | None = None) -> int:
    """Deliver the page this event names and move the notice on; returns how many notifications were new."""
    notice = Notice.model_validate(event.data)
    if notice.status != "sending":
        return 0
    start = {k: {"S": v} for k, v in notice.cursor.items()} if notice.cursor else None
    found, last, _ = users.users_page(notice.role, status=None, limit=PAGE_SIZE, start_key=start)
    created = 0
    for user in found:
        note = _notification(notice.id, str(user["id"]), notice.title, notice.body, notice.created_at)
        created += int(store.create(note, email_pending=False))
    cursor = {k: str(v["S"]) for k, v in last.items()} if last else None
    # `delivered` counts the users the page reached (a concurrent redelivery may have made some of their
    # notifications: the page is delivered either way).
    store.advance_notice(notice.id, page=notice.page, cursor=cursor, delivered=len(found), now=now or datetime.now(UTC))
    return created
