"""The layer build: its steps with pip replaced (the copy and the bytecode are real), and the layer as
`python -m infra.layer_build` really builds it (pip included, once per module), inspected for what must not ship."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from infra import layer_build
from slotwise import aws

# Never in the layer: the development stack, the local runtime's and the tests' own dependencies, our test and bench
# code. Module names are grepped in every shipped Python file (imports) and searched as file and folder names.
DEV_MODULES = ("devstack", "simulated_provider", "stripe_events", "payment_outcomes")
DEV_ONLY_DISTRIBUTIONS = (
    "moto",
    "flask",
    "flask_cors",
    "werkzeug",
    "websockets",
    "pytest",
    "hypothesis",
    "responses",
    "aws_cdk",
    # the `slotwise` operators' CLI (infra/cli) and what it brings
    "typer",
    "click",
    "rich",
)
OUR_NON_RUNTIME_CODE = ("tests", "bench", "infra", "functions", "events", "devstack")
IMPORTS_A_DEV_MODULE = re.compile(rf"^\s*(from|import)\s+[\w.]*\b({'|'.join(DEV_MODULES)})\b", re.M)
IMPORTS_A_DEV_DEPENDENCY = re.compile(rf"^\s*(from|import)\s+({'|'.join(DEV_ONLY_DISTRIBUTIONS)})\b", re.M)


@pytest.fixture(scope="module")
def built_layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real layer (pip fetches the aarch64 wheels), built once for this module's tests."""
    out = tmp_path_factory.mktemp("built-layer")
    layer_build.build_layer(out)
    return out / "python"


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
    used = set(re.findall(r'_client\("([a-z0-9-]+)"[,)]', source))
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
    (source / "__pycache__" / "mod.cpython-313.pyc").write_bytes(b"stale")
    (source / "mod.py").write_text("")
    (source / "stray.pyc").write_bytes(b"stale")

    layer_build.copy_package(source, tmp_path / "out" / "pkg")

    assert sorted(p.name for p in (tmp_path / "out" / "pkg").iterdir()) == ["mod.py"]


def test_the_built_layer_ships_no_development_stack(built_layer: Path) -> None:
    """The simulated provider, its Stripe-shaped events and the `/dev/...` routes live in `devstack`, which only the
    local runtime and the tests install; a deployed function cannot even import them."""
    shipped = [p for p in built_layer.rglob("*") if p.suffix in ("", ".py")]
    named = [p.relative_to(built_layer) for p in shipped if p.stem in DEV_MODULES]
    assert named == []
    importing = [
        p.relative_to(built_layer)
        for p in built_layer.rglob("*.py")
        if IMPORTS_A_DEV_MODULE.search(p.read_text(encoding="utf-8", errors="replace"))
    ]
    assert importing == []
    ours = built_layer / "slotwise"
    assert "class SimulatedProvider" not in "".join(p.read_text(encoding="utf-8") for p in ours.rglob("*.py"))
    spec = (ours / "api" / "openapi.json").read_text(encoding="utf-8")
    assert "/dev/" not in spec, "the deployed API document lists no development route"


def test_the_built_layer_ships_no_development_dependency(built_layer: Path) -> None:
    top = {p.name.split("-")[0].lower() for p in built_layer.iterdir()}
    assert top & set(DEV_ONLY_DISTRIBUTIONS) == set()
    ours = built_layer / "slotwise"
    importing = [p.relative_to(ours) for p in ours.rglob("*.py") if IMPORTS_A_DEV_DEPENDENCY.search(p.read_text())]
    assert importing == [], "the functions would fail to import them in Lambda"
    # What does ship: the runtime dependencies, and the package itself.
    assert {"aws_lambda_powertools", "boto3", "pydantic", "stripe", "jwt", "slotwise"} <= top


def test_the_built_layer_ships_no_test_or_bench_code(built_layer: Path) -> None:
    assert sorted(name for name in OUR_NON_RUNTIME_CODE if (built_layer / name).exists()) == []
    ours = built_layer / "slotwise"
    stray = [
        p.relative_to(ours)
        for p in ours.rglob("*")
        if p.name == "conftest.py" or p.name.startswith(("test_", "bench")) or p.name in ("tests", "bench")
    ]
    assert stray == []


# The budget for the layer, zipped (Lambda's own limit is 50 MB zipped for a direct upload).
LAYER_BUDGET_BYTES = 35 * 1000 * 1000


def test_prune_distributions_removes_every_file_its_record_lists(tmp_path: Path) -> None:
    (tmp_path / "PIL").mkdir()
    (tmp_path / "PIL" / "Image.py").write_text("")
    (tmp_path / "pillow.libs").mkdir()
    (tmp_path / "pillow.libs" / "libjpeg.so").write_bytes(b"")
    info = tmp_path / "pillow-12.2.0.dist-info"
    info.mkdir()
    record = ["PIL/Image.py,sha256=x,1", "pillow.libs/libjpeg.so,,", "pillow-12.2.0.dist-info/RECORD,,"]
    record.append("../../bin/x,,")  # a script outside the target: never touched
    (info / "RECORD").write_text("\n".join(record) + "\n")
    (tmp_path / "fpdf").mkdir()
    (tmp_path / "fpdf" / "fpdf.py").write_text("")
    (tmp_path / "fpdf2-2.8.9.dist-info").mkdir()

    assert layer_build.prune_distributions(tmp_path, ["Pillow"]) == ["pillow"]

    assert sorted(p.name for p in tmp_path.iterdir()) == ["fpdf", "fpdf2-2.8.9.dist-info"]
    assert layer_build.prune_distributions(tmp_path, ["pillow"]) == []


def test_prune_files_removes_fonttools_compiled_twins_only(tmp_path: Path) -> None:
    misc = tmp_path / "fontTools" / "misc"
    misc.mkdir(parents=True)
    for name in ("bezierTools.py", "bezierTools.cpython-313-aarch64-linux-gnu.so"):
        (misc / name).write_bytes(b"")
    (tmp_path / "cryptography").mkdir()
    (tmp_path / "cryptography" / "_rust.abi3.so").write_bytes(b"")

    removed = layer_build.prune_files(tmp_path, layer_build.FILES_NOT_SHIPPED)

    assert removed == ["fontTools/misc/bezierTools.cpython-313-aarch64-linux-gnu.so"]
    assert (misc / "bezierTools.py").is_file() and (tmp_path / "cryptography" / "_rust.abi3.so").is_file()


def test_the_built_layer_ships_the_pdf_stack_without_pillow_within_the_budget(
    built_layer: Path, tmp_path: Path
) -> None:
    """fpdf2 with fontTools and the bundled fonts ship; Pillow and fontTools' Cython builds do not (the PDF renders
    without them: tests/unit/notifications/test_confirmation_pdf.py); the zipped layer stays within 35 MB."""
    import zipfile

    top = {p.name for p in built_layer.iterdir()}
    assert {"fpdf", "fontTools", "defusedxml"} <= top
    assert not top & {"PIL", "pillow.libs"} and not any(name.startswith("pillow-") for name in top)
    assert list((built_layer / "fontTools").rglob("*.so")) == []
    fonts = built_layer / "slotwise" / "notifications" / "fonts"
    assert {"DejaVuSans.ttf", "DroidSansFallbackFull.ttf", "LICENSES.md"} <= {p.name for p in fonts.iterdir()}
    archive = tmp_path / "layer.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(built_layer.rglob("*")):
            if path.is_file():
                zipped.write(path, Path("python") / path.relative_to(built_layer))
    size = archive.stat().st_size
    print(f"zipped layer: {size / 1e6:.1f} MB")
    assert size <= LAYER_BUDGET_BYTES, f"the zipped layer is {size / 1e6:.1f} MB"
