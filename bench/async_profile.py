"""Where a booking's CPU goes, part by part (`python -m bench.async_profile`): not a section of `make bench`, a tool
for docs/load-profile.md.

Starts `python -m infra.local serve` on free ports, makes 30 customers with rooms, waits for the queues to empty,
then sends BOOKINGS create-booking requests (10 at a time) and reports each runtime process's CPU per booking while
they are sent and until every queue is empty again, with the queues' depths (visible/in flight) every 5 s.
`--spy "async queues"` samples that part's processes with py-spy (raw stacks under build/profile/, summed by
`--summary`).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import bench_load
from bench.loadgen import Connection
from bench.proc import ProcessTree, _part

OUT = Path(__file__).resolve().parents[1] / "build" / "profile"
IDLE_FRAMES = ("select", "poll (", "_wait_for_tstate_lock", "wait (threading", "recv_into")


def _depths(sqs: object, urls: dict[str, str]) -> str:
    row = []
    for name, url in urls.items():
        found = sqs.get_queue_attributes(  # type: ignore[attr-defined]
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        row.append(f"{name}={found['ApproximateNumberOfMessages']}/{found['ApproximateNumberOfMessagesNotVisible']}")
    return " ".join(row)


def summary(paths: list[Path], top: int = 40) -> list[str]:
    """Share of busy samples per function (inclusive), from py-spy's raw output."""
    inclusive: collections.Counter[str] = collections.Counter()
    busy = 0
    for path in paths:
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            frames = stack.split(";")
            if not stack or any(word in frame for frame in frames[-2:] for word in IDLE_FRAMES):
                continue
            busy += int(count)
            names = {re.sub(r":\d+\)$", ")", frame).replace(str(OUT.parents[1]) + "/", "") for frame in frames}
            for name in names:
                inclusive[re.sub(r"\(.*site-packages/", "(", name)] += int(count)
    return [f"{100 * n / max(busy, 1):5.1f}% {name}" for name, n in inclusive.most_common(top)]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.async_profile", description=__doc__)
    parser.add_argument("--bookings", type=int, default=150)
    parser.add_argument("--spy", help='a runtime part to sample with py-spy, e.g. "async queues" or "api workers"')
    parser.add_argument("--seconds", type=int, default=25, help="how long py-spy samples")
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="slotwise-profile-"))
    runtime = bench_load._start_runtime(state)
    try:
        bench_load._use_runtime(runtime)
        from slotwise import aws
        from slotwise.topology import TOPOLOGY

        tree = ProcessTree(runtime.process.pid)
        users = bench_load._make_users(30, datetime(2027, 6, 1, tzinfo=UTC), "profile")
        bench_load._wait_drained(180)
        sqs = aws.sqs()
        urls = {q.name: sqs.get_queue_url(QueueName=q.name)["QueueUrl"] for q in TOPOLOGY.queues}
        host, port = "127.0.0.1", int(runtime.base.rsplit(":", 1)[1])
        spies = []
        if args.spy:
            OUT.mkdir(parents=True, exist_ok=True)
            py_spy = str(Path(sys.executable).parent / "py-spy")
            for pid in (pid for pid in tree.pids() if _part(pid) == args.spy):
                command = [py_spy, "record", "-p", str(pid), "-d", str(args.seconds), "-r", "50", "-f", "raw"]
                spies.append(subprocess.Popen([*command, "-o", str(OUT / f"{pid}.raw"), "--nonblocking"]))
        before = tree.cpu_seconds()

        async def book() -> None:
            connections = [Connection(host, port) for _ in range(10)]

            async def one(index: int) -> None:
                ok, detail = await bench_load.create(connections[index % 10], users[index % len(users)])
                if not ok:
                    print("refused:", detail)

            for start in range(0, args.bookings, 10):
                await asyncio.gather(*(one(i) for i in range(start, min(args.bookings, start + 10))))

        started = time.monotonic()
        asyncio.run(book())
        sent = time.monotonic()
        during = tree.cpu_seconds()
        while True:
            print(f"{time.monotonic() - sent:5.0f} s  {_depths(sqs, urls)}", flush=True)
            if bench_load._wait_drained(5) is not None:
                break
        after = tree.cpu_seconds()
        print(
            f"{args.bookings} bookings sent in {sent - started:.1f} s; "
            f"queues empty {time.monotonic() - sent:.0f} s later"
        )
        for name in after:
            sending = 1000 * (during.get(name, 0) - before.get(name, 0)) / args.bookings
            draining = 1000 * (after[name] - during.get(name, 0)) / args.bookings
            print(f"  {name:18s} {sending:6.1f} ms/booking while sent, {draining:6.1f} ms/booking after")
        for spy in spies:
            spy.wait()
        if spies:
            print("\n".join(summary(sorted(OUT.glob("*.raw")))))
    finally:
        bench_load._stop_runtime(runtime)
    return 0


if __name__ == "__main__":
    sys.exit(main())
