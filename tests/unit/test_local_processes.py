"""The multi-process local runtime's parts: child processes (stopped in order, never orphaned, deaf to Ctrl-C),
queue consumers in parallel, the load generator's percentiles. Their HTTP parts (keep-alive, the Management API
relay, the load generator's client) open sockets: tests/e2e/test_runtime_http_parts.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from bench.loadgen import percentile
from infra.local.async_worker import load_resources, save_resources
from infra.local.processes import Children
from infra.local.provision import LocalResources
from infra.local.workers import Workers
from slotwise.topology import QueueSpec

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] if Path(f"/proc/{pid}").exists() else ""
    return state != "Z"


def _wait_gone(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_children_stop_newest_first_and_report_a_crash() -> None:
    children = Children()
    first = children.start("first", SLEEPER)
    crashed = children.start("crashed", [sys.executable, "-c", "raise SystemExit(3)"])
    crashed.process.wait(10)
    assert [c.name for c in children.exited()] == ["crashed"]
    children.stop()
    assert first.process.returncode == -signal.SIGTERM
    assert children.started == []


def test_a_child_ignores_ctrl_c_and_lives_in_its_own_process_group() -> None:
    children = Children()
    child = children.start("sleeper", SLEEPER)
    try:
        time.sleep(0.5)  # past exec: the ignored SIGINT survives it
        assert os.getpgid(child.pid) == child.pid != os.getpgid(0)
        os.kill(child.pid, signal.SIGINT)
        time.sleep(0.5)
        assert child.process.poll() is None, "Ctrl-C is the parent's to handle"
    finally:
        children.stop()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_child_dies_with_its_parent_even_when_the_parent_is_killed(tmp_path: Path) -> None:
    """No orphan: a runtime killed with SIGKILL (no clean-up at all) takes its children with it."""
    script = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        from infra.local.processes import Children
        child = Children().start("sleeper", {SLEEPER!r})
        print(child.pid, flush=True)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    grandchild = int(parent.stdout.readline())
    assert _alive(grandchild)
    parent.kill()
    parent.wait(10)
    assert _wait_gone(grandchild), "the child outlived its killed parent"


def test_queue_consumers_run_as_many_pollers_as_asked() -> None:
    workers = Workers(lambda group, event: None, log=lambda _: None)
    spec = QueueSpec(name="busy", consumer_group="nobody")

    class FakeSqs:
        def receive_message(self, **_: Any) -> dict[str, Any]:
            time.sleep(0.05)
            return {}

    workers.add_queue(FakeSqs(), spec, "https://queue/busy", concurrency=3)  # type: ignore[arg-type]
    try:
        names = sorted(t.name for t in threading.enumerate() if t.name.startswith("queue:busy"))
        assert names == ["queue:busy:0", "queue:busy:1", "queue:busy:2"]
    finally:
        workers.stop()
    assert not any(t.name.startswith("queue:busy") for t in threading.enumerate())


def test_resources_travel_to_the_async_workers(tmp_path: Path) -> None:
    resources = LocalResources("slotwise", "bus", {"notifications": "http://q/notifications"})
    save_resources(resources, tmp_path / "resources.json")
    assert load_resources(tmp_path / "resources.json") == resources


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.95), percentile(values, 0.99)) == (50.0, 95.0, 99.0)
    assert percentile([], 0.5) == 0.0
    assert percentile([7.0], 0.99) == 7.0
