"""Which stack a command talks to, and the environment that points the layer at it.

By default the local runtime (`make dev`): its endpoints file `<state dir>/runtime.json`, written while it runs.
With `--stack NAME` (and `--profile`, `--region`) a deployed stack: its CloudFormation outputs name the table, the
bus, every queue (`<Queue>QueueUrl`, infra/components/queue_admin.py) and each job's function.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from infra.components.naming import pascal
from infra.local.environment import Endpoints
from slotwise.topology import TOPOLOGY

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_STATE_DIR = ROOT / ".local"

# Exit codes scripts can trust (docs/cli.md).
OK = 0
FAILURE = 1
USAGE = 2
UNREACHABLE = 3


class TargetUnreachable(Exception):
    """The stack cannot be reached: the local runtime is not running, or AWS refused or did not answer."""


class UsageError(Exception):
    """The command cannot run as asked (a deployed stack for a local-only command, a value out of range)."""


@dataclass(frozen=True)
class TargetOptions:
    stack: str | None = None
    profile: str | None = None
    region: str | None = None
    state_dir: Path = DEFAULT_STATE_DIR


@dataclass(frozen=True)
class Target:
    name: str
    local: bool
    endpoints: Endpoints | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    profile: str | None = None
    region: str | None = None

    def job_function(self, schedule_name: str) -> str | None:
        return self.outputs.get(f"{pascal(schedule_name)}JobFunctionArn")


def port_open(url: str, timeout: float = 1.0) -> bool:
    parts = urlsplit(url)
    # A server listening on every interface is reached on loopback.
    host = "127.0.0.1" if parts.hostname in (None, "", "0.0.0.0", "::") else parts.hostname  # noqa: S104
    try:
        with socket.create_connection((host, parts.port or 80), timeout=timeout):
            return True
    except OSError:
        return False


def local_endpoints(state_dir: Path) -> Endpoints | None:
    path = state_dir / "runtime.json"
    if not path.exists():
        return None
    return Endpoints(**json.loads(path.read_text()))


def _reset_layer() -> None:
    from slotwise.aws import reset_clients
    from slotwise.settings import get_settings

    get_settings.cache_clear()
    reset_clients()


def connect_local(state_dir: Path) -> Target:
    endpoints = local_endpoints(state_dir)
    if endpoints is None:
        raise TargetUnreachable(
            f"the local runtime is not running (no {state_dir / 'runtime.json'}): start it with `make dev`"
        )
    for what, url in (("DynamoDB Local", endpoints.dynamodb), ("moto", endpoints.moto)):
        if not port_open(url):
            raise TargetUnreachable(f"{what} does not answer at {url}: is `make dev` still running?")
    endpoints.apply()
    # The simulated payment provider the local jobs use, as `python -m infra.local` registers it.
    import devstack

    devstack.install()
    return Target(name="local", local=True, endpoints=endpoints)


def queue_outputs(outputs: dict[str, str]) -> dict[str, str]:
    """Topology queue name → URL, from the stack's `<Queue>QueueUrl` outputs."""
    urls: dict[str, str] = {}
    for spec in TOPOLOGY.queues:
        for name in (spec.name, spec.dlq_name):
            value = outputs.get(f"{pascal(name)}QueueUrl")
            if value:
                urls[name] = value
    return urls


def connect_stack(stack: str, profile: str | None, region: str | None) -> Target:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

    try:
        session = boto3.Session(profile_name=profile, region_name=region)
        described = session.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    except ProfileNotFound as exc:
        raise UsageError(str(exc)) from exc
    except (BotoCoreError, ClientError) as exc:
        raise TargetUnreachable(f"cannot read stack {stack!r}: {exc}") from exc
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    missing = [key for key in ("TableName", "EventBusName") if key not in outputs]
    if missing:
        raise TargetUnreachable(f"stack {stack!r} has no output {', '.join(missing)}: is it a Slotwise stack?")
    for key in [k for k in os.environ if k.startswith("AWS_ENDPOINT_URL")]:
        del os.environ[key]
    environment = {
        "AWS_REGION": session.region_name or "",
        "AWS_DEFAULT_REGION": session.region_name or "",
        "SLOTWISE_STAGE": outputs.get("Stage", "dev"),
        "SLOTWISE_TABLE_NAME": outputs["TableName"],
        "SLOTWISE_EVENT_BUS_NAME": outputs["EventBusName"],
        "SLOTWISE_QUEUE_URLS": json.dumps(queue_outputs(outputs)),
    }
    if profile:
        environment["AWS_PROFILE"] = profile
    os.environ.update(environment)
    _reset_layer()
    return Target(name=stack, local=False, outputs=outputs, profile=profile, region=session.region_name)


def connect(options: TargetOptions) -> Target:
    if options.stack:
        return connect_stack(options.stack, options.profile, options.region)
    return connect_local(options.state_dir)
