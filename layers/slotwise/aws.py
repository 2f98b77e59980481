"""Lazily built AWS clients: nothing connects or loads a service model at import time.

Only the data and adapter layers call these factories. Clients are cached per process (a Lambda execution
environment reuses them across invocations); tests call `reset_clients()` so no client leaks between tests.

Secrets are read through Powertools Parameters (`secret_string`): one SecretsProvider per process, built on the
first read around this module's Secrets Manager client, caching each value `max_age` seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_ses import SESClient
    from mypy_boto3_sqs import SQSClient

# Every AWS service the functions call. The Lambda layer ships only these services' botocore models (the rest of
# botocore's data is about 15 MB of the zipped layer), so a client of any other service must be added here first.
SERVICES = frozenset(
    {"apigatewaymanagementapi", "dynamodb", "dynamodbstreams", "events", "secretsmanager", "ses", "sqs", "sts"}
)


@cache
def _loader() -> Any:
    """One botocore data loader per process: it caches the parsed service models, so a client built again (after
    `reset_clients`, or after a SnapStart restore: slotwise.runtime_hooks) does not parse its model again. It holds
    no credential."""
    import botocore.session
    from botocore.loaders import create_loader

    # AWS_DATA_PATH (extra model folders) is honoured as a session's own loader would.
    return create_loader(botocore.session.get_session().get_config_variable("data_path"))


@cache
def _client(service: str, endpoint_url: str | None = None) -> Any:
    if service not in SERVICES:
        raise ValueError(f"add {service!r} to slotwise.aws.SERVICES: the Lambda layer ships only those models")
    import botocore.session
    from botocore.config import Config

    from slotwise.settings import get_settings

    # A new session per client (credentials are resolved afresh), sharing the process's parsed models. botocore's
    # client is what boto3.client returns; boto3's own Session would only add resource data paths to the shared loader.
    session = botocore.session.get_session()
    session.register_component("data_loader", _loader())

    config = Config(
        connect_timeout=2,
        read_timeout=get_settings().aws_read_timeout_seconds,
        retries={"mode": "standard", "max_attempts": 3},
        tcp_keepalive=True,
        # botocore's client-side check walks every attribute of every item against the service model before each
        # call: about 400 nodes for one booking transaction, the largest CPU cost of a booking in the function
        # (bench/bench_booking.py). The service validates the same request anyway (ValidationException, translated
        # like any ClientError by slotwise.data.dynamo.translate_errors), and the requests are built by code.
        parameter_validation=False,
    )
    return session.create_client(service, region_name=get_settings().region, config=config, endpoint_url=endpoint_url)


def prime_service(service: str) -> None:
    """Load `service`'s model and endpoint data into the process's loader, keeping no client (SnapStart's
    before-snapshot hook: a client holds the credentials it was built with)."""
    _client(service)
    reset_clients()


def dynamodb() -> DynamoDBClient:
    client: DynamoDBClient = _client("dynamodb")
    return client


def dynamodb_streams() -> Any:
    """The table stream's reader (operators' replay, slotwise.ops.stream); no stubs package is installed for it."""
    return _client("dynamodbstreams")


def sqs() -> SQSClient:
    client: SQSClient = _client("sqs")
    return client


def events() -> EventBridgeClient:
    client: EventBridgeClient = _client("events")
    return client


def ses() -> SESClient:
    client: SESClient = _client("ses")
    return client


def management_api(endpoint_url: str) -> ApiGatewayManagementApiClient:
    """The API Gateway Management API of one WebSocket API stage (`post_to_connection`): its endpoint is the stage's
    callback URL, so the client is built per endpoint (one per process in practice)."""
    client: ApiGatewayManagementApiClient = _client("apigatewaymanagementapi", endpoint_url)
    return client


class SecretsManagerClient(Protocol):
    """The part of the Secrets Manager client Slotwise uses (no stubs package is installed for it)."""

    def get_secret_value(self, *, SecretId: str) -> Mapping[str, Any]: ...


def secretsmanager() -> SecretsManagerClient:
    client: SecretsManagerClient = _client("secretsmanager")
    return client


# How long a secret's value is reused before Secrets Manager is asked again: a rotated value is picked up within
# this time, with no redeploy.
SECRET_MAX_AGE_SECONDS = 300
_refused: set[str] = set()  # secrets whose cached value a caller refused: read afresh next time


@cache
def _secrets_provider() -> SecretsProvider:
    # Imported here: the parameters package loads every provider's module (about 10 ms once boto3 is in), which only a
    # function reading a secret should pay, and only when it first does.
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=secretsmanager())


def secret_string(arn: str, *, code: str | None = None, max_age: int = SECRET_MAX_AGE_SECONDS) -> str:
    """The string of a Secrets Manager secret, cached `max_age` seconds (Powertools Parameters);
    DependencyUnavailable (with `code`) when it cannot be read."""
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
    from botocore.exceptions import ClientError

    from slotwise import errors

    try:
        value = _secrets_provider().get(arn, max_age=max_age, force_fetch=arn in _refused)
    except GetParameterError as exc:
        cause = exc.__context__
        if isinstance(cause, ClientError):
            failure = cause.response.get("Error", {}).get("Code", "")
        else:
            failure = type(cause).__name__ if cause is not None else "error"
        raise errors.DependencyUnavailable(f"Secrets Manager GetSecretValue failed: {failure}", code=code) from exc
    _refused.discard(arn)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value or "")


def refuse_secret(arn: str) -> None:
    """The value read for `arn` is unusable (a placeholder, too short): the next `secret_string` reads it afresh,
    so the value an operator puts is used at once rather than after the cache's max age."""
    _refused.add(arn)


def reset_secrets() -> None:
    """Forget every secret value read (a new provider, with an empty cache, on the next read)."""
    _secrets_provider.cache_clear()
    _refused.clear()


@cache
def _queue_url_by_name(name: str) -> str:
    url: str = sqs().get_queue_url(QueueName=name)["QueueUrl"]
    return url


def queue_url(configured: str | None, name: str, setting: str) -> str:
    """A queue's URL: the configured one (the CDK stack and the local runtime set it), else, on the `local` and
    `test` stages only, looked up by its topology name; a deployed function without it is a stack bug."""
    from slotwise.settings import get_settings

    if configured:
        return configured
    stage = get_settings().stage
    if stage in ("local", "test"):
        return _queue_url_by_name(name)
    raise QueueNotConfigured(f"{setting} is not set (stage {stage})")


class QueueNotConfigured(RuntimeError):
    """A function lacks a queue's URL: a deployment bug, never the caller's (logged, answered with a 500)."""


def reset_clients() -> None:
    """Forget every cached client, looked-up queue URL and secret value (tests, and the local runtime after it moves
    endpoints)."""
    _client.cache_clear()
    _queue_url_by_name.cache_clear()
    reset_secrets()
