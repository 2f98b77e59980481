"""Cold-start import time of each function module in a fresh interpreter, against boto3's own floor.

The goal (design card): a function imports in at most 1.3x `import boto3; boto3.client('dynamodb')`.
This measures the source tree as installed in the venv; the shipped layer (unchecked-hash .pyc) is measured by
the infrastructure benchmark once `make synth` builds it.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

from slotwise.api import routes
from slotwise.topology import TOPOLOGY

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7

BASELINE = "import boto3; boto3.client('dynamodb', region_name='us-east-1')"


def _median_ms(code: str) -> float:
    timer = f"import time; t = time.perf_counter(); {code}; print((time.perf_counter() - t) * 1000)"
    samples = []
    for _ in range(RUNS):
        out = subprocess.run([sys.executable, "-c", timer], cwd=ROOT, capture_output=True, text=True, check=True)
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def run() -> str:
    baseline = _median_ms(BASELINE)
    rows = [f"| boto3 + DynamoDB client (floor) | {baseline:.0f} | 1.00 |"]
    jobs = {s.group for s in TOPOLOGY.schedules} | {q.consumer_group for q in TOPOLOGY.queues}
    for group in sorted(set(routes.groups()) | jobs):
        # The handler module plus the client it will build on the first request.
        ms = _median_ms(f"import functions.{group}.handler; from slotwise import aws; aws.dynamodb()")
        rows.append(f"| `functions/{group}/handler.py` + client | {ms:.0f} | {ms / baseline:.2f} |")
    return (
        "## Cold-start imports\n\n"
        f"Median of {RUNS} fresh interpreters (`python -m bench cold_start`). Goal: ratio ≤ 1.3.\n\n"
        "| module | ms | ratio to floor |\n|---|---:|---:|\n" + "\n".join(rows) + "\n"
    )
