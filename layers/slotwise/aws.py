"""Lazily built AWS clients: nothing connects or loads a service model at import time.

Only the data and adapter layers call these factories. Clients are cached per process (a Lambda execution
environment reuses them across invocations); tests call `reset_clients()` so no client leaks between tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_ses import SESClient
    from mypy_boto3_sqs import SQSClient

# Every AWS service the functions call. The Lambda layer ships only these services' botocore models (the rest of
# botocore's data is about 15 MB of the zipped layer), so a client of any other service must be added here first.
SERVICES = frozenset({"dynamodb", "dynamodbstreams", "events", "secretsmanager", "ses", "sqs", "sts"})


@cache
def _client(service: str) -> Any:
    if service not in SERVICES:
        raise ValueError(f"add {service!r} to slotwise.aws.SERVICES: the Lambda layer ships only those models")
    import boto3
    from botocore.config import Config

    from slotwise.settings import get_settings

    config = Config(
        connect_timeout=2,
        read_timeout=5,
        retries={"mode": "standard", "max_attempts": 3},
        tcp_keepalive=True,
    )
    return boto3.session.Session().client(service, region_name=get_settings().region, config=config)  # type: ignore[call-overload]


def dynamodb() -> DynamoDBClient:
    client: DynamoDBClient = _client("dynamodb")
    return client


def sqs() -> SQSClient:
    client: SQSClient = _client("sqs")
    return client


def events() -> EventBridgeClient:
    client: EventBridgeClient = _client("events")
    return client


def ses() -> SESClient:
    client: SESClient = _client("ses")
    return client


class SecretsManagerClient(Protocol):
    """The part of the Secrets Manager client Slotwise uses (no stubs package is installed for it)."""

    def get_secret_value(self, *, SecretId: str) -> Mapping[str, Any]: ...


def secretsmanager() -> SecretsManagerClient:
    client: SecretsManagerClient = _client("secretsmanager")
    return client


def secret_string(arn: str, *, code: str | None = None) -> str:
    """The string of a Secrets Manager secret; DependencyUnavailable (with `code`) when it cannot be read."""
    from botocore.exceptions import BotoCoreError, ClientError

    from slotwise import errors

    try:
        found = secretsmanager().get_secret_value(SecretId=arn)
    except ClientError as exc:
        failure = exc.response.get("Error", {}).get("Code", "")
        raise errors.DependencyUnavailable(f"Secrets Manager GetSecretValue failed: {failure}", code=code) from exc
    except BotoCoreError as exc:
        raise errors.DependencyUnavailable(
            f"Secrets Manager GetSecretValue failed: {type(exc).__name__}", code=code
        ) from exc
    return str(found.get("SecretString") or "")


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
    """Forget every cached client and looked-up queue URL (tests, and the local runtime after it moves endpoints)."""
    _client.cache_clear()
    _queue_url_by_name.cache_clear()
