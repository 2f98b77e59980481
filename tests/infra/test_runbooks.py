"""Every alarm the stack creates has a runbook in docs/operations.md, and every runbook names a real alarm.

Alarm names come from the synthesized template (the ops construct names them `slotwise-<stage>-<id>`); a runbook is
a heading under "## Runbooks" that names the alarm's `<id>` in backticks (one heading may name several, e.g. a
function's `Errors` and `Throttles` alarms).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aws_cdk.assertions import Template

from tests.infra.support import resources, synth_stack

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
PREFIX = "slotwise-dev-"


@pytest.fixture(scope="module")
def dev(layer_dir: Path, no_cdk_context: None) -> Template:
    return synth_stack("dev", layer_dir)


def alarm_ids(template: Template) -> set[str]:
    names = [alarm["Properties"]["AlarmName"] for alarm in resources(template, "AWS::CloudWatch::Alarm").values()]
    assert names and all(name.startswith(PREFIX) for name in names), names
    return {name.removeprefix(PREFIX) for name in names}


def runbook_headings() -> dict[str, str]:
    """Alarm id -> the heading that names it, for the headings of the Runbooks section."""
    text = OPERATIONS.read_text(encoding="utf-8")
    assert "\n## Runbooks\n" in text, "docs/operations.md has a '## Runbooks' section"
    section = text.split("\n## Runbooks\n", 1)[1].split("\n## ", 1)[0]
    found: dict[str, str] = {}
    for line in section.splitlines():
        if re.match(r"#{3,5} ", line):
            for name in re.findall(r"`([A-Za-z0-9]+)`", line):
                assert name not in found, f"two runbooks for {name}"
                found[name] = line
    return found


def test_every_alarm_has_a_runbook(dev: Template) -> None:
    missing = sorted(alarm_ids(dev) - set(runbook_headings()))
    assert not missing, f"alarms without a runbook heading in docs/operations.md: {missing}"


def test_every_runbook_names_an_alarm_of_the_stack(dev: Template) -> None:
    stale = sorted(set(runbook_headings()) - alarm_ids(dev))
    assert not stale, f"runbook headings in docs/operations.md name no alarm of the stack: {stale}"


def test_runbooks_say_what_it_means_what_to_check_and_how_to_fix() -> None:
    text = OPERATIONS.read_text(encoding="utf-8").split("\n## Runbooks\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.split(r"\n(?=#{3,5} )", text)
    for block in blocks[1:]:
        heading = block.splitlines()[0]
        if "`" not in heading:
            continue  # a grouping heading
        for part in ("**Means**", "**Check**", "**Fix**"):
            assert part in block, f"{heading}: no {part}"
