"""How callers authenticate, decided once per stack and handed to both the edge and the functions.

- Own issuer (the default): Slotwise signs HS256 access tokens itself. The functions get SLOTWISE_AUTH_MODE=own and
  the issuer and audience named here (the signing key is the stack's Secrets Manager secret); the gateway does not
  authenticate.
- External OIDC (`-c oidcIssuer=... -c oidcAudience=... -c oidcJwksUrl=...`): API Gateway's JWT authorizer and the
  functions (SLOTWISE_AUTH_MODE=oidc) check the same issuer and audience, so a token the edge lets through is one
  the functions accept. The functions read the provider's keys from the JWKS URL (API Gateway finds them through
  the issuer's discovery document, which the functions do not read).

The functions' environment is checked with `slotwise.settings.Settings` at synth time, so a configuration the
functions would refuse at their first request fails `cdk synth` instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.components.naming import stage_name
from slotwise.settings import Settings

OWN_AUDIENCE = "slotwise-api"
DEFAULT_ROLES_CLAIM: str = Settings.model_fields["oidc_roles_claim"].default


@dataclass(frozen=True)
class OwnIssuerSettings:
    """Slotwise's own tokens: the `iss` it writes and checks, and the `aud` it writes and requires."""

    issuer: str
    audience: str = OWN_AUDIENCE

    @classmethod
    def for_stage(cls, stage: str) -> OwnIssuerSettings:
        # Tokens of one stage never pass another's check, even if the two shared a signing key.
        return cls(issuer=stage_name("slotwise", stage))

    def settings(self) -> dict[str, str]:
        """`slotwise.settings.Settings` field -> value, for the functions' environment."""
        return {"auth_mode": "own", "jwt_issuer": self.issuer, "jwt_audience": self.audience}


@dataclass(frozen=True)
class OidcSettings:
    """An external OIDC provider: the issuer and the audience its access tokens carry, its key set, the roles claim.

    One audience: the functions verify against a single SLOTWISE_OIDC_AUDIENCE, so the gateway accepts that one
    only (a second audience would pass the edge and then be refused by every function).
    """

    issuer: str
    audience: str
    jwks_url: str
    roles_claim: str = DEFAULT_ROLES_CLAIM

    def __post_init__(self) -> None:
        if not self.issuer.startswith("https://"):
            raise ValueError(f"the OIDC issuer must be an https:// URL, not {self.issuer!r}")
        if not self.audience or "," in self.audience:
            raise ValueError(
                f"name exactly one OIDC audience, not {self.audience!r}: the functions verify tokens against one "
                "(SLOTWISE_OIDC_AUDIENCE)"
            )
        if not self.jwks_url.startswith("https://"):
            raise ValueError(f"the OIDC JWKS URL must be an https:// URL, not {self.jwks_url!r}")
        if not self.roles_claim:
            raise ValueError(f"name the OIDC roles claim or leave it out (default {DEFAULT_ROLES_CLAIM!r})")

    @property
    def audiences(self) -> list[str]:
        """What API Gateway's JWT authorizer accepts: exactly the functions' audience."""
        return [self.audience]

    def settings(self) -> dict[str, str]:
        """`slotwise.settings.Settings` field -> value, for the functions' environment."""
        return {
            "auth_mode": "oidc",
            "oidc_issuer": self.issuer,
            "oidc_audience": self.audience,
            "oidc_jwks_url": self.jwks_url,
            "oidc_roles_claim": self.roles_claim,
        }


AuthSettings = OwnIssuerSettings | OidcSettings


def check_settings(auth: AuthSettings, stage: str) -> None:
    """Validate the auth part of the functions' environment as the functions will (a ValueError if they refuse)."""
    Settings.model_validate({"stage": stage, **auth.settings()})
