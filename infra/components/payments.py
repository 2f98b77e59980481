"""The payments concern's wiring: the Stripe webhook ingress, the Stripe secrets, and the provider setting.

- `stripe_webhooks` (the ingress, slotwise.payments.ingress) gets the `stripe-events` queue's URL
  (SLOTWISE_STRIPE_EVENTS_QUEUE_URL) and may send to that queue only; the queue's consumer (`payment_events`) is
  wired by the async construct like every other queue consumer.
- `StripeWebhookSecret` holds the endpoint's signing secret(s); only the ingress reads it
  (SLOTWISE_STRIPE_WEBHOOK_SECRETS_ARN).
- `StripeSecretKey` holds Stripe's secret API key; only the groups that call Stripe (`payments`, `payment_events`,
  `payment_jobs`) read it. Every function gets its ARN and SLOTWISE_PAYMENT_PROVIDER=stripe, so all functions of
  a deployed stack build the same settings (a deployed stack never runs the simulated provider).

Both secrets are created with a random placeholder, never a real value in code or in the template. Until an operator
puts the real ones, webhooks answer 503 (Stripe retries them for three days) and payments fail. After the first
deploy (the stack's outputs name both ARNs):

    aws secretsmanager put-secret-value --secret-id <StripeWebhookSecretArn> --secret-string 'whsec_...'
    aws secretsmanager put-secret-value --secret-id <StripeSecretKeyArn> --secret-string 'sk_live_...'

The webhook secret is the signing secret Stripe shows for the endpoint (Dashboard -> Developers -> Webhooks). While
rolling it, put both, comma-separated (`'whsec_new,whsec_old'`), and the old one alone no longer once Stripe stops
signing with it. Functions read a new value within five minutes, with no redeploy.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.components.asynchronous import SlotwiseAsync
from infra.components.functions import settings_environment
from infra.components.nag import acknowledge
from slotwise.payments.inbox import QUEUE_NAME

INGRESS_GROUP = "stripe_webhooks"
# API groups that call Stripe while the client waits (paying; a cancellation's card refund after its commit). The
# SDK's per-attempt timeouts and its two idempotent retries take up to about 20 s in the worst case, more than the
# other API functions' 10 s; API Gateway waits up to 30 s for an HTTP API integration.
PROVIDER_CALLING_API_GROUPS: frozenset[str] = frozenset({"payments", "bookings"})
PROVIDER_CALL_TIMEOUT = Duration.seconds(25)
# The groups that call Stripe's API (payments, the event processor's refunds, the reconcile job).
STRIPE_API_GROUPS: frozenset[str] = frozenset({"payments", "payment_events", "payment_jobs"})


def _placeholder() -> secretsmanager.SecretStringGenerator:
    # Random, so nothing guessable is ever accepted; neither `whsec_` nor `sk_`, so the code sees "not set yet".
    return secretsmanager.SecretStringGenerator(password_length=32, exclude_punctuation=True)


class SlotwisePayments(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        async_: SlotwiseAsync,
        functions: Mapping[str, lambda_.Function],
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.webhook_secret = secretsmanager.Secret(
            self,
            "StripeWebhookSecret",
            description="Stripe webhook signing secret(s) of the Slotwise endpoint, comma-separated (whsec_...)",
            generate_secret_string=_placeholder(),
            removal_policy=removal_policy,
        )
        acknowledge(
            self.webhook_secret,
            "AwsSolutions-SMG4",
            "Stripe issues the webhook signing secret: it is rolled in Stripe's dashboard and then put here by hand "
            "(both values at once during the overlap); a Secrets Manager rotation cannot create one.",
        )
        self.secret_key = secretsmanager.Secret(
            self,
            "StripeSecretKey",
            description="Stripe secret API key used by the Slotwise payment functions (sk_...)",
            generate_secret_string=_placeholder(),
            removal_policy=removal_policy,
        )
        acknowledge(
            self.secret_key,
            "AwsSolutions-SMG4",
            "Stripe issues the API key: it is rolled in Stripe's dashboard and then put here by hand; a Secrets "
            "Manager rotation function cannot create a Stripe key.",
        )

        everyone = settings_environment(payment_provider="stripe", stripe_secret_key_arn=self.secret_key.secret_arn)
        for function in functions.values():
            for name, value in everyone.items():
                function.add_environment(name, value)
        for group in sorted(STRIPE_API_GROUPS & set(functions)):
            self.secret_key.grant_read(functions[group])

        ingress = functions.get(INGRESS_GROUP)
        if ingress is not None:
            own = {"stripe_webhook_secrets_arn": self.webhook_secret.secret_arn}
            built = async_.queues.get(QUEUE_NAME)
            if built is not None:  # test topologies may leave the queue out
                own["stripe_events_queue_url"] = built.queue.queue_url
                built.queue.grant_send_messages(ingress)
            for name, value in settings_environment(**own).items():
                ingress.add_environment(name, value)
            self.webhook_secret.grant_read(ingress)

        # On the stack, not this construct: the operator looks these up by these plain names.
        stack = Stack.of(self)
        CfnOutput(
            stack,
            "StripeWebhookSecretArn",
            value=self.webhook_secret.secret_arn,
            description="Put the Stripe endpoint's signing secret (whsec_...) here",
        )
        CfnOutput(
            stack,
            "StripeSecretKeyArn",
            value=self.secret_key.secret_arn,
            description="Put the Stripe secret API key (sk_...) here",
        )


def wire_payments(
    scope: Construct,
    async_: SlotwiseAsync,
    functions: Mapping[str, lambda_.Function],
    removal_policy: RemovalPolicy,
) -> SlotwisePayments:
    """The payments construct, next to `wire_webhook_delivery` in the stack."""
    return SlotwisePayments(scope, "Payments", async_=async_, functions=functions, removal_policy=removal_policy)
