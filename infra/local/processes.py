"""The local runtime's child processes: moto, the API workers and the async workers, started and stopped together.

Lambda runs each function in its own execution environments, so one busy function never starves another of a
CPU; one Python process running everything shares one GIL and uses one core. Here every part that burns CPU gets
its own interpreter, and the parent (`python -m infra.local serve`) only starts, watches and stops them.

A child must never outlive the runtime: it is killed by the kernel when the parent dies, whatever the cause
(`PR_SET_PDEATHSIG`), and it runs in its own process group and ignores SIGINT, so Ctrl-C in a terminal reaches
only the parent, which then stops the children in order with SIGTERM (then SIGKILL after a grace period).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

_PR_SET_PDEATHSIG = 1


def _child_setup() -> None:
    """Runs in the child between fork and exec: both settings survive exec."""
    # Ignored signals stay ignored across exec, and Python leaves an ignored SIGINT alone at start-up.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid


@dataclass
class Children:
    """Processes started for this runtime, stopped in reverse order of start."""

    cwd: Path | None = None
    started: list[Child] = field(default_factory=list)

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        pass_fds: Sequence[int] = (),
        output: IO[bytes] | None = None,
    ) -> Child:
        process = subprocess.Popen(
            list(argv),
            cwd=self.cwd,
            env=env,
            pass_fds=tuple(pass_fds),
            stdout=output,
            stderr=subprocess.STDOUT if output is not None else None,
            preexec_fn=_child_setup,  # noqa: PLW1509 - only signal dispositions and prctl, no locks taken
            # Their own process group: Ctrl-C in a terminal (or a signal a supervisor like `timeout` sends to its
            # group) reaches the parent alone, which stops them in order.
            process_group=0,
        )
        child = Child(name, process)
        self.started.append(child)
        return child

    def python(self, name: str, module: str, *args: str, **kwargs: object) -> Child:
        return self.start(name, [sys.executable, "-m", module, *args], **kwargs)  # type: ignore[arg-type]

    def exited(self) -> list[Child]:
        """Children that stopped on their own (a crash): the runtime cannot serve without them."""
        return [child for child in self.started if child.process.poll() is not None]

    def stop(self, grace_seconds: float = 10.0) -> None:
        """Stop every child: those started after the first (the API and the consumers) together, then the first
        (moto, whose queues they read), so nothing reports a vanished endpoint on the way out."""
        first, rest = self.started[:1], self.started[1:]
        for batch in (rest, first):
            for child in batch:
                if child.process.poll() is None:
                    with contextlib.suppress(ProcessLookupError):
                        child.process.terminate()
            deadline = time.monotonic() + grace_seconds
            for child in batch:
                try:
                    child.process.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        child.process.kill()
                    child.process.wait()
        self.started.clear()


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The parent's environment (endpoints, settings, queue URLs) plus `extra`; children print unbuffered."""
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env
