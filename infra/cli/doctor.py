"""`slotwise doctor`: what is up and what is missing, one line each; any line down makes the exit code 1.

Locally: the tools `make dev` needs (Python 3.13, Java for DynamoDB Local and its jar, Node for the CDK), the
runtime's endpoints file, and whether DynamoDB Local, moto and the API answer on their ports (the API's own health
report included). With `--stack`: the stack's outputs, its table and its event bus.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version

from infra.cli.target import TargetOptions, TargetUnreachable, UsageError, connect_stack, local_endpoints, port_open

REQUIRED_PYTHON = (3, 13)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def public(self) -> dict[str, object]:
        return asdict(self)


def _tool_version(command: list[str]) -> str | None:
    """The first line a tool prints about its version (Java prints it on stderr), or None when it is missing."""
    if shutil.which(command[0]) is None:
        return None
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=20, check=False)  # noqa: S603
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines and done.returncode == 0 else None


def tools() -> list[Check]:
    python_ok = sys.version_info[:2] == REQUIRED_PYTHON
    checks = [
        Check("python", python_ok, f"{sys.version.split()[0]} (needs {'.'.join(map(str, REQUIRED_PYTHON))})"),
    ]
    try:
        checks.append(Check("slotwise", True, version("slotwise")))
    except PackageNotFoundError:
        checks.append(Check("slotwise", False, "not installed: run `make install`"))
    java = _tool_version(["java", "-version"])
    checks.append(Check("java", java is not None, java or "missing: `make java` installs a headless JRE"))
    node = _tool_version(["node", "--version"])
    checks.append(Check("node", node is not None, node or "missing: the CDK (`make synth`) needs Node 20"))
    return checks


def _jar() -> Check:
    from infra.local.dynamodb_local import DynamoDBLocalMissing, find_jar_dir

    try:
        return Check("dynamodb-local jar", True, str(find_jar_dir() / "DynamoDBLocal.jar"))
    except DynamoDBLocalMissing as exc:
        return Check("dynamodb-local jar", False, str(exc))


def _api_health(api: str) -> Check:
    import requests

    url = f"{api}/api/v1/health"
    try:
        answer = requests.get(url, timeout=5)
    except requests.RequestException as exc:
        return Check("api", False, f"{url}: {type(exc).__name__}")
    status = answer.json().get("status") if answer.headers.get("content-type", "").startswith("application") else None
    return Check("api", answer.status_code == 200 and status == "ok", f"{url}: HTTP {answer.status_code}, {status}")


def local_runtime(options: TargetOptions) -> list[Check]:
    endpoints = local_endpoints(options.state_dir)
    if endpoints is None:
        return [Check("runtime", False, f"not running (no {options.state_dir / 'runtime.json'}): `make dev`")]
    checks = [Check("runtime", True, str(options.state_dir / "runtime.json"))]
    for name, url in (("dynamodb-local", endpoints.dynamodb), ("moto", endpoints.moto)):
        up = port_open(url)
        checks.append(Check(name, up, f"{url} {'answers' if up else 'does not answer'}"))
    checks.append(
        _api_health(endpoints.api)
        if port_open(endpoints.api)
        else Check("api", False, f"{endpoints.api} does not answer")
    )
    return checks


def deployed(options: TargetOptions) -> list[Check]:
    assert options.stack is not None
    try:
        target = connect_stack(options.stack, options.profile, options.region)
    except (TargetUnreachable, UsageError) as exc:
        return [Check("stack", False, str(exc))]
    checks = [Check("stack", True, f"{target.name} ({target.region}), {len(target.outputs)} outputs")]
    from botocore.exceptions import BotoCoreError, ClientError

    from slotwise import aws
    from slotwise.settings import get_settings

    settings = get_settings()
    try:
        aws.dynamodb().describe_table(TableName=settings.table_name)
        checks.append(Check("table", True, settings.table_name))
    except (BotoCoreError, ClientError) as exc:
        checks.append(Check("table", False, f"{settings.table_name}: {exc}"))
    try:
        aws.events().describe_event_bus(Name=settings.event_bus_name)
        checks.append(Check("event bus", True, settings.event_bus_name))
    except (BotoCoreError, ClientError) as exc:
        checks.append(Check("event bus", False, f"{settings.event_bus_name}: {exc}"))
    return checks


def run(options: TargetOptions) -> list[Check]:
    if options.stack:
        return [tools()[0], *deployed(options)]
    return [*tools(), _jar(), *local_runtime(options)]
