"""SnapStart on every function, and every trigger invokes the function's `live` alias, never `$LATEST`.

SnapStart restores published versions only: a trigger pointed at the function itself would run `$LATEST`, with a
full cold start, and the snapshot would never be used.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from infra.components.group_function import ALIAS_NAME
from tests.infra.support import EXTENDED, functions_by_group, resources, synth_stack


@pytest.fixture(scope="module")
def dev(layer_dir: Path) -> Template:
    return synth_stack("dev", layer_dir)


@pytest.fixture(scope="module")
def extended(layer_dir: Path, extended_functions_dir: Path) -> Template:
    return synth_stack("dev", layer_dir, topology=EXTENDED, functions_dir=extended_functions_dir)


def _aliases(template: Template) -> dict[str, str]:
    """Function logical id -> its alias's logical id, checking each alias names the function's published version."""
    versions = resources(template, "AWS::Lambda::Version")
    found: dict[str, str] = {}
    for alias_id, alias in resources(template, "AWS::Lambda::Alias").items():
        props = alias["Properties"]
        assert props["Name"] == ALIAS_NAME
        version_id = props["FunctionVersion"]["Fn::GetAtt"][0]
        assert props["FunctionVersion"]["Fn::GetAtt"][1] == "Version"
        function_id = versions[version_id]["Properties"]["FunctionName"]["Ref"]
        assert props["FunctionName"] == {"Ref": function_id}
        assert function_id not in found, f"{function_id} has two aliases"
        found[function_id] = alias_id
    return found


@pytest.mark.parametrize("config", ["dev", "extended"])
def test_every_function_snapstarts_behind_a_live_alias(config: str, request: pytest.FixtureRequest) -> None:
    template: Template = request.getfixturevalue(config)
    functions = functions_by_group(template)
    aliases = _aliases(template)
    for group, (function_id, props) in functions.items():
        assert props["SnapStart"] == {"ApplyOn": "PublishedVersions"}, group
        # Lean init: pydantic scans no installed distribution for plugins at the first model.
        assert props["Environment"]["Variables"]["PYDANTIC_DISABLE_PLUGINS"] == "__all__"
        assert function_id in aliases, f"{group} has no {ALIAS_NAME} alias"
    assert len(resources(template, "AWS::Lambda::Version")) == len(functions)


def _function_refs(value: Any) -> set[str]:
    """Logical ids referenced anywhere in `value` by Ref or Fn::GetAtt."""
    text = json.dumps(value)
    found: set[str] = set()
    for marker in ('{"Ref": "', '{"Fn::GetAtt": ["'):
        for part in text.split(marker)[1:]:
            found.add(part.split('"', 1)[0])
    return found


@pytest.mark.parametrize("config", ["dev", "extended"])
def test_triggers_invoke_the_alias_never_latest(config: str, request: pytest.FixtureRequest) -> None:
    template: Template = request.getfixturevalue(config)
    function_ids = {function_id for function_id, _ in functions_by_group(template).values()}
    alias_ids = set(_aliases(template).values())
    invokers = {
        "AWS::Lambda::EventSourceMapping": lambda p: p["FunctionName"],
        "AWS::ApiGatewayV2::Integration": lambda p: p["IntegrationUri"],
        "AWS::Scheduler::Schedule": lambda p: p["Target"]["Arn"],
        "AWS::Lambda::Permission": lambda p: p["FunctionName"],
        "AWS::Events::Rule": lambda p: p.get("Targets", []),
    }
    checked = 0
    for kind, target_of in invokers.items():
        for logical_id, resource in resources(template, kind).items():
            refs = _function_refs(target_of(resource["Properties"]))
            assert not refs & function_ids, f"{kind} {logical_id} invokes a function's $LATEST: {refs & function_ids}"
            if kind != "AWS::Events::Rule":  # rules deliver to queues, not to functions
                assert refs & alias_ids, f"{kind} {logical_id} invokes no alias: {refs}"
                checked += 1
    # Every kind of trigger the topology has was seen (integrations, permissions, and mappings or schedules).
    assert resources(template, "AWS::ApiGatewayV2::Integration")
    assert checked >= len(resources(template, "AWS::ApiGatewayV2::Integration")) + len(
        resources(template, "AWS::Lambda::EventSourceMapping")
    )
    if config == "extended":
        assert resources(template, "AWS::Scheduler::Schedule")
        assert resources(template, "AWS::Lambda::EventSourceMapping")
