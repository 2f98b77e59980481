"""`python -m infra.local serve|tick|seed|invoke|mail` — the local runtime behind `make dev`, `make tick` and
`make mail`."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import devstack
from infra.local import demo_data
from infra.local.adapter import HttpApiAdapter
from infra.local.dynamodb_local import DynamoDBLocal, DynamoDBLocalMissing, JavaMissing
from infra.local.environment import STATE_FILE, Endpoints
from infra.local.functions import invoke
from infra.local.live import PATH as LIVE_PATH
from infra.local.live import LiveGateway
from infra.local.ports import PortInUse, ensure_free
from infra.local.provision import provision
from infra.local.streams import stream_pollers
from infra.local.workers import Workers, run_job
from slotwise import aws
from slotwise.payments import inbox
from slotwise.settings import get_settings
from slotwise.topology import TOPOLOGY


def _say(message: str) -> None:
    print(message, flush=True)


def _check_ports(args: argparse.Namespace) -> int:
    """Every port the runtime listens on must be free; returns the WebSocket endpoint's (default: API port + 1)."""
    ws_port: int = args.ws_port or args.api_port + 1
    ports = ((args.api_port, "api"), (ws_port, "ws"), (args.dynamodb_port, "dynamodb"), (args.moto_port, "moto"))
    for port, what in ports:
        ensure_free(port, what, args.host)
    return ws_port


def _start_live(stack: contextlib.ExitStack, args: argparse.Namespace, ws_port: int) -> LiveGateway:
    """The WebSocket API (slotwise.live) on its own port; its Management API rides on the API's (/@connections)."""
    assert TOPOLOGY.websocket is not None
    live = LiveGateway(invoke, TOPOLOGY.websocket, log=_say, access_log=args.access_log)
    live.start(args.host, ws_port)
    stack.callback(live.stop)
    return live


def serve(args: argparse.Namespace) -> int:
    import logging

    from moto.server import ThreadedMotoServer
    from werkzeug.serving import make_server

    # The adapter logs each request with the function that served it; werkzeug's own lines would double them.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    ws_port = _check_ports(args)

    endpoints = Endpoints(
        api=f"http://{args.host}:{args.api_port}",
        dynamodb=f"http://127.0.0.1:{args.dynamodb_port}",
        moto=f"http://127.0.0.1:{args.moto_port}",
    )
    log_dir = Path(args.state_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    state_file = log_dir / STATE_FILE.name
    with contextlib.ExitStack() as stack:
        db_log = stack.enter_context((log_dir / "dynamodb-local.log").open("wb"))
        db_path = log_dir / "dynamodb" if args.persist else None
        dynamodb = DynamoDBLocal(args.dynamodb_port, db_path=db_path, log=db_log)
        dynamodb.start()
        stack.callback(dynamodb.stop)

        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=args.moto_port, verbose=False)
        moto.start()
        stack.callback(moto.stop)

        endpoints.apply()
        resources = provision(
            TOPOLOGY,
            table_name=get_settings().table_name,
            dynamodb=aws.dynamodb(),
            sqs=aws.sqs(),
            events=aws.events(),
            ses=aws.ses(),
            email_from=get_settings().email_from,
        )
        # As in AWS, the webhook consumer reads its own queue's URLs from settings (slotwise.webhooks.queue).
        webhooks = TOPOLOGY.queue("webhooks")
        os.environ["SLOTWISE_WEBHOOK_QUEUE_URL"] = resources.queue_urls[webhooks.name]
        os.environ["SLOTWISE_WEBHOOK_DLQ_URL"] = aws.sqs().get_queue_url(QueueName=webhooks.dlq_name)["QueueUrl"]
        # The Stripe ingress queues verified events for the payment-events processor (slotwise.payments.inbox).
        os.environ["SLOTWISE_STRIPE_EVENTS_QUEUE_URL"] = resources.queue_urls[inbox.QUEUE_NAME]
        get_settings.cache_clear()
        if args.seed:
            counts = demo_data.load()
            _say("demo data: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))

        workers = Workers(invoke, log=_say)
        for queue in TOPOLOGY.queues:
            workers.add_queue(aws.sqs(), queue, resources.queue_urls[queue.name])
        for schedule in TOPOLOGY.schedules:
            workers.add_schedule(schedule)
        for poller in stream_pollers(TOPOLOGY, resources, invoke, endpoint=endpoints.dynamodb, log=_say):
            workers.add_stream(poller)
        stack.callback(workers.stop)

        adapter = HttpApiAdapter(invoke, log=_say if args.access_log else None)
        live = _start_live(stack, args, ws_port)
        server = make_server(args.host, args.api_port, live.management(adapter), threaded=True)
        stack.callback(server.server_close)
        endpoints.save(state_file)
        stack.callback(lambda: state_file.unlink(missing_ok=True))

        def shutdown(signum: int, _: FrameType | None) -> None:
            _say(f"\nstopping ({signal.Signals(signum).name})…")
            # shutdown() blocks until serve_forever returns, so it must run on another thread.
            threading.Thread(target=server.shutdown, daemon=True).start()

        signal.signal(signal.SIGINT, shutdown)
        signal.signal(signal.SIGTERM, shutdown)
        jobs = ", ".join(schedule.name for schedule in TOPOLOGY.schedules)
        _say(
            "\nSlotwise local runtime\n"
            f"  API            {endpoints.api}/api/v1\n"
            f"  Health         {endpoints.api}/api/v1/health\n"
            f"  Swagger UI     {endpoints.api}/api/v1/docs\n"
            f"  OpenAPI        {endpoints.api}/api/v1/openapi.json\n"
            f"  WebSocket      ws://{args.host}:{ws_port}{LIVE_PATH}?token=<access token>  (docs/live.md)\n"
            f"  DynamoDB Local {endpoints.dynamodb}  ({f'persisted in {db_path}' if db_path else 'in memory'})\n"
            f"  moto server    {endpoints.moto}  (EventBridge, SQS, SES, Scheduler)\n"
            f"  queues         {', '.join(resources.queue_urls) or 'none yet'}\n"
            f"  jobs           {jobs or 'none yet'} (`make tick` runs them now)\n"
            "Ctrl-C stops everything.",
        )
        server.serve_forever()
    _say("stopped.")
    return 0


def tick(args: argparse.Namespace) -> int:
    """Run every scheduled job once against the running local stack."""
    Endpoints.load(Path(args.state_dir) / STATE_FILE.name).apply()
    if not TOPOLOGY.schedules:
        _say("no scheduled jobs are defined yet")
    for schedule in TOPOLOGY.schedules:
        run_job(schedule, invoke, _say)
    return 0


def seed(args: argparse.Namespace) -> int:
    Endpoints.load(Path(args.state_dir) / STATE_FILE.name).apply()
    counts = demo_data.load()
    _say("demo data: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))
    return 0


def invoke_sample(args: argparse.Namespace) -> int:
    """Call one function with a sample event from events/, like `sam local invoke`, against the running stack."""
    import json

    import events

    Endpoints.load(Path(args.state_dir) / STATE_FILE.name).apply()
    print(json.dumps(invoke(args.group, events.load(args.event)), indent=2, default=str))
    return 0


def mail_viewer(args: argparse.Namespace) -> int:
    """List the e-mail moto's SES captured; `--show N` prints one, `--out DIR` saves bodies and attachments."""
    from infra.local import mail

    moto_url = args.moto_url or Endpoints.load(Path(args.state_dir) / STATE_FILE.name).moto
    try:
        mails = mail.parse(mail.fetch(moto_url))
    except OSError as exc:
        print(f"error: cannot read {moto_url}{mail.DATA_PATH}: {exc}", file=sys.stderr)
        return 2
    chosen = mails
    if args.show is not None:
        chosen = [found for found in mails if found.number == args.show]
        if not chosen:
            print(f"error: no e-mail #{args.show} ({len(mails)} captured)", file=sys.stderr)
            return 2
        _say(mail.show(chosen[0]))
    else:
        _say(mail.listing(mails))
    if args.out:
        for found in chosen:
            for path in mail.write(found, Path(args.out)):
                _say(f"wrote {path}")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m infra.local", description=__doc__)
    root.add_argument("--state-dir", default=str(STATE_FILE.parent), help="logs, endpoints file, persisted data")
    commands = root.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="start DynamoDB Local, moto, the API and the workers")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--api-port", type=int, default=3000)
    run.add_argument("--ws-port", type=int, default=None, help="WebSocket endpoint (default: the API port + 1)")
    run.add_argument("--dynamodb-port", type=int, default=8000)
    run.add_argument("--moto-port", type=int, default=5050)
    run.add_argument("--persist", action="store_true", help="keep DynamoDB data in <state-dir>/dynamodb")
    run.add_argument("--no-seed", dest="seed", action="store_false", help="do not load demo data")
    run.add_argument("--quiet", dest="access_log", action="store_false", help="no request log")
    run.set_defaults(func=serve)
    commands.add_parser("tick", help="run every scheduled job once").set_defaults(func=tick)
    commands.add_parser("seed", help="load demo data into the running stack").set_defaults(func=seed)
    one = commands.add_parser("invoke", help="invoke a function with a sample event from events/")
    one.add_argument("group", help="function group, e.g. health")
    one.add_argument("event", help="sample event name, e.g. http/health_get")
    one.set_defaults(func=invoke_sample)
    inbox = commands.add_parser("mail", help="list the e-mail the local stack sent (moto's SES)")
    inbox.add_argument("--show", type=int, metavar="N", help="print e-mail N: headers, text and HTML, attachments")
    inbox.add_argument("--out", metavar="DIR", help="write bodies and attachments (all, or N with --show) to DIR")
    inbox.add_argument("--moto-url", help="moto server URL (default: the running `make dev`'s)")
    inbox.set_defaults(func=mail_viewer)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # The simulated payment provider and the development routes' document: the local runtime's, never the layer's.
    devstack.install()
    try:
        code: int = args.func(args)
    except (PortInUse, JavaMissing, DynamoDBLocalMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
