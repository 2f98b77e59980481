"""Files have one job: a module of the shipped package (or a handler, or the dev stack) past 400 lines says at its
top why it is one module, so the next reader knows whether to split it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 400
REASON = "Longer than 400 lines because"


def long_modules_without_a_reason() -> list[str]:
    found = []
    for folder in ("layers/slotwise", "functions", "devstack"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            lines = source.count("\n")
            if lines <= LIMIT:
                continue
            docstring = ast.get_docstring(ast.parse(source)) or ""
            if REASON not in docstring:
                found.append(f"{path.relative_to(ROOT)} ({lines} lines)")
    return found


def test_every_module_past_400_lines_says_why_at_its_top() -> None:
    missing = long_modules_without_a_reason()
    assert not missing, f"split these or start their docstring's reason with {REASON!r}: {missing}"
