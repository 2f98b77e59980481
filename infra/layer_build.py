"""Build the Lambda layer folder: runtime dependencies for the Lambda platform, the slotwise package, bytecode.

    python -m infra.layer_build --out build/layer [--platform manylinux2014_aarch64]

No Docker: pip fetches wheels for the target platform (`--only-binary=:all:`), so the host may be x86_64 or macOS.
The platform must match the functions' architecture (arm64 -> manylinux2014_aarch64).
"""

from __future__ import annotations

import argparse
import compileall
import py_compile
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path

from slotwise.aws import SERVICES

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
PACKAGE_DIR = ROOT / "layers" / "slotwise"
DEFAULT_OUT = ROOT / "build" / "layer"
DEFAULT_PLATFORM = "manylinux2014_aarch64"
LAMBDA_PYTHON = (3, 13)
# Distributions pip installs as dependencies that the functions never import, removed from the layer (each file its
# RECORD lists), with why. Pillow: fpdf2 needs it only for images, and the PDF confirmations draw none (fpdf2
# imports it optionally); it and its bundled libraries are about 7 MB of the zipped layer's 35 MB budget.
NOT_SHIPPED: dict[str, str] = {"pillow": "fpdf2 uses it for images only; the PDF confirmations have none"}
# Files left out by pattern, with why. fontTools' Cython builds (17 MB unzipped, about 5 MB zipped) each sit beside
# the pure-Python module of the same name, which Python imports when the extension is absent: they speed up curve
# maths (bezier, cu2qu) that embedding a font subset in a PDF does not do.
FILES_NOT_SHIPPED: dict[str, str] = {"fontTools/**/*.so": "optional Cython twins of pure-Python fontTools modules"}


def runtime_dependencies(pyproject: Path = PYPROJECT) -> list[str]:
    with pyproject.open("rb") as handle:
        dependencies: list[str] = tomllib.load(handle)["project"]["dependencies"]
    return dependencies


def install_dependencies(target: Path, platform: str, requirements: list[str]) -> None:
    python_version = ".".join(map(str, LAMBDA_PYTHON))
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--target",
        str(target),
        "--platform",
        platform,
        "--implementation",
        "cp",
        "--python-version",
        python_version,
        "--only-binary=:all:",
        # pip would write timestamp-based .pyc files, which compileall then considers current and keeps.
        "--no-compile",
        "--disable-pip-version-check",
        "--quiet",
        *requirements,
    ]
    subprocess.run(command, check=True)  # noqa: S603 - fixed argv, requirements come from our own pyproject


def prune_service_models(target: Path, keep: frozenset[str]) -> None:
    """Drop the botocore and boto3 models of AWS services the functions never call (`slotwise.aws.SERVICES`).

    botocore carries a model for each of 400+ services; the functions use a handful. The loader's shared files
    (endpoints, partitions, retry and default configuration) sit beside the service folders and stay.
    """
    for data in (target / "botocore" / "data", target / "boto3" / "data"):
        if not data.is_dir():
            continue
        for service in data.iterdir():
            if service.is_dir() and service.name not in keep:
                shutil.rmtree(service)


def prune_distributions(target: Path, names: Iterable[str]) -> list[str]:
    """Remove the installed distributions `names` (every file their RECORD lists, then their emptied folders);
    returns the ones found."""
    removed = []
    wanted = {name.lower().replace("-", "_") for name in names}
    for info in sorted(target.glob("*.dist-info")):
        name = info.name.split("-", 1)[0].lower()  # <name>-<version>.dist-info; the name has no "-"
        if name not in wanted:
            continue
        record = info / "RECORD"
        listed = [line.split(",", 1)[0] for line in record.read_text().splitlines() if line.strip()]
        folders = set()
        for relative in listed:
            path = (target / relative).resolve()
            if target.resolve() not in path.parents:
                continue  # RECORD may name scripts outside the target (../../bin): never touch those
            folders.add(path.parent)
            path.unlink(missing_ok=True)
        for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
            if folder.is_dir() and folder != target.resolve() and not any(folder.iterdir()):
                folder.rmdir()
        shutil.rmtree(info, ignore_errors=True)
        removed.append(name)
    return removed


def prune_files(target: Path, patterns: Iterable[str]) -> list[str]:
    """Remove the files matching `patterns` (globs relative to `target`); returns them, relative."""
    removed = []
    for pattern in patterns:
        for path in sorted(target.glob(pattern)):
            if path.is_file():
                path.unlink()
                removed.append(path.relative_to(target).as_posix())
    return removed


def copy_package(source: Path, target: Path) -> None:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def compile_tree(target: Path) -> None:
    """Precompile with unchecked-hash pycs.

    CDK zips set every file time to 1980, so timestamp pycs look stale and, on read-only /opt, Python recompiles
    every module at every cold start (about 1 s measured). Unchecked-hash pycs are used as they are.
    """
    if sys.version_info[:2] != LAMBDA_PYTHON:
        raise RuntimeError(f"compile with Python {LAMBDA_PYTHON}: bytecode from {sys.version_info[:2]} is ignored")
    ok = compileall.compile_dir(
        target,
        quiet=1,
        force=True,
        workers=0,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    if not ok:
        raise RuntimeError(f"some files under {target} did not compile")


def build_layer(out: Path, platform: str = DEFAULT_PLATFORM) -> None:
    """Produce `<out>/python/...`, the layout Lambda adds to sys.path from /opt/python."""
    target = out / "python"
    # Start clean: files left from an older dependency set would ship silently.
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    install_dependencies(target, platform, runtime_dependencies())
    prune_service_models(target, SERVICES)
    prune_distributions(target, NOT_SHIPPED)
    prune_files(target, FILES_NOT_SHIPPED)
    copy_package(PACKAGE_DIR, target / PACKAGE_DIR.name)
    compile_tree(target)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m infra.layer_build", description="Build the Lambda layer folder.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="layer folder (default: build/layer)")
    parser.add_argument(
        "--platform",
        default=DEFAULT_PLATFORM,
        help=f"pip platform tag matching the functions (default: {DEFAULT_PLATFORM})",
    )
    args = parser.parse_args(argv)
    build_layer(args.out.resolve(), args.platform)
    print(f"layer built in {args.out}")


if __name__ == "__main__":
    main()
