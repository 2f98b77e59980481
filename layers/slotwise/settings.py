"""Typed settings read from the environment, the one place configuration enters the code."""

from __future__ import annotations

import os
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

Stage = Literal["local", "test", "dev", "prod"]
AuthMode = Literal["own", "oidc"]
# Payment providers (slotwise.payments.provider) are named in SLOTWISE_PAYMENT_PROVIDER. The layer ships only
# `stripe`; `simulated` is the development stack's (devstack, registered by the local runtime and the tests).
DEPLOYABLE_PAYMENT_PROVIDERS: frozenset[str] = frozenset({"stripe"})
LOCAL_PAYMENT_PROVIDER = "simulated"
PaymentFlow = Literal["payment_intent", "checkout_session"]
# The Stripe webhook signing secret the local runtime, the tests and the simulated provider share (never deployed).
LOCAL_STRIPE_WEBHOOK_SECRET = "whsec_slotwise_local_only_0123456789abcdef"  # noqa: S105 - public, local stages only
# Stages that run in AWS: they never trust identity headers and need a real signing secret.
DEPLOYED_STAGES: frozenset[str] = frozenset({"dev", "prod"})
# Stages whose resource names may fall back to defaults (the local runtime and the tests make those resources).
LOCAL_STAGES: frozenset[str] = frozenset({"local", "test"})
# The settings that name an AWS resource a function uses. Their defaults serve the local and test stages only: a
# function declares the ones it uses with `require_settings` at import, and refuses to start elsewhere without them.
ResourceSetting = Literal[
    "table_name",
    "event_bus_name",
    "webhook_queue_url",
    "webhook_dlq_url",
    "stripe_events_queue_url",
    "live_endpoint_url",
    "queue_urls",
]
MIN_SECRET_BYTES = 32


class Settings(BaseModel):
    """Environment variables as a validated model (names are the env var names)."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    stage: Stage = Field(default="local", alias="SLOTWISE_STAGE")
    table_name: str = Field(default="slotwise", alias="SLOTWISE_TABLE_NAME", min_length=3)
    event_bus_name: str = Field(default="slotwise", alias="SLOTWISE_EVENT_BUS_NAME")
    region: str = Field(default="us-east-1", alias="AWS_REGION")
    api_base_path: str = Field(default="/api/v1", alias="SLOTWISE_API_BASE_PATH")
    service_name: str = Field(default="slotwise", alias="POWERTOOLS_SERVICE_NAME")
    # How long a call to an AWS service may take to answer before the SDK retries it (3 attempts in all). A Lambda
    # wants to fail fast; the racing tests on DynamoDB Local on a busy 2-core machine raise it.
    aws_read_timeout_seconds: float = Field(default=5, alias="SLOTWISE_AWS_READ_TIMEOUT_SECONDS", ge=1, le=300)
    # The local runtime and the tests may name the caller through headers; never honoured in dev/prod (below).
    trust_identity_headers: bool = Field(default=False, alias="SLOTWISE_TRUST_IDENTITY_HEADERS")
    # The tests may hash passwords with a cheaper scrypt n (2^this) than production's 2^17; ignored in dev/prod.
    scrypt_log2_n: int | None = Field(default=None, alias="SLOTWISE_SCRYPT_LOG2_N", ge=10, le=17)
    # The webhook delivery function re-queues its own attempts and dead-letters the last one (slotwise.webhooks).
    webhook_queue_url: str | None = Field(default=None, alias="SLOTWISE_WEBHOOK_QUEUE_URL")
    webhook_dlq_url: str | None = Field(default=None, alias="SLOTWISE_WEBHOOK_DLQ_URL")
    # Every work queue and its DLQ by topology name (`notifications`, `notifications-dlq`) as a JSON object: the admin
    # function's queue depths and redrives (slotwise.ops.queue reads it). Unset on the local and test stages: looked up
    # by name.
    queue_urls: str | None = Field(default=None, alias="SLOTWISE_QUEUE_URLS")
    # The notifier's sender: an address (or an address in a domain) verified in SES; the local runtime verifies it
    # in moto. Deployed stacks must verify it in SES before e-mail goes out.
    email_from: str = Field(default="bookings@slotwise.example", alias="SLOTWISE_EMAIL_FROM", min_length=3)
    # Where a set-password or reset link points (the app's page that posts the token to /auth/password/set or
    # /reset): {PURPOSE} becomes `set` or `reset`, {TOKEN} the link's token (slotwise.identity.account_links).
    account_link_url: str = Field(
        default="http://localhost:3000/account/password?purpose={PURPOSE}&token={TOKEN}",
        alias="SLOTWISE_ACCOUNT_LINK_URL",
        pattern=r"^https?://[^\s]*\{TOKEN\}",
    )

    # Payments (slotwise.payments). `stripe` calls Stripe with the secret key; `simulated` (the development stack's,
    # local and test stages only: dev/prod refuse any provider the layer does not ship) fakes it. The flow: a
    # PaymentIntent (client secret for Stripe.js/Elements) or a hosted Checkout Session (a URL to redirect to).
    # Unset: `stripe` in deployed stages, `simulated` elsewhere.
    payment_provider: str | None = Field(
        default=None, alias="SLOTWISE_PAYMENT_PROVIDER", pattern=r"^[a-z][a-z0-9_-]{0,31}$"
    )
    payment_flow: PaymentFlow = Field(default="payment_intent", alias="SLOTWISE_PAYMENT_FLOW")
    stripe_secret_key: SecretStr | None = Field(default=None, alias="SLOTWISE_STRIPE_SECRET_KEY")
    stripe_secret_key_arn: str | None = Field(default=None, alias="SLOTWISE_STRIPE_SECRET_KEY_ARN")
    # Webhook signing secrets, comma-separated: several are accepted at once so an endpoint's secret can be rolled.
    # Or the ARN of a Secrets Manager secret holding that list. Local/test stages default to a fixed local secret.
    stripe_webhook_secrets: SecretStr | None = Field(default=None, alias="SLOTWISE_STRIPE_WEBHOOK_SECRETS")
    stripe_webhook_secrets_arn: str | None = Field(default=None, alias="SLOTWISE_STRIPE_WEBHOOK_SECRETS_ARN")
    # Verified Stripe events wait here for the payment-events processor (SQS, with a DLQ).
    stripe_events_queue_url: str | None = Field(default=None, alias="SLOTWISE_STRIPE_EVENTS_QUEUE_URL")
    # Checkout Session redirects ({BOOKING_ID} is replaced by the booking's id).
    checkout_success_url: str = Field(
        default="http://localhost:3000/bookings/{BOOKING_ID}?paid=1", alias="SLOTWISE_CHECKOUT_SUCCESS_URL"
    )
    checkout_cancel_url: str = Field(
        default="http://localhost:3000/bookings/{BOOKING_ID}?paid=0", alias="SLOTWISE_CHECKOUT_CANCEL_URL"
    )
    # Where the simulated provider posts the signed webhook events it makes (the local runtime's own API).
    simulated_webhook_url: str | None = Field(default=None, alias="SLOTWISE_SIMULATED_WEBHOOK_URL")
    # Wallet top-ups (slotwise.payments.topups): the currencies a wallet can be topped up in (comma-separated ISO
    # 4217 codes with two-decimal minor units, so the limits below mean the same everywhere), the most one top-up
    # may add, and the most one user may top up per UTC day (minor units, counted atomically with each top-up).
    wallet_currencies: str = Field(
        default="EUR,GBP,USD,CHF,INR", alias="SLOTWISE_WALLET_CURRENCIES", pattern=r"^[A-Z]{3}(,[A-Z]{3})*$"
    )
    top_up_max_amount: int = Field(default=100_000, alias="SLOTWISE_TOP_UP_MAX_AMOUNT", ge=1, le=10**9)
    top_up_daily_limit: int = Field(default=300_000, alias="SLOTWISE_TOP_UP_DAILY_LIMIT", ge=1, le=10**10)
    # Live push (slotwise.live): the WebSocket API's connection-management endpoint, where `post_to_connection` goes
    # (deployed: https://<api id>.execute-api.<region>.amazonaws.com/<stage>, set by the CDK stack; locally the
    # runtime's own `/@connections` endpoint).
    live_endpoint_url: str | None = Field(default=None, alias="SLOTWISE_LIVE_ENDPOINT_URL")

    # Identity. `own`: Slotwise issues HS256 access tokens itself; `oidc`: an external provider's tokens (JWKS).
    auth_mode: AuthMode = Field(default="own", alias="SLOTWISE_AUTH_MODE")
    jwt_issuer: str = Field(default="slotwise-local", alias="SLOTWISE_JWT_ISSUER", min_length=1)
    jwt_audience: str = Field(default="slotwise-api", alias="SLOTWISE_JWT_AUDIENCE", min_length=1)
    # The signing secret of the own issuer (>= 32 bytes), or the ARN of a Secrets Manager secret holding it
    # (read lazily, cached a few minutes). Without either, local/test stages use a random per-process secret;
    # dev/prod refuse to issue or verify tokens (slotwise.identity.tokens).
    jwt_secret: SecretStr | None = Field(default=None, alias="SLOTWISE_JWT_SECRET")
    jwt_secret_arn: str | None = Field(default=None, alias="SLOTWISE_JWT_SECRET_ARN")
    oidc_issuer: str | None = Field(default=None, alias="SLOTWISE_OIDC_ISSUER")
    oidc_audience: str | None = Field(default=None, alias="SLOTWISE_OIDC_AUDIENCE")
    oidc_jwks_url: str | None = Field(default=None, alias="SLOTWISE_OIDC_JWKS_URL")
    oidc_roles_claim: str = Field(default="custom:role", alias="SLOTWISE_OIDC_ROLES_CLAIM", min_length=1)

    @field_validator("jwt_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"SLOTWISE_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> Settings:
        if self.stage in DEPLOYED_STAGES and self.trust_identity_headers:
            # A deployed stack can never trust identity headers, whatever its environment says.
            object.__setattr__(self, "trust_identity_headers", False)
        if self.stage in DEPLOYED_STAGES:
            # Deployed stacks always hash with the production parameters (slotwise.identity.passwords).
            object.__setattr__(self, "scrypt_log2_n", None)
        if self.payment_provider is None:
            deployed = self.stage in DEPLOYED_STAGES
            object.__setattr__(self, "payment_provider", "stripe" if deployed else LOCAL_PAYMENT_PROVIDER)
        if self.stage in DEPLOYED_STAGES and self.payment_provider not in DEPLOYABLE_PAYMENT_PROVIDERS:
            raise ValueError(
                f"SLOTWISE_PAYMENT_PROVIDER={self.payment_provider} cannot run in stage {self.stage}: deployed stages "
                f"take real payments ({', '.join(sorted(DEPLOYABLE_PAYMENT_PROVIDERS))}); the simulated provider is "
                "for the local runtime and the tests"
            )
        if self.auth_mode == "oidc":
            missing = [
                name
                for name, value in (
                    ("SLOTWISE_OIDC_ISSUER", self.oidc_issuer),
                    ("SLOTWISE_OIDC_AUDIENCE", self.oidc_audience),
                    ("SLOTWISE_OIDC_JWKS_URL", self.oidc_jwks_url),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"SLOTWISE_AUTH_MODE=oidc needs {', '.join(missing)}")
            if self.stage in DEPLOYED_STAGES and not str(self.oidc_jwks_url).startswith("https://"):
                raise ValueError("SLOTWISE_OIDC_JWKS_URL must be https:// in dev/prod")
        return self


class MissingSetting(RuntimeError):
    """A deployed function lacks an environment variable it needs: a stack bug, never the caller's."""


def require_settings(*fields: ResourceSetting) -> tuple[ResourceSetting, ...]:
    """Check, at a function's init, that the environment names every resource in `fields` (returned, so the handler
    module shows what it requires and the infrastructure tests can hold the stack to it).

    Outside the `local` and `test` stages a missing or empty variable is a MissingSetting naming it: the function
    fails at init instead of running against a default name (another stack's table, a queue that does not exist).
    """
    settings = get_settings()
    if settings.stage in LOCAL_STAGES:
        return fields
    missing = [
        str(Settings.model_fields[name].alias)
        for name in fields
        if name not in settings.model_fields_set or not getattr(settings, name)
    ]
    if missing:
        raise MissingSetting(
            f"{', '.join(missing)} must be set in stage {settings.stage}: this function uses "
            f"{'it' if len(missing) == 1 else 'them'}, and only the local and test stages have defaults"
        )
    return fields


@cache
def get_settings() -> Settings:
    """Settings for this process; cached because the environment of a Lambda does not change."""
    return Settings.model_validate(dict(os.environ))
