"""No import cycles in the shared layer: neither between its packages nor between its modules.

Every module under `layers/slotwise` is read with `ast`; every static import counts, including one inside a
function (a lazy import still makes the importing package depend on the imported one). Imports under
`if TYPE_CHECKING:` do not count: they never run. A package node is a subpackage (`slotwise.booking`) or a
top-level module (`slotwise.settings`).
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from pathlib import Path

from tests.support.imports import from_import_targets

LAYER = Path(__file__).resolve().parents[2] / "layers"
ROOT = "slotwise"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(LAYER).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted((LAYER / ROOT).rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    """Every module name `module` imports at run time (TYPE_CHECKING blocks left out)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                yield from _imports(ast.Module(body=[child], type_ignores=[]), module, is_package)
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield from from_import_targets(node, module, is_package)
        else:
            yield from _imports(node, module, is_package)


def _module_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        targets = {t for t in _imports(tree, name, path.name == "__init__.py") if t in modules and t != name}
        graph[name] = targets
    return graph


def _package_of(module: str) -> str:
    """`slotwise.booking.store` -> `slotwise.booking`; `slotwise.settings` stays itself."""
    parts = module.split(".")
    return ".".join(parts[:2])


def _package_graph(modules: dict[str, set[str]]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, targets in modules.items():
        source = _package_of(module)
        edges = graph.setdefault(source, set())
        edges.update(_package_of(t) for t in targets if _package_of(t) != source and _package_of(t) != ROOT)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component with more than one node (Tarjan), each printed as a path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    # A shortest cycle through each member, so every cycle that keeps a component together gets named.
    found: list[list[str]] = []
    for component in components:
        for member in component:
            cycle = _path_through(graph, component, member)
            rotations = {
                tuple(found_cycle[i:-1] + found_cycle[:i]) for found_cycle in found for i in range(len(found_cycle) - 1)
            }
            if tuple(cycle[:-1]) not in rotations:
                found.append(cycle)
    return found


def _path_through(graph: dict[str, set[str]], component: list[str], start: str) -> list[str]:
    """A shortest cycle from `start` back to itself inside its component, for the failure message."""
    members = set(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph.get(node, set()) & members):
                if target == start:
                    return [*paths[node], start]
                if target not in paths:
                    paths[target] = [*paths[node], target]
                    following.append(target)
        frontier = following
    return component


def _describe(cycles: list[list[str]], modules: dict[str, set[str]] | None = None) -> str:
    """Each cycle as a path, and for a package cycle the module imports behind each of its edges."""
    lines = []
    for cycle in cycles:
        lines.append(" -> ".join(cycle))
        if modules is None:
            continue
        for source, target in itertools.pairwise(cycle):
            edges = {
                (m, t)
                for m, targets in modules.items()
                for t in targets
                if (_package_of(m), _package_of(t)) == (source, target)
            }
            # `from slotwise.audit import log` records slotwise.audit too: name the submodule where there is one.
            named = {(m, t) for m, t in edges if t != target or not any(n == m and u != target for n, u in edges)}
            because = sorted(f"{m} imports {t}" for m, t in named)
            lines.extend(f"    {reason}" for reason in because)
    return "\n".join(lines)


def test_the_layer_has_modules_to_check() -> None:
    graph = _module_graph()
    assert "slotwise.booking.store" in graph or "slotwise.booking.create" in graph
    assert len(graph) > 50


def test_no_import_cycle_between_packages() -> None:
    modules = _module_graph()
    cycles = _cycles(_package_graph(modules))
    assert not cycles, "import cycles between packages of slotwise:\n" + _describe(cycles, modules)


def test_no_import_cycle_between_modules() -> None:
    cycles = _cycles(_module_graph())
    assert not cycles, "import cycles between modules of slotwise:\n" + _describe(cycles)


def test_the_checker_finds_a_cycle_and_ignores_type_checking_imports() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from slotwise.b import thing\n"
        "def lazy():\n"
        "    from slotwise.c import other\n"
    )
    found = set(_imports(ast.parse(source), "slotwise.a", False))
    assert "slotwise.c" in found
    assert "slotwise.b" not in found
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
