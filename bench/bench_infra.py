"""What `make synth` ships and how fast it starts: layer size (unzipped and zipped, goal ≤ 35 MB zipped), each
function's code asset, the synth time, and the cold-start import time of each function module from the built
layer next to `import boto3; boto3.client('dynamodb')` from the same layer (goal ≤ 1.3x).

Runs `make synth` itself (layer build for arm64 + `cdk synth`; pip needs PyPI). The shipped layer is aarch64, whose
binary wheels (pydantic_core) cannot load on an x86_64 host, so the timings use a second copy built the same way
for the host (`build/layer-x86`); only the wheels' platform differs.

Each timing is a fresh `python -I -S -B` (isolated, no site-packages, no bytecode writes) whose sys.path is the
function's code asset from cdk.out plus the layer's python/ folder, as on Lambda (/var/task, /opt/python).
"""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

from bench import revision

ROOT = Path(__file__).resolve().parents[1]
CDK_OUT = ROOT / "cdk.out"
STACK = "Slotwise-dev"
HOST_LAYER = ROOT / "build" / "layer-host"
HOST_PLATFORM = {"x86_64": "manylinux2014_x86_64", "aarch64": "manylinux2014_aarch64"}.get(platform.machine())
RUNS = 11
MB = 1024 * 1024
LAYER_GOAL_MB = 35
RATIO_GOAL = 1.3

FLOOR = "import boto3; boto3.client('dynamodb', region_name='us-east-1')"
# The handler module as Lambda imports it (`handler.lambda_handler` from /var/task), plus the client it builds on
# the first request.
FUNCTION = "import handler; from slotwise import aws; aws.dynamodb()"
# What the stack sets that changes an import: the functions' interpreter settings (PYDANTIC_DISABLE_PLUGINS).
ENVIRONMENT = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "PATH": "/usr/bin:/bin",
    "PYDANTIC_DISABLE_PLUGINS": "__all__",
}


def _seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def _zipped(folder: Path) -> int:
    """Deflate-zipped size, as `cdk deploy` uploads the asset (and Lambda counts it)."""
    with tempfile.TemporaryFile() as handle:
        with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(folder))
        return handle.tell()


def _assets(template: dict[str, Any]) -> tuple[Path, dict[str, Path]]:
    """The layer's and each function group's staged asset folder in cdk.out."""

    def folder(code: dict[str, Any]) -> Path:
        return CDK_OUT / f"asset.{code['S3Key'].removesuffix('.zip')}"

    layer: Path | None = None
    functions: dict[str, Path] = {}
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Lambda::LayerVersion":
            layer = folder(resource["Properties"]["Content"])
        elif resource["Type"] == "AWS::Lambda::Function":
            group = resource["Properties"]["Description"].split("'")[1]
            functions[group] = folder(resource["Properties"]["Code"])
    assert layer is not None, "the template has no layer"
    return layer, dict(sorted(functions.items()))


def _cold_starts(layer: Path, functions: dict[str, Path]) -> dict[str, tuple[float, float]]:
    """Median (wall ms, CPU ms) per case, cases interleaved round by round so load drifts hit all of them alike."""
    cases = {"floor": ([layer / "python"], FLOOR)}
    cases |= {group: ([folder, layer / "python"], FUNCTION) for group, folder in functions.items()}
    wall: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(RUNS):
        for name, (paths, statement) in cases.items():
            code = (
                f"import sys; sys.path[:0] = {[str(p) for p in paths]!r}; import time; "
                f"t, c = time.perf_counter(), time.process_time(); {statement}; "
                "print((time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000)"
            )
            out = subprocess.run(
                [sys.executable, "-I", "-S", "-B", "-c", code],
                cwd=tempfile.gettempdir(),
                env=ENVIRONMENT,
                capture_output=True,
                text=True,
                check=True,
            )
            elapsed, used = map(float, out.stdout.split()[-2:])
            wall[name].append(elapsed)
            cpu[name].append(used)
    return {name: (statistics.median(wall[name]), statistics.median(cpu[name])) for name in cases}


def _packages(python: Path, top: int) -> list[tuple[str, int]]:
    sizes: Counter[str] = Counter()
    for path in python.iterdir():
        name = path.name.split("-")[0] if path.name.endswith(".dist-info") else path.name.removesuffix(".py")
        sizes[name] += _size(path) if path.is_dir() else path.stat().st_size
    return sizes.most_common(top)


def run() -> str:
    if HOST_PLATFORM is None:
        raise RuntimeError(f"no manylinux wheels for this host ({platform.machine()}); run on Linux x86_64/aarch64")
    synth_seconds = _seconds(["make", "-s", "synth"])
    template = json.loads((CDK_OUT / f"{STACK}.template.json").read_text(encoding="utf-8"))
    layer, functions = _assets(template)
    host_layer_seconds = _seconds(
        [sys.executable, "-m", "infra.layer_build", "--out", str(HOST_LAYER), "--platform", HOST_PLATFORM]
    )
    timings = _cold_starts(HOST_LAYER, functions)

    layer_zipped = _zipped(layer)
    kinds = Counter(resource["Type"] for resource in template["Resources"].values())
    lines = [
        "## Infrastructure: what `make synth` ships",
        "",
        f"`python -m bench infra` runs `make synth` (layer for arm64 without Docker, then `cdk synth` with cdk-nag's "
        f"AwsSolutions checks) on commit {revision.commit()}.",
        "",
        "| step | seconds |",
        "|---|---:|",
        f"| `make synth` (layer build + `cdk synth --quiet`) | {synth_seconds:.1f} |",
        f"| layer build for this host ({HOST_PLATFORM}, timings below) | {host_layer_seconds:.1f} |",
        "",
        f"Template `{STACK}`: {sum(kinds.values())} resources, of which {kinds['AWS::Lambda::Function']} functions, "
        f"{kinds['AWS::ApiGatewayV2::Route']} routes, {kinds['AWS::CloudWatch::Alarm']} alarms, "
        f"{kinds['AWS::SQS::Queue']} queues, {kinds['AWS::CloudWatch::Dashboard']} dashboard.",
        "",
        "### Sizes",
        "",
        f"Goal: layer ≤ {LAYER_GOAL_MB} MB zipped (Lambda's limit is 250 MB unzipped for function + layers).",
        "",
        "| asset | unzipped | zipped |",
        "|---|---:|---:|",
        f"| layer (`build/layer`, manylinux2014_aarch64) | {_size(layer) / MB:.1f} MB | {layer_zipped / MB:.1f} MB "
        f"({'within' if layer_zipped / MB <= LAYER_GOAL_MB else 'over'} goal) |",
    ]
    lines += [
        f"| `functions/{group}` code | {_size(folder) / 1024:.1f} KB | {_zipped(folder) / 1024:.1f} KB |"
        for group, folder in functions.items()
    ]
    largest = ", ".join(f"{name} {size / MB:.1f} MB" for name, size in _packages(layer / "python", 6))
    lines += [
        "",
        f"Largest in the layer (unzipped): {largest}.",
        "",
        "### Cold-start imports from the built layer",
        "",
        f"Median of {RUNS} fresh interpreters per row, rows interleaved. Each row imports the function's `handler` "
        "and builds the DynamoDB client it needs on the first request. Imports are CPU-bound, so the ratio uses CPU "
        "time: wall time on this shared machine also counts waiting for its cores, which moves with other work. "
        f"Goal: ratio ≤ {RATIO_GOAL}.",
        "",
        "| module | wall ms | CPU ms | ratio to floor (CPU) |",
        "|---|---:|---:|---:|",
    ]
    floor_wall, floor_cpu = timings["floor"]
    lines.append(f"| `import boto3; boto3.client('dynamodb')` (floor) | {floor_wall:.0f} | {floor_cpu:.0f} | 1.00 |")
    for group in functions:
        group_wall, group_cpu = timings[group]
        ratio = group_cpu / floor_cpu
        lines.append(f"| `functions/{group}` handler + client | {group_wall:.0f} | {group_cpu:.0f} | {ratio:.2f} |")
    lines += [
        "",
        "Request models build their validators on first use (`defer_build`), so a first request pays for the few "
        "models it touches; these rows do not include that. What remains above the floor is third-party: "
        "Powertools' event handler package (every resolver, asyncio) and pydantic, which request validation needs.",
    ]
    return "\n".join(lines) + "\n"
