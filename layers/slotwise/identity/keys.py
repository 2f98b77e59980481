"""Key material for verifying and issuing tokens, read lazily and never from code.

- Own issuer: `SLOTWISE_JWT_SECRET`, or the Secrets Manager secret named by `SLOTWISE_JWT_SECRET_ARN` (read through
  `slotwise.aws.secret_string`, Powertools Parameters, cached for five minutes, so a rotated secret is picked up
  without a redeploy). In the `local` and `test` stages, with
  neither set, a random secret is made once per process: tokens then live as long as the process (`make dev`).
  `dev` and `prod` refuse to run without one (AuthNotConfigured, a 500 that is logged).
- External OIDC: a `PyJWKClient` per JWKS URL and process, which caches the key set and refetches it when a
  token names an unknown `kid` (at most every 30 s).
"""

from __future__ import annotations

import secrets
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING

from slotwise import aws
from slotwise.settings import DEPLOYED_STAGES, MIN_SECRET_BYTES, get_settings

if TYPE_CHECKING:
    import jwt


class AuthNotConfigured(RuntimeError):
    """The deployment lacks what it needs to issue or verify tokens: a configuration bug, never the caller's."""


@cache
def _process_secret() -> bytes:
    return secrets.token_bytes(MIN_SECRET_BYTES)


def _read_secret(arn: str) -> bytes:
    value = aws.secret_string(arn).encode()
    if len(value) < MIN_SECRET_BYTES:
        aws.refuse_secret(arn)  # the fixed value is used at the next request
        raise AuthNotConfigured(f"the secret {arn} must hold at least {MIN_SECRET_BYTES} bytes")
    return value


def signing_secret() -> bytes:
    """The HS256 key of the own issuer."""
    settings = get_settings()
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value().encode()
    if settings.jwt_secret_arn:
        return _read_secret(settings.jwt_secret_arn)
    if settings.stage in DEPLOYED_STAGES:
        raise AuthNotConfigured(f"set SLOTWISE_JWT_SECRET or SLOTWISE_JWT_SECRET_ARN (stage {settings.stage})")
    return _process_secret()


def pyjwt() -> ModuleType:
    """pyjwt, imported on the first token a process signs or verifies: with `cryptography` installed (for OIDC's
    RS256/ES256) its import loads cryptography's Rust bindings, about 100 ms that functions reading no token
    (health, the Stripe ingress) never pay."""
    import jwt

    return jwt


@cache
def jwks_client(url: str) -> jwt.PyJWKClient:
    client: jwt.PyJWKClient = pyjwt().PyJWKClient(
        url, cache_jwk_set=True, lifespan=300, timeout=3, cooldown_duration=30
    )
    return client


def reset_keys() -> None:
    """Forget JWKS clients and secrets read from Secrets Manager (tests). The per-process secret stays."""
    jwks_client.cache_clear()
    aws.reset_secrets()
