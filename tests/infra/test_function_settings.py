"""The stack gives every function the resource settings its handler requires (`REQUIRED_SETTINGS`): a function
that requires one the stack does not set would fail at every cold start in dev/prod (slotwise.settings)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from aws_cdk.assertions import Template

from slotwise.settings import Settings
from tests.infra.support import functions_by_group, synth_stack


@pytest.fixture(scope="module")
def prod(layer_dir: Path, no_cdk_context: None) -> Template:
    return synth_stack("prod", layer_dir)


def test_every_function_gets_the_resources_its_handler_requires(prod: Template) -> None:
    functions = functions_by_group(prod)
    assert functions
    for group, (_, properties) in sorted(functions.items()):
        required = importlib.import_module(f"functions.{group}.handler").REQUIRED_SETTINGS
        variables = properties["Environment"]["Variables"]
        missing = [
            Settings.model_fields[name].alias
            for name in required
            if not variables.get(Settings.model_fields[name].alias)
        ]
        assert missing == [], f"the stack does not give {group} {missing}"
