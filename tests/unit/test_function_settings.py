"""Each function names the resources it uses (`REQUIRED_SETTINGS = require_settings(...)` in its handler module):
in dev/prod a missing one stops the function at init, naming the variable; local and test stages keep defaults."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import get_args

import pytest
from pydantic import ValidationError

from slotwise.settings import MissingSetting, ResourceSetting, Settings, get_settings, require_settings

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
GROUPS = sorted(p.parent.name for p in FUNCTIONS.glob("*/handler.py"))
# What a deployed function's environment holds apart from the variables under test.
DEPLOYED = {"SLOTWISE_STAGE": "prod", "SLOTWISE_JWT_SECRET": "x" * 40}


def _stage(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], *unset: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in unset:
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()


def _fresh_handler(group: str) -> ModuleType:
    """A private copy of the handler module, as a new execution environment would import it."""
    spec = importlib.util.spec_from_file_location(f"fresh_{group}_handler", FUNCTIONS / group / "handler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _alias(name: str) -> str:
    return str(Settings.model_fields[name].alias)


def test_a_missing_resource_name_stops_a_prod_function_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    _stage(monkeypatch, DEPLOYED, "SLOTWISE_TABLE_NAME")
    with pytest.raises(MissingSetting, match="SLOTWISE_TABLE_NAME must be set in stage prod"):
        require_settings("table_name")


def test_every_missing_variable_is_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    _stage(monkeypatch, {**DEPLOYED, "SLOTWISE_STAGE": "dev", "SLOTWISE_TABLE_NAME": "slotwise-dev"})
    monkeypatch.delenv("SLOTWISE_WEBHOOK_QUEUE_URL", raising=False)
    monkeypatch.setenv("SLOTWISE_WEBHOOK_DLQ_URL", "")  # empty is missing too
    with pytest.raises(MissingSetting) as raised:
        require_settings("table_name", "webhook_queue_url", "webhook_dlq_url")
    assert str(raised.value).startswith("SLOTWISE_WEBHOOK_QUEUE_URL, SLOTWISE_WEBHOOK_DLQ_URL must be set in stage dev")


def test_a_default_never_stands_in_for_a_deployed_resource(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set to the very default value it is fine; left to the default it is not."""
    _stage(monkeypatch, {**DEPLOYED, "SLOTWISE_TABLE_NAME": "slotwise"})
    assert require_settings("table_name") == ("table_name",)
    _stage(monkeypatch, DEPLOYED, "SLOTWISE_TABLE_NAME", "SLOTWISE_EVENT_BUS_NAME")
    with pytest.raises(MissingSetting, match="SLOTWISE_EVENT_BUS_NAME"):
        require_settings("event_bus_name")


@pytest.mark.parametrize("stage", ["local", "test"])
def test_local_stages_keep_their_defaults(monkeypatch: pytest.MonkeyPatch, stage: str) -> None:
    every: tuple[ResourceSetting, ...] = get_args(ResourceSetting)
    _stage(monkeypatch, {"SLOTWISE_STAGE": stage}, *(_alias(name) for name in every))
    assert require_settings(*every) == every
    settings = get_settings()
    assert (settings.table_name, settings.event_bus_name) == ("slotwise", "slotwise")


def test_every_function_declares_what_it_requires() -> None:
    for group in GROUPS:
        required = importlib.import_module(f"functions.{group}.handler").REQUIRED_SETTINGS
        assert required, group
        assert set(required) <= set(get_args(ResourceSetting)), group


@pytest.mark.parametrize("group", ["payments", "stripe_webhooks", "webhooks", "publisher"])
def test_a_deployed_function_without_its_resources_fails_at_init(monkeypatch: pytest.MonkeyPatch, group: str) -> None:
    required = importlib.import_module(f"functions.{group}.handler").REQUIRED_SETTINGS
    _stage(monkeypatch, DEPLOYED, *(_alias(name) for name in required))
    with pytest.raises(MissingSetting, match=_alias(required[0])):
        _fresh_handler(group)


def test_a_deployed_function_with_its_resources_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    _stage(
        monkeypatch,
        {**DEPLOYED, "SLOTWISE_STRIPE_EVENTS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/q"},
    )
    assert _fresh_handler("stripe_webhooks").REQUIRED_SETTINGS == ("stripe_events_queue_url",)


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_simulated_provider_cannot_be_chosen_in_a_deployed_stage(stage: str) -> None:
    with pytest.raises(ValidationError, match="SLOTWISE_PAYMENT_PROVIDER=simulated cannot run in stage"):
        Settings.model_validate({"SLOTWISE_STAGE": stage, "SLOTWISE_PAYMENT_PROVIDER": "simulated"})
