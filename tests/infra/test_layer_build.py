"""The layer build without its network step: pip is replaced, the copy and the bytecode are real."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from infra import layer_build
from slotwise import aws

# PEP 552 flags word of a .pyc: bit 0 = hash-based, bit 1 = check the source. Unchecked hash = 0b01.
UNCHECKED_HASH = 0b01


def pyc_flags(pyc: Path) -> int:
    flags: int = struct.unpack("<I", pyc.read_bytes()[4:8])[0]
    return flags


def test_runtime_dependencies_are_the_project_dependencies() -> None:
    dependencies = layer_build.runtime_dependencies()
    assert any(d.startswith("aws-lambda-powertools") for d in dependencies)
    assert not any(d.startswith(("aws-cdk-lib", "pytest", "moto")) for d in dependencies)


def test_the_layer_ships_what_oidc_verification_needs() -> None:
    """RS256/ES256 (PyJWKClient) need cryptography. The dev venv has it through moto whatever the layer lacks, so
    the tests alone would pass with a layer that fails every OIDC request in AWS."""
    requirements = {Requirement(d).name: Requirement(d) for d in layer_build.runtime_dependencies()}
    assert "crypto" in requirements["pyjwt"].extras
    assert str(requirements["cryptography"].specifier).startswith("=="), "pin it like every shipped dependency"


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


def test_only_the_models_of_services_the_functions_call_ship(tmp_path: Path) -> None:
    data = tmp_path / "botocore" / "data"
    for service in ("dynamodb", "sqs", "ec2", "s3"):
        (data / service / "2012-08-10").mkdir(parents=True)
    (data / "endpoints.json").write_text("{}")
    (tmp_path / "boto3" / "data" / "ec2").mkdir(parents=True)

    layer_build.prune_service_models(tmp_path, frozenset({"dynamodb", "sqs"}))

    assert sorted(p.name for p in data.iterdir()) == ["dynamodb", "endpoints.json", "sqs"]
    assert list((tmp_path / "boto3" / "data").iterdir()) == []


def test_every_client_the_code_builds_is_a_shipped_service() -> None:
    """Clients are built only by slotwise.aws, by service name; each name it uses must be in SERVICES."""
    source = (layer_build.PACKAGE_DIR / "aws.py").read_text()
    used = set(re.findall(r'_client\("([a-z0-9-]+)"\)', source))
    assert used, "the factory builds clients by literal service name"
    assert used <= aws.SERVICES
    builds_clients = re.compile(r"^\s*(import boto3|from boto3 import)|boto3\.(client|resource|session)", re.M)
    others = [
        p for p in layer_build.PACKAGE_DIR.rglob("*.py") if p.name != "aws.py" and builds_clients.search(p.read_text())
    ]
    assert others == [], "only slotwise.aws builds AWS clients"


def test_a_client_of_an_unshipped_service_fails_loudly() -> None:
    with pytest.raises(ValueError, match="SERVICES"):
        aws._client("ec2")


def test_copy_package_leaves_bytecode_caches_behind(tmp_path: Path) -> None:
    source = tmp_path / "src" / "pkg"
    (source / "__pycache__").mkdir(parents=True)
    (source / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"stale")
    (source / "mod.py").write_text("")
    (source / "stray.pyc").write_bytes(b"stale")

    layer_build.copy_package(source, tmp_path / "out" / "pkg")

    assert sorted(p.name for p in (tmp_path / "out" / "pkg").iterdir()) == ["mod.py"]
