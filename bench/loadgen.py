"""A small asyncio load generator: virtual users on keep-alive HTTP/1.1 connections, a weighted scenario mix, think
time, and per-scenario latencies.

The HTTP client is deliberately minimal (one request at a time per connection, Content-Length or chunked bodies):
the generator shares the machine's cores with the stack it measures, so every millisecond it spends is one the
stack does not get; a full client library costs several times more per request.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


class HttpError(Exception):
    """The connection broke or the answer was not HTTP."""


@dataclass
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Connection:
    """One keep-alive HTTP/1.1 connection; reopened after an error or a `Connection: close`."""

    def __init__(self, host: str, port: int, timeout: float = 30.0) -> None:
        self._host, self._port, self._timeout = host, port, timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    async def request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, body: Any = None
    ) -> Answer:
        try:
            return await asyncio.wait_for(self._exchange(method, path, headers or {}, body), self._timeout)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            self.close()
            raise HttpError(f"{method} {path}: {exc!r}") from exc

    async def _exchange(self, method: str, path: str, headers: dict[str, str], body: Any) -> Answer:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        assert self._reader is not None
        payload = b"" if body is None else json.dumps(body).encode()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self._host}:{self._port}", f"Content-Length: {len(payload)}"]
        if body is not None:
            lines.append("Content-Type: application/json")
        lines.extend(f"{name}: {value}" for name, value in headers.items())
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)
        status_line = await self._reader.readline()
        if not status_line:
            raise asyncio.IncompleteReadError(b"", None)
        status = int(status_line.split()[1])
        length, chunked, close = 0, False, False
        while True:
            line = await self._reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            key = name.strip().lower()
            if key == "content-length":
                length = int(value)
            elif key == "transfer-encoding":
                chunked = "chunked" in value.lower()
            elif key == "connection":
                close = "close" in value.lower()
        data = await self._chunked() if chunked else await self._reader.readexactly(length)
        if close:
            self.close()
        return Answer(status, data)

    async def _chunked(self) -> bytes:
        assert self._reader is not None
        parts = []
        while True:
            size = int((await self._reader.readline()).split(b";")[0], 16)
            if size == 0:
                await self._reader.readline()
                return b"".join(parts)
            parts.append(await self._reader.readexactly(size))
            await self._reader.readline()


@dataclass
class Stats:
    """Latencies (ms) and failures per scenario."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    samples: dict[str, list[str]] = field(default_factory=dict)

    def record(self, scenario: str, elapsed_ms: float, ok: bool, detail: str = "") -> None:
        self.latencies.setdefault(scenario, []).append(elapsed_ms)
        if not ok:
            self.errors[scenario] = self.errors.get(scenario, 0) + 1
            kept = self.samples.setdefault(scenario, [])
            if len(kept) < 3:
                kept.append(detail[:300])

    @property
    def requests(self) -> int:
        return sum(len(found) for found in self.latencies.values())

    @property
    def failed(self) -> int:
        return sum(self.errors.values())


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))
    return ordered[rank]


# A scenario runs one request for one virtual user: True when the answer is what the scenario expects.
Scenario = Callable[[Connection, Any], Awaitable[tuple[bool, str]]]


async def virtual_user(
    user: Any,
    connection: Connection,
    mix: Sequence[tuple[str, int, Scenario]],
    stats: Stats,
    *,
    until: float,
    think_seconds: float,
    seed: int,
) -> None:
    rng = random.Random(seed)
    names = [name for name, _, _ in mix]
    weights = [weight for _, weight, _ in mix]
    scenarios = {name: scenario for name, _, scenario in mix}
    # Users start spread over one think time, not all in the same millisecond.
    await asyncio.sleep(rng.uniform(0, think_seconds))
    while time.monotonic() < until:
        name = rng.choices(names, weights)[0]
        started = time.perf_counter()
        try:
            ok, detail = await scenarios[name](connection, user)
        except HttpError as exc:
            ok, detail = False, str(exc)
        stats.record(name, (time.perf_counter() - started) * 1000, ok, detail)
        if think_seconds and time.monotonic() < until:
            await asyncio.sleep(think_seconds * rng.uniform(0.5, 1.5))
