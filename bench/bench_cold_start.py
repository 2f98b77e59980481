"""Cold-start import time of each function module in a fresh interpreter, against boto3's own floor.

The goal (issue 18): a function imports in at most 1.3x `import boto3; boto3.client('dynamodb')`.
This measures the source tree as installed in the venv, with the interpreter settings the stack gives every function
(`infra.components.functions.RUNTIME_ENVIRONMENT`); the shipped layer (unchecked-hash .pyc) is measured by the
infrastructure benchmark once `make synth` builds it. With SnapStart (ADR 0009) a deployed function pays this once
per published version, at snapshot time; an environment restored from the snapshot does not import at all.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

from slotwise.api import routes
from slotwise.topology import TOPOLOGY

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7

BASELINE = "import boto3; boto3.client('dynamodb', region_name='us-east-1')"


def _groups() -> list[str]:
    groups = set(routes.groups())
    groups |= {s.group for s in TOPOLOGY.schedules} | {q.consumer_group for q in TOPOLOGY.queues}
    groups |= {c.consumer_group for c in TOPOLOGY.stream_consumers}
    if TOPOLOGY.websocket is not None:
        groups.add(TOPOLOGY.websocket.group)
    return sorted(g for g in groups if (ROOT / "functions" / g / "handler.py").is_file())


def _sample(code: str, env: dict[str, str]) -> tuple[float, float]:
    """(wall ms, CPU ms) of `code` in a fresh interpreter; CPU time does not count waiting for a shared core."""
    timer = (
        "import time; w = time.perf_counter(); c = time.process_time(); "
        f"{code}; print((time.perf_counter() - w) * 1000, (time.process_time() - c) * 1000)"
    )
    out = subprocess.run([sys.executable, "-c", timer], cwd=ROOT, capture_output=True, text=True, check=True, env=env)
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def run() -> str:
    from infra.components.functions import RUNTIME_ENVIRONMENT

    env = {**os.environ, **RUNTIME_ENVIRONMENT, "AWS_REGION": "us-east-1", "POWERTOOLS_METRICS_DISABLED": "true"}
    codes = {"boto3 + DynamoDB client (floor)": BASELINE}
    for group in _groups():
        # The handler module plus the client it will build on the first request.
        codes[f"`functions/{group}/handler.py` + client"] = (
            f"import functions.{group}.handler; from slotwise import aws; aws.dynamodb()"
        )
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in codes}
    for _ in range(RUNS):  # rows interleaved, so a busy moment of the machine spreads over all of them
        for name, code in codes.items():
            samples[name].append(_sample(code, env))
    floor_wall = statistics.median(s[0] for s in samples["boto3 + DynamoDB client (floor)"])
    floor_cpu = statistics.median(s[1] for s in samples["boto3 + DynamoDB client (floor)"])
    rows = []
    for name, taken in samples.items():
        wall = statistics.median(s[0] for s in taken)
        cpu = statistics.median(s[1] for s in taken)
        rows.append(f"| {name} | {wall:.0f} | {wall / floor_wall:.2f} | {cpu:.0f} | {cpu / floor_cpu:.2f} |")
    return (
        "## Cold-start imports\n\n"
        f"Median of {RUNS} fresh interpreters per row, rows interleaved (`python -m bench cold_start`), with the "
        "functions' interpreter settings (`PYDANTIC_DISABLE_PLUGINS`). Goal: ratio ≤ 1.3. CPU time is the steadier "
        "figure on a shared machine (wall time also counts waiting for a core). Deployed, SnapStart runs this once "
        "per published version; restored environments skip it (ADR 0009).\n\n"
        "| module | wall ms | ratio (wall) | CPU ms | ratio (CPU) |\n|---|---:|---:|---:|---:|\n"
        + "\n".join(rows)
        + "\n"
    )
