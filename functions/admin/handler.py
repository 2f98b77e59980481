"""Admin console: users by role and status, accounts made for others, approvals and suspensions, platform counters,
the audit log, the work queues' depths and the dead-letter redrive."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from slotwise import admin
from slotwise.accounts import members
from slotwise.admin import AccountStatus, StatusChange
from slotwise.api.app import create_app, lambda_entrypoint
from slotwise.api.context import caller
from slotwise.identity.models import InviteRequest, Role
from slotwise.identity.permissions import route_doc
from slotwise.models import BoundedDatetime, check_period
from slotwise.notifications import notices
from slotwise.notifications.models import NoticeInput
from slotwise.ops import queues
from slotwise.settings import require_settings

# The resources this function uses: required outside local/test (the stack sets them; tests/infra checks it).
REQUIRED_SETTINGS = require_settings("table_name", "queue_urls")

app = create_app()
TAGS = ["admin"]
Json = dict[str, Any]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=2000)]
UserId = "/api/v1/admin/users/<userId>"


@app.get("/api/v1/admin/users", tags=TAGS, summary="Users by role and status", description=route_doc("admin.users"))
def list_users(
    role: Annotated[Role | None, Query()] = None,
    status: Annotated[AccountStatus | None, Query()] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Json:
    return admin.list_users(caller(app), role=role, status=status, limit=limit, cursor=cursor)


@app.post(
    "/api/v1/admin/users",
    tags=TAGS,
    summary="Make an account (any role) and e-mail its set-password link",
    description=route_doc("user.invite", "organisation.manage_members"),
    responses={201: {"description": "The account (never its link)"}},
)
def create_user(body: InviteRequest) -> Response[Json]:
    return Response(201, "application/json", members.create_user(caller(app), body).public())


@app.post(f"{UserId}/approve", tags=TAGS, summary="Approve a vendor or advisor", description=route_doc("admin.approve"))
def approve(userId: str, body: StatusChange) -> Json:
    return admin.change_status(caller(app), userId, "approve", body)


@app.post(f"{UserId}/reject", tags=TAGS, summary="Reject a vendor or advisor", description=route_doc("admin.approve"))
def reject(userId: str, body: StatusChange) -> Json:
    return admin.change_status(caller(app), userId, "reject", body)


@app.post(f"{UserId}/suspend", tags=TAGS, summary="Suspend a user", description=route_doc("admin.suspend"))
def suspend(userId: str, body: StatusChange) -> Json:
    return admin.change_status(caller(app), userId, "suspend", body)


@app.post(f"{UserId}/reinstate", tags=TAGS, summary="Reinstate a user", description=route_doc("admin.suspend"))
def reinstate(userId: str, body: StatusChange) -> Json:
    return admin.change_status(caller(app), userId, "reinstate", body)


@app.get("/api/v1/admin/stats", tags=TAGS, summary="Platform counters", description=route_doc("admin.stats"))
def stats() -> Json:
    return admin.platform_stats(caller(app))


@app.get(
    "/api/v1/admin/audit", tags=TAGS, summary="Audit log of a target or an actor", description=route_doc("admin.audit")
)
def audit_log(
    target: Annotated[str | None, Query(max_length=200, description="<type>:<id>, e.g. booking:3f2c…")] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    frm: Annotated[BoundedDatetime | None, Query(alias="from")] = None,
    to: Annotated[BoundedDatetime | None, Query()] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Json:
    check_period(frm, to)
    return admin.audit_log(caller(app), target=target, actor=actor, frm=frm, to=to, limit=limit, cursor=cursor)


@app.post(
    "/api/v1/admin/notifications",
    tags=TAGS,
    summary="Send an in-app notification to one user or to every user of a role (a role's: delivered by the queue)",
    description=route_doc("admin.notify"),
    responses={202: {"description": "Accepted"}},
)
def notify(body: NoticeInput) -> Response[Json]:
    return Response(202, "application/json", notices.send_notice(caller(app), body))


@app.get(
    "/api/v1/admin/queues",
    tags=TAGS,
    summary="Work queues and their dead-letter queues: messages waiting, in flight, dead-lettered",
    description=route_doc("admin.queues"),
)
def list_queues() -> Json:
    return queues.list_queues(caller(app))


@app.post(
    "/api/v1/admin/queues/<name>/redrive",
    tags=TAGS,
    summary="Move a queue's dead-lettered messages back to it (at most 500 a call; consumers deduplicate)",
    description=route_doc("admin.queues_redrive"),
)
def redrive_queue(name: str) -> Json:
    return queues.redrive_queue(caller(app), name)


lambda_handler = lambda_entrypoint(app)
