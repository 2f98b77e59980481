"""No code outside the tests reads a whole table: every read names a key or an index partition (issue 16's rule,
docs/reports.md). A Scan reads (and bills) every item, so one report or listing would cost as much as the table."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Everything that ships or runs outside the test suite.
SOURCES = ("layers", "functions", "infra", "devstack", "bench", "events")
SCAN_NAMES = frozenset({"scan", "parallel_scan"})


def scan_calls(source: str, name: str) -> list[str]:
    """`<anything>.scan(...)`, or the operation named to a call as a string (`get_paginator("scan")`)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename=name)):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Attribute) and node.func.attr in SCAN_NAMES:
            found.append(f"{name}:{node.lineno} calls .{node.func.attr}()")
        if any(isinstance(arg, ast.Constant) and arg.value in ("Scan", "scan") for arg in node.args):
            found.append(f"{name}:{node.lineno} names the Scan operation")
    return found


def _sources() -> list[Path]:
    return [
        path
        for folder in SOURCES
        for path in sorted((ROOT / folder).rglob("*.py"))
        if "node_modules" not in path.parts and "cdk.out" not in path.parts
    ]


def test_no_code_outside_the_tests_scans_the_table() -> None:
    offenders = [
        use for path in _sources() for use in scan_calls(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]
    assert not offenders, "read by key or index partition (a Query), never a Scan:\n" + "\n".join(offenders)


def test_the_check_finds_a_scan() -> None:
    found = scan_calls(
        'client.scan(TableName="t")\npaginator = client.get_paginator("scan")\nx = "scan"\n', "example.py"
    )
    assert found == ["example.py:1 calls .scan()", "example.py:2 names the Scan operation"]
