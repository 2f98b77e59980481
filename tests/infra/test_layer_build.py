"""The layer build without its network step: pip is replaced, the copy and the bytecode are real."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from infra import layer_build

# PEP 552 flags word of a .pyc: bit 0 = hash-based, bit 1 = check the source. Unchecked hash = 0b01.
UNCHECKED_HASH = 0b01


def pyc_flags(pyc: Path) -> int:
    flags: int = struct.unpack("<I", pyc.read_bytes()[4:8])[0]
    return flags


def test_runtime_dependencies_are_the_project_dependencies() -> None:
    dependencies = layer_build.runtime_dependencies()
    assert any(d.startswith("aws-lambda-powertools") for d in dependencies)
    assert not any(d.startswith(("aws-cdk-lib", "pytest", "moto")) for d in dependencies)


def test_build_layer_installs_copies_and_compiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    installs: list[tuple[Path, str, list[str]]] = []

    def fake_install(target: Path, platform: str, requirements: list[str]) -> None:
        installs.append((target, platform, requirements))
        (target / "dep.py").write_text("VALUE = 1\n")

    monkeypatch.setattr(layer_build, "install_dependencies", fake_install)
    out = tmp_path / "layer"
    (out / "python").mkdir(parents=True)
    (out / "python" / "left_from_last_build.py").write_text("")

    layer_build.build_layer(out, "manylinux2014_aarch64")

    target = out / "python"
    assert installs == [(target, "manylinux2014_aarch64", layer_build.runtime_dependencies())]
    assert not (target / "left_from_last_build.py").exists()
    assert (target / "slotwise" / "topology.py").is_file()
    pycs = list(target.rglob("*.pyc"))
    assert any(p.name.startswith("topology.") for p in pycs)
    assert any(p.name.startswith("dep.") for p in pycs)
    assert {pyc_flags(p) for p in pycs} == {UNCHECKED_HASH}


def test_copy_package_leaves_bytecode_caches_behind(tmp_path: Path) -> None:
    source = tmp_path / "src" / "pkg"
    (source / "__pycache__").mkdir(parents=True)
    (source / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"stale")
    (source / "mod.py").write_text("")
    (source / "stray.pyc").write_bytes(b"stale")

    layer_build.copy_package(source, tmp_path / "out" / "pkg")

    assert sorted(p.name for p in (tmp_path / "out" / "pkg").iterdir()) == ["mod.py"]
