"""In-app notifications: the caller's own, newest first, with an exact unread count."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from slotwise.api.app import BEARER, create_app, lambda_entrypoint
from slotwise.api.context import caller
from slotwise.identity.permissions import route_doc
from slotwise.notifications import service
from slotwise.settings import require_settings

# The resources this function uses: required outside local/test (the stack sets them; tests/infra checks it).
REQUIRED_SETTINGS = require_settings("table_name")

app = create_app()
TAGS = ["notifications"]
Json = dict[str, Any]
One = "/api/v1/notifications/<notificationId>"


@app.get(
    "/api/v1/notifications",
    tags=TAGS,
    summary="Your notifications, newest first (`unread=true`: only unread ones)",
    description=route_doc("notification.read"),
    security=BEARER,
)
def list_notifications(
    unread: Annotated[bool, Query()] = False,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> Json:
    found, next_cursor = service.list_notifications(caller(app), unread_only=unread, limit=limit, cursor=cursor)
    return {
        "notifications": [n.public() for n in found],
        "pagination": {"limit": limit, "nextCursor": next_cursor},
    }


@app.get(
    "/api/v1/notifications/unread-count",
    tags=TAGS,
    summary="How many of your notifications are unread",
    description=route_doc("notification.read"),
    security=BEARER,
)
def unread_count() -> Json:
    return {"unread": service.unread_count(caller(app))}


@app.post(
    "/api/v1/notifications/read-all",
    tags=TAGS,
    summary="Mark all your notifications read",
    description=route_doc("notification.update"),
    security=BEARER,
)
def read_all() -> Json:
    return service.mark_all_read(caller(app))


@app.post(
    f"{One}/read",
    tags=TAGS,
    summary="Mark one notification read",
    description=route_doc("notification.update"),
    security=BEARER,
)
def read(notificationId: str) -> Json:
    return service.mark_read(caller(app), notificationId).public()


@app.delete(
    "/api/v1/notifications",
    tags=TAGS,
    summary="Delete all your notifications (`more: true`: call again for the rest)",
    description=route_doc("notification.update"),
    security=BEARER,
)
def delete_all() -> Json:
    return service.delete_all(caller(app))


@app.delete(
    One,
    tags=TAGS,
    summary="Delete one notification",
    description=route_doc("notification.update"),
    security=BEARER,
    responses={204: {"description": "Deleted"}},
)
def delete(notificationId: str) -> Response[None]:
    service.delete(caller(app), notificationId)
    return Response(204)


lambda_handler = lambda_entrypoint(app)
