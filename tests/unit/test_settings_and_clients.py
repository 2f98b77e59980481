from __future__ import annotations

import pytest
from pydantic import ValidationError

from slotwise import aws
from slotwise.settings import Settings, get_settings


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLOTWISE_TABLE_NAME", "bookings-prod")
    monkeypatch.setenv("SLOTWISE_STAGE", "prod")
    get_settings.cache_clear()
    settings = get_settings()
    assert (settings.table_name, settings.stage) == ("bookings-prod", "prod")


def test_bad_settings_fail_loudly() -> None:
    with pytest.raises(ValidationError):
        Settings.model_validate({"SLOTWISE_STAGE": "staging"})
    with pytest.raises(ValidationError):
        Settings.model_validate({"SLOTWISE_TABLE_NAME": "ab"})  # AWS needs >= 3 characters


def test_clients_are_built_lazily_and_reset() -> None:
    aws.reset_clients()
    assert aws._client.cache_info().currsize == 0
    first = aws.dynamodb()
    assert aws.dynamodb() is first
    aws.reset_clients()
    assert aws.dynamodb() is not first


def test_importing_a_handler_builds_no_client() -> None:
    import importlib
    import sys

    aws.reset_clients()
    sys.modules.pop("functions.health.handler", None)
    importlib.import_module("functions.health.handler")
    assert aws._client.cache_info().currsize == 0


def test_clients_wait_as_long_as_the_settings_say(monkeypatch: pytest.MonkeyPatch) -> None:
    aws.reset_clients()
    assert aws.dynamodb().meta.config.read_timeout == 5  # a Lambda fails fast by default
    monkeypatch.setenv("SLOTWISE_AWS_READ_TIMEOUT_SECONDS", "60")
    get_settings.cache_clear()
    aws.reset_clients()
    assert aws.dynamodb().meta.config.read_timeout == 60
    monkeypatch.setenv("SLOTWISE_AWS_READ_TIMEOUT_SECONDS", "0")
    get_settings.cache_clear()
    with pytest.raises(ValidationError):
        get_settings()
