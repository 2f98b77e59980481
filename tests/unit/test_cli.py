"""The `slotwise` CLI's surface without a stack: every command has --help and --json, and the exit codes of usage
errors and of an unreachable stack (the commands against a running stack: tests/e2e/test_cli_e2e.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from infra.cli.app import app
from infra.cli.target import UNREACHABLE, USAGE

runner = CliRunner()


def commands() -> list[list[str]]:
    """Every leaf command as its argv path (`["dlq", "redrive"]`)."""
    root = typer.main.get_command(app)
    found: list[list[str]] = []

    def walk(group: Any, path: list[str]) -> None:
        # Typer vendors its own click: groups are told by their sub-commands, not by click's class.
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                walk(command, [*path, name])
            else:
                found.append([*path, name])

    walk(root, [])
    return found


def test_the_commands_are_the_issues() -> None:
    assert sorted(" ".join(c) for c in commands()) == [
        "bookings export",
        "dlq list",
        "dlq redrive",
        "dlq show",
        "doctor",
        "events replay",
        "jobs run",
        "seed",
        "users create-admin",
    ]


@pytest.mark.parametrize("path", commands(), ids=" ".join)
def test_every_command_has_help_and_json(path: list[str]) -> None:
    shown = runner.invoke(app, [*path, "--help"])
    assert shown.exit_code == 0, shown.output
    assert "--json" in shown.output


def test_usage_errors_exit_2_before_any_stack_is_reached(tmp_path: Path) -> None:
    missing = ["--state-dir", str(tmp_path)]
    window = ["--from", "2027-01-02T00:00:00Z", "--to", "2027-01-01T00:00:00Z"]
    cases = [
        ["dlq", "nonsense"],
        ["events", "replay", *window],
        ["events", "replay", "--from", "2027-01-01T00:00:00", "--to", "2027-01-02T00:00:00Z"],
        ["events", "replay", "--from", "yesterday", "--to", "2027-01-02T00:00:00Z"],
        ["bookings", "export", "--from", "2027-01-01T00:00:00Z", "--to", "2027-01-02T00:00:00Z", "--format", "xml"],
        ["dlq", "show", "notifications", "--limit", "0"],
        ["--stack", "prod", "seed"],
    ]
    for argv in cases:
        result = runner.invoke(app, [*missing, *argv])
        assert result.exit_code == USAGE, (argv, result.output)


def test_a_stack_that_is_not_running_exits_3(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--state-dir", str(tmp_path), "dlq", "list", "--json"])
    assert result.exit_code == UNREACHABLE
    assert "make dev" in result.output
    assert result.stdout == ""  # scripts reading stdout get no half answer


def test_doctor_without_a_runtime_reports_it_down(tmp_path: Path) -> None:
    import json

    result = runner.invoke(app, ["--state-dir", str(tmp_path), "doctor", "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert {c["name"]: c["ok"] for c in report["checks"]}["runtime"] is False
