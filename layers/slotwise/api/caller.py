"""Who is calling, read from the request at the edge and handed to services as an argument.

Until the identity capability lands (JWT verification), only the local runtime names the caller, through the
`x-slotwise-user-id` and `x-slotwise-role` headers, and only when SLOTWISE_TRUST_IDENTITY_HEADERS is set (the
local runtime sets it; a deployed stack never does). Everyone else is an anonymous guest.
"""

from __future__ import annotations

from typing import get_args

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from slotwise import errors
from slotwise.identity.models import ANONYMOUS, Caller, Role
from slotwise.settings import get_settings

USER_HEADER = "x-slotwise-user-id"
ROLE_HEADER = "x-slotwise-role"
_ROLES = frozenset(get_args(Role))


def caller_from(event: APIGatewayProxyEventV2) -> Caller:
    if not get_settings().trust_identity_headers:
        return ANONYMOUS
    user_id = event.headers.get(USER_HEADER)
    role = event.headers.get(ROLE_HEADER, "customer" if user_id else "guest")
    if role not in _ROLES:
        raise errors.AuthenticationRequired(f"Unknown role {role!r}.", code="invalid_identity")
    if user_id is None:
        return ANONYMOUS
    return Caller(user_id=user_id, role=role)  # type: ignore[arg-type]
