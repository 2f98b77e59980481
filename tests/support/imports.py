"""What a fresh interpreter loads: cold-start rules ("importing X never loads Y") checked the way Lambda's init runs
them, in a new process with only the repository and the layer on the path."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def modules_loaded_by(imports: list[str], prefix: str) -> list[str]:
    """The modules named `prefix` or under it that importing `imports` (module names) loads in a new interpreter."""
    script = (
        "import importlib, json, sys\n"
        f"for name in {imports!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m == {prefix!r} or m.startswith({prefix + '.'!r}))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={"PYTHONPATH": f"{ROOT}:{ROOT / 'layers'}", "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def from_import_targets(node: ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The modules a `from … import …` in `module` may load: the base (relative levels resolved) and `base.name` for
    each name, since `from slotwise.booking import store` imports the module slotwise.booking.store."""
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, base] if base else package)
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]
