"""CPU time of a process tree from /proc (Linux): the local runtime and every process it started, by part."""

from __future__ import annotations

import os
import time
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, user + system CPU seconds) of a live process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS


def _part(pid: int) -> str:
    """What a process of the runtime is, from its command line."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "gone"
    words = [word.decode(errors="replace") for word in argv if word]
    joined = " ".join(words)
    if "DynamoDBLocal.jar" in joined:
        return "dynamodb-local"
    if "moto.server" in joined or "moto_server" in joined:
        return "moto"
    if "infra.local.api_worker" in joined:
        return "api workers"
    if "infra.local.async_worker" in joined:
        return "async " + words[words.index("--role") + 1] if "--role" in words else "async"
    return "runtime (parent)"


class ProcessTree:
    def __init__(self, root: int) -> None:
        self.root = root
        self.idle_cpu_per_second = 0.0

    def pids(self) -> list[int]:
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                found = _stat(int(entry.name))
                if found is not None:
                    parents[int(entry.name)] = found[0]
        tree, frontier = [self.root], [self.root]
        while frontier:
            parent = frontier.pop()
            children = [pid for pid, ppid in parents.items() if ppid == parent]
            tree.extend(children)
            frontier.extend(children)
        return tree

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds used so far, summed per part of the runtime."""
        totals: dict[str, float] = {}
        for pid in self.pids():
            found = _stat(pid)
            if found is not None:
                part = _part(pid)
                totals[part] = totals.get(part, 0.0) + found[1]
        return totals

    def measure_idle(self, seconds: float) -> None:
        """The idle stack's own CPU use (pollers, the JVM), subtracted from per-route figures."""
        before = sum(self.cpu_seconds().values())
        time.sleep(seconds)
        self.idle_cpu_per_second = (sum(self.cpu_seconds().values()) - before) / seconds

    def describe(self) -> str:
        counts: dict[str, int] = {}
        for pid in self.pids():
            part = _part(pid)
            counts[part] = counts.get(part, 0) + 1
        return ", ".join(f"{part} x{count}" if count > 1 else part for part, count in sorted(counts.items()))
