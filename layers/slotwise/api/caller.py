"""Who is calling, read from the request at the edge and handed to services as an argument.

In this order:
1. `Authorization: Bearer <token>`: the token is verified here (slotwise.identity.tokens), even when API Gateway's
   JWT authorizer already checked it (defence in depth); its subject must then match the authorizer's claims.
   A bad token is a 401 `invalid_token`, never a silent downgrade to guest.
2. Authorizer claims without a bearer token cannot be checked again: 401 as well.
3. The `x-slotwise-user-id` and `x-slotwise-role` headers, only when SLOTWISE_TRUST_IDENTITY_HEADERS is set (the
   local runtime and the tests; settings refuse it in dev and prod).
4. Otherwise an anonymous guest.
"""

from __future__ import annotations

from typing import get_args

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from slotwise import errors
from slotwise.identity.models import ANONYMOUS, Caller, Role
from slotwise.identity.tokens import verify_access_token
from slotwise.settings import get_settings

USER_HEADER = "x-slotwise-user-id"
ROLE_HEADER = "x-slotwise-role"
_ROLES = frozenset(get_args(Role))


def bearer_token(event: APIGatewayProxyEventV2) -> str | None:
    """The token of an `Authorization: Bearer` header; None without the header, 401 for any other scheme."""
    header = event.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise errors.AuthenticationRequired(
            "Send the access token as `Authorization: Bearer <token>`.", code="invalid_token"
        )
    return token


def _authorizer_claims(event: APIGatewayProxyEventV2) -> dict[str, object]:
    """The claims API Gateway's JWT authorizer put in the event (none locally, unless the adapter plays it)."""
    authorizer = (event.get("requestContext") or {}).get("authorizer")
    if not isinstance(authorizer, dict) or not isinstance(authorizer.get("jwt"), dict):
        return {}
    claims = authorizer["jwt"].get("claims")
    return claims if isinstance(claims, dict) else {}


def caller_from(event: APIGatewayProxyEventV2) -> Caller:
    token = bearer_token(event)
    edge_claims = _authorizer_claims(event)
    if token is not None:
        caller = verify_access_token(token)
        if edge_claims and str(edge_claims.get("sub", "")) != caller.user_id:
            raise errors.AuthenticationRequired("The access token does not match the gateway's.", code="invalid_token")
        return caller
    if edge_claims:
        raise errors.AuthenticationRequired(
            "The gateway's claims come without a token to verify.", code="invalid_token"
        )
    if not get_settings().trust_identity_headers:
        return ANONYMOUS
    user_id = event.headers.get(USER_HEADER)
    role = event.headers.get(ROLE_HEADER, "customer" if user_id else "guest")
    if role not in _ROLES:
        raise errors.AuthenticationRequired(f"Unknown role {role!r}.", code="invalid_identity")
    if user_id is None:
        return ANONYMOUS
    return Caller(user_id=user_id, role=role)  # type: ignore[arg-type]
