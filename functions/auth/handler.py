"""Identity: register, log in, refresh, log out (own issuer), the caller's own profile, and organisations."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from slotwise.accounts import members, recovery
from slotwise.api.app import BEARER, create_app, lambda_entrypoint
from slotwise.api.context import caller
from slotwise.identity import auth_service
from slotwise.identity.models import (
    ForgotRequest,
    LoginRequest,
    PasswordChange,
    PasswordTokenRequest,
    ProfileUpdate,
    RefreshRequest,
    RegisterRequest,
)
from slotwise.identity.permissions import route_doc
from slotwise.organisations import service as organisations
from slotwise.organisations.service import MemberInput
from slotwise.settings import require_settings

# The resources this function uses: required outside local/test (the stack sets them; tests/infra checks it).
REQUIRED_SETTINGS = require_settings("table_name")

app = create_app()
AUTH = ["auth"]
USERS = ["users"]
ORGANISATIONS = ["organisations"]
MEMBERS = "/api/v1/organisations/<organisationId>/members"
Json = dict[str, Any]
# Tokens must never be cached (RFC 6749 §5.1).
NO_STORE = {"Cache-Control": "no-store"}


def _source_ip() -> str:
    return app.current_event.request_context.http.source_ip or "unknown"


def _request_id() -> str | None:
    return app.current_event.request_context.request_id


@app.post(
    "/api/v1/auth/register",
    tags=AUTH,
    summary="Create an account (customer, or vendor/advisor pending approval) and sign in",
    responses={201: {"description": "The account and its tokens"}},
)
def register(body: RegisterRequest) -> Response[Json]:
    return Response(
        201, "application/json", auth_service.register(body, source_ip=_source_ip(), request_id=_request_id()), NO_STORE
    )


@app.post("/api/v1/auth/login", tags=AUTH, summary="Exchange e-mail and password for tokens (throttled)")
def login(body: LoginRequest) -> Response[Json]:
    return Response(
        200, "application/json", auth_service.login(body, source_ip=_source_ip(), request_id=_request_id()), NO_STORE
    )


@app.post("/api/v1/auth/refresh", tags=AUTH, summary="Exchange a refresh token for new tokens (single use)")
def refresh(body: RefreshRequest) -> Response[Json]:
    return Response(200, "application/json", auth_service.refresh(body, request_id=_request_id()), NO_STORE)


@app.post(
    "/api/v1/auth/logout",
    tags=AUTH,
    summary="Revoke the sign-in a refresh token belongs to",
    responses={204: {"description": "Signed out"}},
)
def logout(body: RefreshRequest) -> Response[None]:
    auth_service.logout(body, request_id=_request_id())
    return Response(204)


@app.get("/api/v1/users/me", tags=USERS, summary="Your account", security=BEARER)
def me() -> Json:
    return auth_service.me(caller(app))


@app.put("/api/v1/users/me", tags=USERS, summary="Change your name or locale", security=BEARER)
def update_me(body: ProfileUpdate) -> Json:
    return auth_service.update_me(caller(app), body)


@app.post(
    "/api/v1/users/me/password",
    tags=USERS,
    summary="Change your password (needs the current one; signs out every other session)",
    security=BEARER,
)
def change_password(body: PasswordChange) -> Response[Json]:
    tokens = auth_service.change_password(caller(app), body, source_ip=_source_ip())
    return Response(200, "application/json", tokens, NO_STORE)


@app.post(
    "/api/v1/auth/password/set",
    tags=AUTH,
    summary="Choose the password of an account made for you, with the e-mailed link's token (single use, 24 h)",
    description="Answers 204 and signs nobody in: sign in with the new password. Every link refusal is 400 "
    "`invalid_password_token`; a weak password is 422 `weak_password` and leaves the link usable.",
    responses={204: {"description": "The password is set"}},
)
def set_password(body: PasswordTokenRequest) -> Response[None]:
    recovery.set_password(body, source_ip=_source_ip(), request_id=_request_id())
    return Response(204, headers=NO_STORE)


@app.post(
    "/api/v1/auth/password/forgot",
    tags=AUTH,
    summary="E-mail a link to choose a new password (the answer is the same whether or not the account exists)",
    responses={202: {"description": "Accepted; a link is e-mailed if an account uses the address"}},
)
def forgot_password(body: ForgotRequest) -> Response[Json]:
    answer = recovery.forgot(body, source_ip=_source_ip(), request_id=_request_id())
    return Response(202, "application/json", answer, NO_STORE)


@app.post(
    "/api/v1/auth/password/reset",
    tags=AUTH,
    summary="Choose a new password with the forgot-password link's token (single use, 24 h; signs out everywhere)",
    description="Answers 204 and signs nobody in; every sign-in of the account is revoked. Every link refusal is "
    "400 `invalid_password_token`; a weak password is 422 `weak_password` and leaves the link usable.",
    responses={204: {"description": "The password is reset"}},
)
def reset_password(body: PasswordTokenRequest) -> Response[None]:
    recovery.reset_password(body, source_ip=_source_ip(), request_id=_request_id())
    return Response(204, headers=NO_STORE)


@app.get(
    "/api/v1/organisations/me",
    tags=ORGANISATIONS,
    summary="Your organisation and your role in it (owner, staff or agent)",
    description=route_doc("organisation.read"),
    security=BEARER,
)
def my_organisation() -> Json:
    return organisations.public(organisations.get_my_organisation(caller(app)))


@app.get(
    MEMBERS,
    tags=ORGANISATIONS,
    summary="The organisation's staff and agents",
    description=route_doc("organisation.read", "organisation.manage_any"),
    security=BEARER,
)
def list_members(
    organisationId: str,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> Json:
    return organisations.public(organisations.list_members(caller(app), organisationId, limit=limit, cursor=cursor))


@app.post(
    MEMBERS,
    tags=ORGANISATIONS,
    summary="Add a staff or agent by e-mail (an unknown address gets a new account and a set-password link)",
    description=route_doc("organisation.manage_members"),
    responses={201: {"description": "The new member"}},
    security=BEARER,
)
def add_member(organisationId: str, body: MemberInput) -> Response[Json]:
    member = members.add_member(caller(app), organisationId, body)
    return Response(201, "application/json", organisations.public(member))


@app.delete(
    f"{MEMBERS}/<userId>",
    tags=ORGANISATIONS,
    summary="Remove a member (effective from their next request)",
    description=route_doc("organisation.manage_members"),
    responses={204: {"description": "Removed"}},
    security=BEARER,
)
def remove_member(organisationId: str, userId: str) -> Response[None]:
    organisations.remove_member(caller(app), organisationId, userId)
    return Response(204)


lambda_handler = lambda_entrypoint(app)
