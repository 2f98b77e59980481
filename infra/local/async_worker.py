"""The async side of the local runtime in its own process: `python -m infra.local.async_worker --role ...`.

- `--role streams`: the table stream's pollers and every scheduled job (the publisher turns changes into events).
- `--role queues`: every SQS consumer, `--concurrency` batches in flight per queue, as Lambda scales an event
  source mapping out to several concurrent batches when a queue backs up (each borrows its own handler copy).

Both read the provisioned resources from the JSON file the parent wrote (`--resources`), and stop on SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from infra.local import call_counts
from infra.local.provision import LocalResources

# SQS long polling (Lambda's pollers wait up to 20 s): idle pollers cost moto one request per this many seconds.
LONG_POLL_SECONDS = 10


def load_resources(path: Path) -> LocalResources:
    raw = json.loads(path.read_text())
    return LocalResources(raw["table_name"], raw["event_bus_name"], dict(raw["queue_urls"]))


def save_resources(resources: LocalResources, path: Path) -> None:
    path.write_text(
        json.dumps(
            {
                "table_name": resources.table_name,
                "event_bus_name": resources.event_bus_name,
                "queue_urls": resources.queue_urls,
            }
        )
    )


def _poller_client() -> Any:
    """The pollers' own SQS client: its read timeout outlasts a long poll (the functions' clients give up after
    5 s, slotwise.aws), and its pool holds a connection per poller thread."""
    import boto3
    from botocore.config import Config

    from slotwise.settings import get_settings

    config = Config(
        connect_timeout=2,
        read_timeout=LONG_POLL_SECONDS + 10,
        retries={"mode": "standard", "max_attempts": 3},
        max_pool_connections=64,
    )
    return boto3.session.Session().client("sqs", region_name=get_settings().region, config=config)


def main(argv: list[str] | None = None) -> int:
    import devstack
    from infra.local.functions import invoke
    from infra.local.streams import stream_pollers
    from infra.local.workers import Workers
    from slotwise.topology import TOPOLOGY

    parser = argparse.ArgumentParser(prog="python -m infra.local.async_worker")
    parser.add_argument("--role", choices=("streams", "queues"), required=True)
    parser.add_argument("--resources", type=Path, required=True)
    parser.add_argument("--dynamodb-endpoint", required=True)
    parser.add_argument("--concurrency", type=int, default=4, help="batches in flight per queue")
    parser.add_argument("--name", default=None, help="this process's name in the call counts (default: the role)")
    args = parser.parse_args(argv)

    devstack.install()
    call_counts.install(args.name or args.role)
    resources = load_resources(args.resources)

    def say(message: str) -> None:
        print(message, flush=True)

    workers = Workers(invoke, log=say)
    if args.role == "streams":
        for schedule in TOPOLOGY.schedules:
            workers.add_schedule(schedule)
        for poller in stream_pollers(TOPOLOGY, resources, invoke, endpoint=args.dynamodb_endpoint, log=say):
            workers.add_stream(poller)
    else:
        pollers = _poller_client()
        for queue in TOPOLOGY.queues:
            workers.add_queue(
                pollers,
                queue,
                resources.queue_urls[queue.name],
                concurrency=args.concurrency,
                wait_seconds=LONG_POLL_SECONDS,
            )

    stopping = threading.Event()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    while not stopping.wait(1):
        pass
    # Pollers may sit in a long poll: they are daemon threads, so only a moment is given to a batch in flight (one
    # cut short comes back after its visibility timeout, and the consumers count each message once).
    workers.stop(timeout=0.1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
