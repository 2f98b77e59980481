"""`slotwise.aws.secret_string`: Secrets Manager through Powertools Parameters, cached per process, built lazily,
emptied between tests (tests/conftest.py resets clients, which resets secrets)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from slotwise import aws, errors
from tests.support.imports import modules_loaded_by

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:slotwise-test"
ROOT = Path(__file__).resolve().parents[2]


class CountingSecrets:
    """A Secrets Manager client that counts reads and answers from `values` (no network)."""

    def __init__(self, values: dict[str, dict[str, Any]]) -> None:
        self.values = values
        self.reads: list[str] = []

    def get_secret_value(self, *, SecretId: str) -> dict[str, Any]:
        self.reads.append(SecretId)
        if SecretId not in self.values:
            raise ClientError({"Error": {"Code": "ResourceNotFoundException"}}, "GetSecretValue")
        return self.values[SecretId]


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> CountingSecrets:
    fake = CountingSecrets({ARN: {"SecretString": "first"}})
    monkeypatch.setattr(aws, "secretsmanager", lambda: fake)
    return fake


def test_a_secret_is_read_once_within_its_max_age(secrets: CountingSecrets) -> None:
    assert aws.secret_string(ARN) == "first"
    secrets.values[ARN] = {"SecretString": "second"}
    assert aws.secret_string(ARN) == "first"
    assert secrets.reads == [ARN]


def test_a_max_age_of_zero_reads_every_time(secrets: CountingSecrets) -> None:
    aws.secret_string(ARN, max_age=0)
    secrets.values[ARN] = {"SecretString": "second"}
    assert aws.secret_string(ARN, max_age=0) == "second"
    assert secrets.reads == [ARN, ARN]


def test_a_refused_value_is_read_afresh_once(secrets: CountingSecrets) -> None:
    aws.secret_string(ARN)
    aws.refuse_secret(ARN)
    secrets.values[ARN] = {"SecretString": "fixed"}
    assert aws.secret_string(ARN) == "fixed"
    assert aws.secret_string(ARN) == "fixed"
    assert secrets.reads == [ARN, ARN]


def test_reset_forgets_every_value(secrets: CountingSecrets) -> None:
    aws.secret_string(ARN)
    aws.reset_clients()
    aws.secret_string(ARN)
    assert secrets.reads == [ARN, ARN]


def test_a_binary_secret_is_text(secrets: CountingSecrets) -> None:
    secrets.values[ARN] = {"SecretBinary": b"bytes-value"}
    assert aws.secret_string(ARN) == "bytes-value"


def test_an_unreadable_secret_is_a_dependency_failure_with_its_code(secrets: CountingSecrets) -> None:
    with pytest.raises(
        errors.DependencyUnavailable, match="GetSecretValue failed: ResourceNotFoundException"
    ) as caught:
        aws.secret_string(ARN + "-missing", code="some_code")
    assert caught.value.code == "some_code"


def test_moto_secrets_manager_through_parameters(aws: None) -> None:
    arn = boto3.client("secretsmanager").create_secret(Name="slotwise/moto", SecretString="from-moto")["ARN"]
    from slotwise import aws as clients

    assert clients.secret_string(arn) == "from-moto"


def test_no_secret_machinery_loads_at_import() -> None:
    """Cold start: Powertools Parameters (and a Secrets Manager client) load on the first secret read, not before."""
    handlers = ["functions.payments.handler", "functions.stripe_webhooks.handler", "functions.auth.handler"]
    assert modules_loaded_by(handlers, "aws_lambda_powertools.utilities.parameters") == []
