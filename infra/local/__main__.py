"""`python -m infra.local serve|tick|seed|invoke|mail` — the local runtime behind `make dev`, `make tick` and
`make mail`."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import devstack
from infra.local import demo_data
from infra.local.async_worker import save_resources
from infra.local.dynamodb_local import DynamoDBLocal, DynamoDBLocalMissing, JavaMissing
from infra.local.environment import STATE_FILE, Endpoints
from infra.local.functions import invoke, warm
from infra.local.live import PATH as LIVE_PATH
from infra.local.live import LiveGateway
from infra.local.ports import PortInUse, ensure_free, wait_until_open
from infra.local.processes import Children, child_env
from infra.local.provision import provision
from infra.local.workers import run_job
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
    # Its handler environment loaded before the first client: a burst of $connects would otherwise each cold-start.
    warm(TOPOLOGY.websocket.group)
    live = LiveGateway(invoke, TOPOLOGY.websocket, log=_say, access_log=args.access_log)
    live.start(args.host, ws_port)
    stack.callback(live.stop)
    return live


def _start_moto(children: Children, args: argparse.Namespace, log_dir: Path) -> None:
    """moto's server (EventBridge, SQS, SES, Scheduler) in its own interpreter: its request handling is CPU work
    that would otherwise share the API's GIL."""
    output = (log_dir / "moto.log").open("wb")
    children.python("moto", "moto.server", "-H", "127.0.0.1", "-p", str(args.moto_port), output=output)
    output.close()  # the child holds its own copy
    if not wait_until_open(args.moto_port, 60):
        raise RuntimeError(f"moto did not open port {args.moto_port}; see {log_dir / 'moto.log'}")


def _management_server(stack: contextlib.ExitStack, live: LiveGateway) -> str:
    """The WebSocket Management API on a private loopback port of this process, which holds the connections; API
    workers relay `/@connections/...` from the API port to it, and the pushers in the workers call it directly."""
    from werkzeug.serving import make_server
    from werkzeug.wrappers import Response

    def not_found(environ: dict[str, Any], start_response: Any) -> Any:
        return Response(status=404)(environ, start_response)

    server = make_server("127.0.0.1", 0, live.management(not_found), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-management", daemon=True)
    thread.start()
    stack.callback(server.server_close)
    stack.callback(server.shutdown)
    return f"http://127.0.0.1:{server.port}"


def _listen(host: str, port: int) -> socket.socket:
    """The API's socket, bound once here and shared by every API worker (see infra.local.api_worker). The workers
    start listening when they are ready to answer: until then a client is refused, not left hanging."""
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.set_inheritable(True)
    return listener


def _shared_token_secret() -> None:
    """Tokens must verify in every worker process: without a configured secret each process would make its own
    (slotwise.identity.keys), so the runtime makes one for all of its processes, for its lifetime."""
    if not os.environ.get("SLOTWISE_JWT_SECRET") and not os.environ.get("SLOTWISE_JWT_SECRET_ARN"):
        import secrets

        os.environ["SLOTWISE_JWT_SECRET"] = secrets.token_urlsafe(48)


def _start_workers(
    stack: contextlib.ExitStack,
    children: Children,
    args: argparse.Namespace,
    env: dict[str, str],
    resources_file: Path,
    endpoints: Endpoints,
) -> None:
    """The async workers (streams and schedules; queue consumers) and the API workers on the shared socket."""
    management_url = env["SLOTWISE_LIVE_ENDPOINT_URL"]
    for role in ("streams", "queues"):
        children.python(
            role,
            "infra.local.async_worker",
            "--role",
            role,
            "--resources",
            str(resources_file),
            "--dynamodb-endpoint",
            endpoints.dynamodb,
            "--concurrency",
            str(args.queue_concurrency),
            env=env,
        )
    listener = _listen(args.host, args.api_port)
    stack.callback(listener.close)
    worker_args = ["--fd", str(listener.fileno()), "--host", args.host, "--port", str(args.api_port)]
    worker_args += ["--management-url", management_url, *(["--access-log"] if args.access_log else [])]
    for index in range(args.api_workers):
        children.python(
            f"api-{index}",
            "infra.local.api_worker",
            *worker_args,
            "--name",
            f"api-{index}",
            env=env,
            pass_fds=[listener.fileno()],
        )


def _banner(args: argparse.Namespace, endpoints: Endpoints, ws_port: int, db_path: Path | None, resources: Any) -> None:
    jobs = ", ".join(schedule.name for schedule in TOPOLOGY.schedules)
    _say(
        "\nSlotwise local runtime\n"
        f"  API            {endpoints.api}/api/v1  ({args.api_workers} worker processes)\n"
        f"  Health         {endpoints.api}/api/v1/health\n"
        f"  Swagger UI     {endpoints.api}/api/v1/docs\n"
        f"  OpenAPI        {endpoints.api}/api/v1/openapi.json\n"
        f"  Console        {endpoints.api}/console/  (`make console` builds it)\n"
        f"  WebSocket      ws://{args.host}:{ws_port}{LIVE_PATH}?token=<access token>  (docs/live.md)\n"
        f"  DynamoDB Local {endpoints.dynamodb}  ({f'persisted in {db_path}' if db_path else 'in memory'})\n"
        f"  moto server    {endpoints.moto}  (EventBridge, SQS, SES, Scheduler)\n"
        f"  queues         {', '.join(resources.queue_urls) or 'none yet'}"
        f"  ({args.queue_concurrency} batches in flight each)\n"
        f"  jobs           {jobs or 'none yet'} (`make tick` runs them now)\n"
        "Ctrl-C stops everything.",
    )


def _configure(resources: Any, args: argparse.Namespace) -> None:
    """Settings the functions read from the environment (queue URLs), and the demo data."""
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


def serve(args: argparse.Namespace) -> int:
    ws_port = _check_ports(args)
    _shared_token_secret()

    endpoints = Endpoints(
        api=f"http://{args.host}:{args.api_port}",
        dynamodb=f"http://127.0.0.1:{args.dynamodb_port}",
        moto=f"http://127.0.0.1:{args.moto_port}",
    )
    log_dir = Path(args.state_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    state_file = log_dir / STATE_FILE.name
    stopping = threading.Event()
    signals: list[str] = []

    def shutdown(signum: int, _: FrameType | None) -> None:
        signals.append(signal.Signals(signum).name)
        stopping.set()

    # Set before any child starts: a Ctrl-C during start-up still stops what was started.
    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    with contextlib.ExitStack() as stack:
        db_log = stack.enter_context((log_dir / "dynamodb-local.log").open("wb"))
        db_path = log_dir / "dynamodb" if args.persist else None
        dynamodb = DynamoDBLocal(args.dynamodb_port, db_path=db_path, log=db_log)
        dynamodb.start()
        stack.callback(dynamodb.stop)

        children = Children()
        stack.callback(children.stop)
        _start_moto(children, args, log_dir)

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
        _configure(resources, args)
        live = _start_live(stack, args, ws_port)
        management_url = _management_server(stack, live)
        resources_file = log_dir / "resources.json"
        save_resources(resources, resources_file)
        # Every child inherits the environment built above (endpoints, settings, queue URLs).
        env = child_env({"SLOTWISE_LIVE_ENDPOINT_URL": management_url})

        _start_workers(stack, children, args, env, resources_file, endpoints)
        endpoints.save(state_file)
        stack.callback(lambda: state_file.unlink(missing_ok=True))

        _banner(args, endpoints, ws_port, db_path, resources)
        code = 0
        while not stopping.wait(0.5):
            crashed = children.exited()
            if crashed:
                names = ", ".join(f"{c.name} (exit {c.process.returncode})" for c in crashed)
                _say(f"\na process of the runtime stopped: {names}; stopping the rest")
                code = 1
                break
        if signals:
            _say(f"\nstopping ({signals[0]})…")
    _say("stopped.")
    return code


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
    run.add_argument(
        "--api-workers",
        type=int,
        default=max(2, os.cpu_count() or 2),
        help="API worker processes sharing the API port (default: one per core, at least 2)",
    )
    run.add_argument(
        "--queue-concurrency", type=int, default=4, help="batches in flight per queue (Lambda's scale-out)"
    )
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
