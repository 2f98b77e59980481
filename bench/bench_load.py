"""The local stack under load (`python -m bench load`): the resource seed's published mix against
`python -m infra.local serve` (what `make dev` runs), started here on free ports.

- **Load:** 100 virtual users, each a distinct signed-in customer (own access token), ~1 s think time (0.5-1.5 s),
  60 s; the mix health 5 %, availability 35 %, create 25 %, recurring weekly x4 10 %, get booking 15 %, conflicts
  8 %, bulk availability (10 slots) 2 %.
- **Saturation:** the same mix with 300 users (each stays under the 100 requests/minute a customer may make), 30 s:
  what the stack serves when more is offered than it can take.
- After each run: how long until every queue is empty; during it, the deepest queue and, for probe customers who
  book in turn every 3 s, how long until the booking's in-app notification is visible.
- **AWS calls:** per API request and per queue message, by function, from the workers' own counters.
- **CPU per request:** the whole stack's CPU (every process of the runtime, DynamoDB Local's JVM included) over the
  requests served; and per route, one client sending the route's requests one after another.

Every user books on rooms of their own, so no request is refused for a taken slot: every answer other than the
scenario's success status is an error. Users and resources are written straight into the table, tokens signed
with the secret the runtime was started with (registering 100 users over HTTP would hash 100 passwords).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.loadgen import Answer, Connection, HttpError, Scenario, Stats, percentile, virtual_user
from bench.proc import ProcessTree
from infra.local import call_counts


def _knob(name: str, default: float) -> float:
    """A figure a short smoke run may shrink (BENCH_LOAD_USERS=20 BENCH_LOAD_SECONDS=10 ...); the report says
    what was run."""
    return float(os.environ.get(f"BENCH_{name}", default))


LOAD_USERS, LOAD_SECONDS = int(_knob("LOAD_USERS", 100)), _knob("LOAD_SECONDS", 60)
SATURATION_USERS, SATURATION_SECONDS = int(_knob("SATURATION_USERS", 300)), _knob("SATURATION_SECONDS", 30)
THINK_SECONDS = 1.0
PROBE_EVERY_SECONDS = 3.0
PROBE_USERS = 30
ROUTE_REQUESTS = int(_knob("ROUTE_REQUESTS", 80))  # + 10 warm-up: under a customer's 100 a minute
API = "/api/v1"
WEEKLY_X4 = "FREQ=WEEKLY;COUNT=4"


@dataclass
class User:
    id: str
    token: str
    room: str  # single bookings
    series_room: str  # recurring bookings
    base: datetime
    made: int = 0
    series_made: int = 0
    bookings: list[str] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _next_slot(user: User) -> datetime:
    user.made += 1
    return user.base + timedelta(hours=user.made)


def _any_hour(user: User) -> datetime:
    return user.base + timedelta(hours=secrets.randbelow(24 * 60))


def _ok(answer: Answer, status: int) -> tuple[bool, str]:
    return answer.status == status, f"{answer.status} {answer.body[:200]!r}"


async def health(connection: Connection, user: User) -> tuple[bool, str]:
    return _ok(await connection.request("GET", f"{API}/health"), 200)


async def availability(connection: Connection, user: User) -> tuple[bool, str]:
    start = _any_hour(user)
    query = urlencode({"resourceId": user.room, "startTime": _iso(start), "endTime": _iso(start + timedelta(hours=1))})
    return _ok(await connection.request("GET", f"{API}/availability?{query}", headers=user.headers), 200)


async def create(connection: Connection, user: User) -> tuple[bool, str]:
    start = _next_slot(user)
    body = {"resourceId": user.room, "startTime": _iso(start), "endTime": _iso(start + timedelta(hours=1))}
    headers = {**user.headers, "Idempotency-Key": uuid.uuid4().hex}
    answer = await connection.request("POST", f"{API}/bookings", headers=headers, body=body)
    if answer.status == 201:
        user.bookings.append(answer.json()["id"])
    return _ok(answer, 201)


async def recurring(connection: Connection, user: User) -> tuple[bool, str]:
    # Hours of the first week only: four weekly occurrences never meet another series of this user.
    user.series_made += 1
    start = user.base + timedelta(hours=user.series_made % 168)
    body = {
        "resourceId": user.series_room,
        "startTime": _iso(start),
        "endTime": _iso(start + timedelta(minutes=30)),
        "recurrenceRule": WEEKLY_X4,
    }
    headers = {**user.headers, "Idempotency-Key": uuid.uuid4().hex}
    return _ok(await connection.request("POST", f"{API}/bookings/recurring", headers=headers, body=body), 201)


async def get_booking(connection: Connection, user: User) -> tuple[bool, str]:
    booking = user.bookings[secrets.randbelow(len(user.bookings))]
    return _ok(await connection.request("GET", f"{API}/bookings/{booking}", headers=user.headers), 200)


async def conflicts(connection: Connection, user: User) -> tuple[bool, str]:
    start = _any_hour(user)
    query = urlencode(
        {
            "resourceId": user.series_room,
            "startTime": _iso(start),
            "endTime": _iso(start + timedelta(minutes=30)),
            "recurrenceRule": WEEKLY_X4,
        }
    )
    return _ok(await connection.request("GET", f"{API}/conflicts?{query}", headers=user.headers), 200)


async def bulk_availability(connection: Connection, user: User) -> tuple[bool, str]:
    start = _any_hour(user)
    slots = [
        {"startTime": _iso(start + timedelta(hours=i)), "endTime": _iso(start + timedelta(hours=i + 1))}
        for i in range(10)
    ]
    body = {"resourceId": user.room, "timeSlots": slots}
    return _ok(await connection.request("POST", f"{API}/availability/bulk", headers=user.headers, body=body), 200)


MIX: list[tuple[str, int, Scenario]] = [
    ("health", 5, health),
    ("availability", 35, availability),
    ("create booking", 25, create),
    ("recurring weekly x4", 10, recurring),
    ("get booking", 15, get_booking),
    ("conflicts", 8, conflicts),
    ("bulk availability (10 slots)", 2, bulk_availability),
]


# --- the stack ----------------------------------------------------------------------------------------------------


def _start_runtime(state: Path) -> Any:
    """`python -m infra.local serve` on free ports, quiet, with a known token secret; waits for /health."""
    from tests.e2e.runtime import start, wait_healthy

    os.environ["SLOTWISE_JWT_SECRET"] = secrets.token_urlsafe(48)
    # Every worker counts its AWS calls by function group (infra.local.call_counts): the calls-per-message table.
    os.environ["SLOTWISE_LOCAL_COUNTS_DIR"] = str(state / "counts")
    runtime = start(state, "--quiet")
    try:
        wait_healthy(runtime, timeout=180)
    except BaseException:
        _stop_runtime(runtime)  # never leave a runtime behind
        raise
    return runtime


def _stop_runtime(runtime: Any) -> None:
    """Ctrl-C, as a developer would stop it."""
    import signal

    if runtime.process.poll() is None:
        runtime.process.send_signal(signal.SIGINT)
        runtime.process.wait(timeout=60)


def _use_runtime(runtime: Any) -> None:
    """Point this process's slotwise at the runtime's engines (to write users and rooms, and read queues)."""
    from infra.local.environment import Endpoints

    Endpoints.load(runtime.state_dir / "runtime.json").apply()
    os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"


def _make_users(count: int, base: datetime, tag: str) -> list[User]:
    from slotwise.identity.models import User as Account
    from slotwise.identity.repository import put_user
    from slotwise.identity.tokens import issue_access_token
    from tests.support.catalog import make_resource

    policy = {"maxHorizonDays": 1000, "maxUnits": 8}
    users = []
    for index in range(count):
        account = Account(
            id=f"load-{tag}-{index}",
            email=f"load-{tag}-{index}@bench.slotwise.test",
            name=f"Load User {index}",
            role="customer",
            created_at=datetime.now(UTC),
        )
        put_user(account)
        token, _ = issue_access_token(account)
        room = make_resource(policy=policy).id
        series_room = make_resource(policy=policy).id
        users.append(User(account.id, token, room, series_room, base))
    return users


def _queue_depths() -> dict[str, int]:
    from slotwise import aws
    from slotwise.topology import TOPOLOGY

    sqs = aws.sqs()
    depths = {}
    for queue in TOPOLOGY.queues:
        url = sqs.get_queue_url(QueueName=queue.name)["QueueUrl"]
        attributes = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        depths[queue.name] = int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )
    return depths


def _dead_letters() -> int:
    from slotwise import aws
    from slotwise.topology import TOPOLOGY

    sqs = aws.sqs()
    total = 0
    names = [queue.dlq_name for queue in TOPOLOGY.queues] + [c.dlq_name for c in TOPOLOGY.stream_consumers]
    for name in names:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        total += int(attributes["Attributes"]["ApproximateNumberOfMessages"])
    return total


# --- one run ------------------------------------------------------------------------------------------------------


@dataclass
class RunResult:
    users: int
    seconds: float
    stats: Stats
    cpu_seconds: dict[str, float]
    deepest_queue: int
    drain_seconds: float | None
    notification_ms: list[float]
    notifications_missing: int
    dead_letters: int
    calls: dict[str, Any] = field(default_factory=dict)  # infra.local.call_counts.difference over the run and drain


async def _probe_one(host: str, port: int, user: User, latencies: list[float], missing: list[int]) -> None:
    """One probe booking: book, then poll the unread count until it moves: every 0.2 s for the first 3 s, then
    every second up to 30 s (a probe is load too: several late ones at once must not swamp the stack, and one
    customer may make 100 requests a minute)."""
    connection = Connection(host, port)

    async def unread() -> int | None:
        answer = await connection.request("GET", f"{API}/notifications/unread-count", headers=user.headers)
        return int(answer.json()["unread"]) if answer.status == 200 else None

    try:
        before = await unread()
        ok, _ = await create(connection, user)
        booked = time.monotonic()
        if not ok or before is None:
            return
        while (await unread() or 0) <= before:
            waited = time.monotonic() - booked
            if waited > 30:
                missing.append(1)
                return
            await asyncio.sleep(0.2 if waited < 3 else 1.0)
        latencies.append((time.monotonic() - booked) * 1000)
    except HttpError:
        missing.append(1)
    finally:
        connection.close()


async def _probe(
    host: str, port: int, probes: list[User], until: float, latencies: list[float], missing: list[int]
) -> None:
    """A probe booking every few seconds, each timed until its in-app notification is counted, without waiting
    for the one before (a late notification must not thin out the sample). Each is another probe customer's."""
    running = []
    turn = 0
    while time.monotonic() < until:
        user = probes[turn % len(probes)]
        turn += 1
        running.append(asyncio.create_task(_probe_one(host, port, user, latencies, missing)))
        await asyncio.sleep(PROBE_EVERY_SECONDS)
    await asyncio.gather(*running)


async def _drive(
    host: str, port: int, users: list[User], probes: list[User], seconds: float, at_load_stop: Callable[[], Any]
) -> tuple[Stats, float, list[float], int, Any]:
    """The virtual users for `seconds`, and the notification probe beside them; the run's length is until the
    last user's last answer. Then `at_load_stop` runs (in a thread: it measures the drain) while the probe waits
    for the notifications still due; its result is returned last."""
    stats = Stats()
    started = time.monotonic()
    until = started + seconds
    latencies: list[float] = []
    missing: list[int] = []
    probing = asyncio.create_task(_probe(host, port, probes, until, latencies, missing))
    await asyncio.gather(
        *(
            virtual_user(user, Connection(host, port), MIX, stats, until=until, think_seconds=THINK_SECONDS, seed=i)
            for i, user in enumerate(users)
        )
    )
    elapsed = time.monotonic() - started
    after_load, _ = await asyncio.gather(asyncio.to_thread(at_load_stop), probing)
    return stats, elapsed, latencies, len(missing), after_load


def _seed_bookings(host: str, port: int, users: list[User]) -> None:
    """One booking per user before the clock starts, so `get booking` always has one to read."""

    async def seed() -> None:
        connection = Connection(host, port)
        for user in users:
            ok, detail = await create(connection, user)
            if not ok:
                raise RuntimeError(f"could not make a first booking: {detail}")
        connection.close()

    asyncio.run(seed())


def _wait_drained(timeout: float = 120.0) -> float | None:
    """Seconds until every queue held nothing twice in a row (None: not within `timeout`)."""
    started = time.monotonic()
    empty_since: float | None = None
    while time.monotonic() - started < timeout:
        if sum(_queue_depths().values()) == 0:
            if empty_since is not None:
                return round(empty_since - started, 1)
            empty_since = time.monotonic()
        else:
            empty_since = None
        time.sleep(0.5)
    return None


def _run(runtime: Any, tree: ProcessTree, users: list[User], probes: list[User], seconds: float) -> RunResult:
    host, port = "127.0.0.1", int(runtime.base.rsplit(":", 1)[1])
    deepest = [0]
    sampling = [True]

    def sample() -> None:
        while sampling[0]:
            deepest[0] = max(deepest[0], *_queue_depths().values())
            time.sleep(2)

    import threading

    sampler = threading.Thread(target=sample, daemon=True)
    counted = call_counts.read(runtime.state_dir.parent / "counts")
    before = tree.cpu_seconds()
    sampler.start()

    def at_load_stop() -> tuple[dict[str, float], float | None]:
        cpu_after = tree.cpu_seconds()
        sampling[0] = False
        sampler.join()
        return cpu_after, _wait_drained()

    stats, elapsed, latencies, missing, (after, drained) = asyncio.run(
        _drive(host, port, users, probes, seconds, at_load_stop)
    )
    time.sleep(1.5)  # the workers rewrite their counts every second
    calls = call_counts.difference(call_counts.read(runtime.state_dir.parent / "counts"), counted)
    cpu = {name: after.get(name, 0.0) - before.get(name, 0.0) for name in after}
    return RunResult(len(users), elapsed, stats, cpu, deepest[0], drained, latencies, missing, _dead_letters(), calls)


# --- CPU per route --------------------------------------------------------------------------------------------------


def _route_cpu(runtime: Any, tree: ProcessTree, users: list[User]) -> list[tuple[str, float, float, float]]:
    """Per scenario: (name, ms wall per request, API workers' CPU ms per request, whole stack's CPU ms per request),
    one request at a time after a warm-up, the stack otherwise idle."""
    host, port = "127.0.0.1", int(runtime.base.rsplit(":", 1)[1])
    rows = []
    for (name, _, scenario), user in zip(MIX, users, strict=True):

        async def send(times: int, chosen: Scenario = scenario, user: User = user, name: str = name) -> None:
            connection = Connection(host, port)
            for _ in range(times):
                ok, detail = await chosen(connection, user)
                if not ok:
                    raise RuntimeError(f"{name}: {detail}")
            connection.close()

        # Booking writes have their own limit (30 a minute per customer): those routes send fewer.
        writes = name in ("create booking", "recurring weekly x4")
        count = min(ROUTE_REQUESTS, 24) if writes else ROUTE_REQUESTS
        asyncio.run(send(3 if writes else 10))
        time.sleep(1.5)  # the warm-up's async work (events, notifications) is done
        before = tree.cpu_seconds()
        started = time.perf_counter()
        asyncio.run(send(count))
        wall = (time.perf_counter() - started) * 1000 / count
        time.sleep(1.5)  # and so is the measured requests' (counted: a booking's events are part of its cost)
        after = tree.cpu_seconds()
        api = sum(after[k] - before.get(k, 0.0) for k in after if k.startswith("api"))
        total = sum(after[k] - before.get(k, 0.0) for k in after)
        idle = tree.idle_cpu_per_second * 1.5 * 2
        rows.append((name, wall, api * 1000 / count, max(0.0, total - idle) * 1000 / count))
    return rows


# --- the report -----------------------------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:.0f}"


def _run_table(result: RunResult) -> list[str]:
    stats = result.stats
    lines = [
        "| scenario | requests | req/s | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, _, _ in MIX:
        found = stats.latencies.get(name, [])
        lines.append(
            f"| {name} | {len(found)} | {len(found) / result.seconds:.1f} | {_ms(percentile(found, 0.5))} | "
            f"{_ms(percentile(found, 0.95))} | {_ms(percentile(found, 0.99))} | {stats.errors.get(name, 0)} |"
        )
    every = [value for found in stats.latencies.values() for value in found]
    lines.append(
        f"| **all** | {stats.requests} | **{stats.requests / result.seconds:.1f}** | {_ms(percentile(every, 0.5))} | "
        f"**{_ms(percentile(every, 0.95))}** | {_ms(percentile(every, 0.99))} | "
        f"{stats.failed} ({100 * stats.failed / max(1, stats.requests):.2f} %) |"
    )
    return lines


def _run_facts(result: RunResult) -> list[str]:
    served = max(1, result.stats.requests)
    total_cpu = sum(result.cpu_seconds.values())
    by_part = ", ".join(f"{name} {seconds * 1000 / served:.1f}" for name, seconds in sorted(result.cpu_seconds.items()))
    notes = result.notification_ms
    drained = f"{result.drain_seconds:.1f} s" if result.drain_seconds is not None else "not within 120 s"
    lines = [
        f"- CPU per request, whole stack: **{total_cpu * 1000 / served:.1f} ms** ({by_part} ms); "
        f"{total_cpu / result.seconds:.2f} cores busy on average.",
        f"- Deepest queue during the run: {result.deepest_queue} messages; every queue empty "
        f"**{drained}** after the load stopped; {result.dead_letters} messages in the dead-letter queues.",
    ]
    if notes:
        lines.append(
            f"- In-app notification visible after a booking ({len(notes)} probe bookings, one every "
            f"{PROBE_EVERY_SECONDS:g} s during the run): p50 {_ms(percentile(notes, 0.5))} ms, "
            f"p95 {_ms(percentile(notes, 0.95))} ms, **max {_ms(max(notes))} ms**"
            + (f"; {result.notifications_missing} not within 30 s" if result.notifications_missing else "")
            + "."
        )
    for name, samples in result.stats.samples.items():
        lines.append(f"- errors in {name}, e.g.: `{samples[0]}`")
    return lines


def _calls_table(result: RunResult) -> list[str]:
    """AWS calls per API request (by function) and per queue message (by consumer), from the workers' counters;
    the pollers' own SQS calls per message received."""
    lines = ["| where | function | handled | AWS calls per request / message |", "|---|---|---:|---|"]
    for part in ("api", "queues", "streams"):
        counts = result.calls.get(part)
        if not counts:
            continue
        records = counts["records"]
        by_group: dict[str, dict[str, int]] = {}
        for (group, service, operation), n in counts["calls"].items():
            by_group.setdefault(group, {})[f"{service} {operation}"] = n
        for group in sorted(by_group):
            handled = records.get(group, 0) if group != call_counts.OUTSIDE else sum(records.values())
            if not handled:
                continue
            what = "pollers" if group == call_counts.OUTSIDE else group
            per = ", ".join(f"{op} {n / handled:.2f}" for op, n in sorted(by_group[group].items(), key=lambda x: -x[1]))
            lines.append(f"| {part} | {what} | {handled} | {per} |")
    return lines


def _stamped(message: str) -> None:
    print(f"{datetime.now(UTC):%H:%M:%S} {message}", flush=True)


def run(progress: Callable[[str], None] = _stamped) -> str:
    state = Path(tempfile.mkdtemp(prefix="slotwise-load-"))
    runtime = _start_runtime(state)
    try:
        _use_runtime(runtime)
        tree = ProcessTree(runtime.process.pid)
        tree.measure_idle(3.0)
        monday = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=30)
        tag = uuid.uuid4().hex[:6]
        progress(f"making {LOAD_USERS + SATURATION_USERS + PROBE_USERS + len(MIX)} users and their rooms…")
        load_users = _make_users(LOAD_USERS, monday, f"{tag}-l")
        saturation_users = _make_users(SATURATION_USERS, monday + timedelta(days=200), f"{tag}-s")
        routers = _make_users(len(MIX), monday + timedelta(days=400), f"{tag}-r")
        probes = _make_users(PROBE_USERS, monday + timedelta(days=500), f"{tag}-p")
        host, port = "127.0.0.1", int(runtime.base.rsplit(":", 1)[1])
        _seed_bookings(host, port, [*load_users, *saturation_users, *routers])
        progress(f"queues empty after the first bookings in {_wait_drained()} s")
        progress(f"load: {LOAD_USERS} users, {LOAD_SECONDS:g} s…")
        load = _run(runtime, tree, load_users, probes, LOAD_SECONDS)
        progress(f"  {load.stats.requests} requests, {load.stats.failed} errors, drained in {load.drain_seconds} s")
        progress(f"saturation: {SATURATION_USERS} users, {SATURATION_SECONDS:g} s…")
        saturation = _run(runtime, tree, saturation_users, probes, SATURATION_SECONDS)
        progress(f"  {saturation.stats.requests} requests, {saturation.stats.failed} errors")
        progress("CPU per route…")
        routes = _route_cpu(runtime, tree, routers)
        workers = tree.describe()
    finally:
        _stop_runtime(runtime)
    lines = [
        "## The local stack under load",
        "",
        "`python -m bench load` (bench/bench_load.py, load generator bench/loadgen.py) starts `python -m infra.local "
        "serve` on free ports and drives it over HTTP with the resource seed's mix: health 5 %, availability 35 %, "
        "create 25 %, recurring weekly x4 10 %, get booking 15 %, conflicts 8 %, bulk availability (10 slots) 2 %. "
        "Each virtual user is a distinct customer with their own access token and rooms, thinking 0.5-1.5 s "
        "between requests. The generator runs on the same 2 cores as the stack. Goals: p95 <= 250 ms, 0 % errors, "
        ">= 90 req/s at 100 users; saturation >= 150 req/s; queues empty <= 30 s after; no notification later "
        "than 5 s.",
        "",
        f"Runtime processes: {workers}.",
        "",
        "What these figures rest on (issue 18): API worker processes sharing the port with HTTP/1.1 keep-alive; "
        "moto, the stream poller and the queue consumers (two processes, 4 batches in flight per queue each) in "
        "their own processes (ADR 0014); moto with its EventBridge JSONPath parsing memoised; no client-side "
        "botocore parameter validation (the services validate; it was the largest piece of a booking's own CPU in "
        "cProfile); a notification created with its e-mail already claimed (one TransactWriteItems instead of that "
        "plus an UpdateItem); the confirmation PDF built from fonts read once per process; request-quota leases "
        "per process (ADR 0007); webhook subscriptions read at most once a second per vendor and process.",
        "",
        "Where a booking's CPU goes, part by part, and what 2 cores can hold: `docs/load-profile.md`.",
        "",
        f"### {LOAD_USERS} users, {load.seconds:.0f} s",
        "",
        *_run_table(load),
        "",
        *_run_facts(load),
        "",
        f"AWS calls during the {LOAD_USERS}-user run and until the queues were empty, counted in every worker by "
        "function (infra.local.call_counts): per API request, per queue message (record) a consumer handled, and "
        "the queue pollers' own ReceiveMessage / DeleteMessageBatch per message received; the stream poller's per "
        "stream record (every change of the table, not only those that make events).",
        "",
        *_calls_table(load),
        "",
        f"### Saturation: {SATURATION_USERS} users, {saturation.seconds:.0f} s",
        "",
        *_run_table(saturation),
        "",
        *_run_facts(saturation),
        "",
        "### CPU per request, per route",
        "",
        f"One client, {ROUTE_REQUESTS} requests of each route (24 of the booking writes, which have their own "
        "30 a minute) one after another on a warm, otherwise idle stack. "
        "API workers: the processes running the handlers. Whole stack: every process of the runtime (DynamoDB "
        "Local's JVM, moto, the stream poller and queue consumers included) until the request's async work is done, "
        "less the idle stack's own use.",
        "",
        "| route | ms per request (wall) | API workers CPU ms | whole stack CPU ms |",
        "|---|---:|---:|---:|",
        *[f"| {name} | {wall:.1f} | {api:.1f} | {total:.1f} |" for name, wall, api, total in routes],
        "",
    ]
    return "\n".join(lines)
