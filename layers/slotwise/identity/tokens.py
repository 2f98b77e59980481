"""Access tokens: issued by Slotwise itself (`own` mode, HS256) or by an external OIDC provider (`oidc` mode).

Verification takes its algorithm list from the mode, never from the token's header: own = HS256 only,
oidc = RS256/ES256 only (narrowed to the one the provider's key can verify: RSA -> RS256, EC -> ES256), so neither
`alg: none` nor HS/RS confusion can pass. `exp`, `iat`, `iss`, `aud` and
`sub` are always required; `nbf` is required on Slotwise's own tokens and checked whenever present on an external
provider's (Cognito, Auth0, Okta and Google do not put `nbf` in their tokens). Any failure is a 401
`invalid_token` with `WWW-Authenticate: Bearer` (slotwise.api.problems); only a JWKS endpoint that does not answer
is a 503 (the token may be fine).

Own access tokens carry: sub (user id), role, status (active | pending_approval), iss, aud, iat, nbf, exp (15 min)
and jti. External tokens give the role through `SLOTWISE_OIDC_ROLES_CLAIM` (a string or a list of strings);
the most privileged Slotwise role named there wins, and a token that names none is an authenticated `guest`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any, cast, get_args

from slotwise import errors
from slotwise.identity import keys
from slotwise.identity.models import USER_STATUSES, Caller, Role, User, UserStatus
from slotwise.settings import Settings, get_settings

ACCESS_TOKEN_SECONDS = 15 * 60
OWN_ALGORITHMS: tuple[str, ...] = ("HS256",)
OIDC_ALGORITHMS: tuple[str, ...] = ("RS256", "ES256")
# Of those, the one a provider's key can verify (by the JWK's key type, never by the token's header).
_OIDC_ALGORITHM_FOR_KEY_TYPE = {"RSA": "RS256", "EC": "ES256"}
OWN_REQUIRED_CLAIMS: tuple[str, ...] = ("exp", "nbf", "iat", "iss", "aud", "sub")
OIDC_REQUIRED_CLAIMS: tuple[str, ...] = ("exp", "iat", "iss", "aud", "sub")
# Clock skew tolerated on an external provider's tokens (its clock is not ours).
OIDC_LEEWAY_SECONDS = 30
MAX_TOKEN_LENGTH = 8192
# Most privileged first: a token naming several roles gets the first of these it names.
ROLE_PRECEDENCE: tuple[Role, ...] = ("admin", "vendor", "staff", "agent", "advisor", "customer")

_ROLES = frozenset(get_args(Role))


def _invalid(detail: str) -> errors.AuthenticationRequired:
    return errors.AuthenticationRequired(detail, code="invalid_token")


def issue_access_token(user: User, *, now: float | None = None) -> tuple[str, int]:
    """A signed access token for this user and its lifetime in seconds (own issuer only)."""
    settings = get_settings()
    issued = int(now if now is not None else time.time())
    claims = {
        "sub": user.id,
        "role": user.role,
        "status": user.status,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": issued,
        "nbf": issued,
        "exp": issued + ACCESS_TOKEN_SECONDS,
        "jti": uuid.uuid4().hex,
    }
    jwt = keys.pyjwt()
    return jwt.encode(claims, keys.signing_secret(), algorithm=OWN_ALGORITHMS[0]), ACCESS_TOKEN_SECONDS


def _decode(
    token: str,
    key: Any,
    *,
    algorithms: Sequence[str],
    audience: str,
    issuer: str,
    required: Sequence[str],
    leeway: int = 0,
) -> dict[str, Any]:
    jwt = keys.pyjwt()
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=list(algorithms),
            audience=audience,
            issuer=issuer,
            leeway=leeway,
            options={"require": list(required)},
        )
    except jwt.ExpiredSignatureError as exc:
        raise _invalid("The access token has expired.") from exc
    except jwt.ImmatureSignatureError as exc:
        raise _invalid("The access token is not valid yet.") from exc
    except jwt.InvalidAudienceError as exc:
        raise _invalid("The access token is not meant for this API.") from exc
    except jwt.InvalidIssuerError as exc:
        raise _invalid("The access token comes from an issuer this API does not trust.") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise _invalid(f"The access token lacks the {exc.claim!r} claim.") from exc
    except jwt.InvalidAlgorithmError as exc:
        raise _invalid("The access token is signed with an algorithm this API does not accept.") from exc
    except (jwt.PyJWTError, TypeError, ValueError) as exc:
        # pyjwt raises TypeError when a key does not fit the token's algorithm: still the token's fault.
        raise _invalid("The access token is not valid.") from exc
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip() or len(subject) > 256:
        raise _invalid("The access token names no valid subject.")
    return claims


def _verify_own(token: str, settings: Settings) -> Caller:
    claims = _decode(
        token,
        keys.signing_secret(),
        algorithms=OWN_ALGORITHMS,
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
        required=OWN_REQUIRED_CLAIMS,
    )
    role, status = claims.get("role"), claims.get("status")
    if role not in _ROLES or status not in USER_STATUSES:
        raise _invalid("The access token names no valid role or status.")
    return Caller(user_id=claims["sub"], role=cast(Role, role), status=cast(UserStatus, status))


def role_from_claim(value: Any) -> Role:
    """The Slotwise role an external token's roles claim names (see the module's docstring)."""
    if isinstance(value, str):
        named = {part.strip().lower() for part in value.replace(",", " ").split()}
    elif isinstance(value, list):
        named = {str(part).strip().lower() for part in value}
    else:
        named = set()
    return next((role for role in ROLE_PRECEDENCE if role in named), "guest")


def _verify_oidc(token: str, settings: Settings) -> Caller:
    # Settings refuse oidc mode without these three.
    assert settings.oidc_jwks_url
    assert settings.oidc_issuer
    assert settings.oidc_audience
    jwt = keys.pyjwt()
    try:
        # The key is chosen by the token's `kid` among the provider's keys; the algorithm list stays fixed.
        signing_key = keys.jwks_client(settings.oidc_jwks_url).get_signing_key_from_jwt(token)
    except jwt.PyJWKClientConnectionError as exc:
        raise errors.DependencyUnavailable("The identity provider's key set (JWKS) could not be fetched.") from exc
    except jwt.PyJWTError as exc:
        raise _invalid("The access token is not signed by a key of the identity provider.") from exc
    algorithm = _OIDC_ALGORITHM_FOR_KEY_TYPE.get(signing_key.key_type or "")
    if algorithm not in OIDC_ALGORITHMS:
        raise _invalid("The identity provider's key cannot verify the accepted algorithms.")
    claims = _decode(
        token,
        signing_key.key,
        algorithms=(algorithm,),
        audience=settings.oidc_audience,
        issuer=settings.oidc_issuer,
        required=OIDC_REQUIRED_CLAIMS,
        leeway=OIDC_LEEWAY_SECONDS,
    )
    return Caller(user_id=claims["sub"], role=role_from_claim(claims.get(settings.oidc_roles_claim)))


def verify_access_token(token: str) -> Caller:
    """The caller a bearer token names, or AuthenticationRequired (`invalid_token`)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise _invalid("The access token is not valid.")
    settings = get_settings()
    if settings.auth_mode == "oidc":
        return _verify_oidc(token, settings)
    return _verify_own(token, settings)
