"""The local runtime (`python -m infra.local serve`, what `make dev` runs) started on free ports for e2e tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from infra.local.ports import free_ports

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Runtime:
    process: subprocess.Popen[str]
    base: str
    dynamodb_port: int
    moto_port: int
    state_dir: Path
    ws_port: int = 0

    @property
    def ws(self) -> str:
        """The WebSocket endpoint (docs/live.md)."""
        return f"ws://127.0.0.1:{self.ws_port}/ws"


def runtime_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env.update(POWERTOOLS_METRICS_DISABLED="true", PYTHONUNBUFFERED="1")
    return env


def start(tmp_path: Path, *extra: str) -> Runtime:
    api, ddb, moto, ws = free_ports(4)
    command = [
        sys.executable,
        "-m",
        "infra.local",
        "--state-dir",
        str(tmp_path / "state"),
        "serve",
        "--api-port",
        str(api),
        "--ws-port",
        str(ws),
        "--dynamodb-port",
        str(ddb),
        "--moto-port",
        str(moto),
        *extra,
    ]
    log = (tmp_path / "runtime.log").open("w")
    process = subprocess.Popen(command, cwd=ROOT, env=runtime_env(), stdout=log, stderr=subprocess.STDOUT, text=True)
    return Runtime(process, f"http://127.0.0.1:{api}", ddb, moto, tmp_path / "state", ws)


def wait_healthy(runtime: Runtime, timeout: float = 90) -> requests.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert runtime.process.poll() is None, "the runtime exited before it served"
        try:
            return requests.get(f"{runtime.base}/api/v1/health", timeout=5)
        except (requests.ConnectionError, requests.Timeout):  # not listening yet, or still starting its workers
            time.sleep(0.5)
    raise AssertionError("the runtime did not serve /api/v1/health in time")


@contextmanager
def running(tmp_path: Path, *extra: str) -> Iterator[Runtime]:
    """A runtime that serves /health for the duration of the block, then stopped with Ctrl-C as a developer would."""
    started = start(tmp_path, *extra)
    try:
        wait_healthy(started)
        yield started
    finally:
        if started.process.poll() is None:
            started.process.send_signal(signal.SIGINT)
            started.process.wait(timeout=30)
