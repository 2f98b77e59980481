"""`slotwise jobs run NAME`: one scheduled job now, as its schedule would run it.

Locally the job's handler runs in this process against the running runtime (what `make tick` does for every job);
on a deployed stack its function is invoked (the `<Job>JobFunctionArn` output) with the scheduled event.
"""

from __future__ import annotations

import json
from typing import Any

from infra.cli.target import Target, TargetUnreachable
from infra.local.workers import scheduled_event
from slotwise.topology import ScheduleSpec


class JobFailed(Exception):
    """The job's function raised or reported an error."""


def _run_local(schedule: ScheduleSpec) -> Any:
    from infra.local.functions import invoke

    try:
        return invoke(schedule.group, scheduled_event(schedule))
    except Exception as exc:
        raise JobFailed(f"job {schedule.name} failed: {exc!r}") from exc


def _run_deployed(target: Target, schedule: ScheduleSpec) -> Any:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    function = target.job_function(schedule.name)
    if not function:
        raise TargetUnreachable(f"stack {target.name!r} has no output naming job {schedule.name!r}'s function")
    try:
        client = boto3.Session(profile_name=target.profile, region_name=target.region).client("lambda")
        answer = client.invoke(FunctionName=function, Payload=json.dumps(scheduled_event(schedule), default=str))
    except (BotoCoreError, ClientError) as exc:
        raise TargetUnreachable(f"cannot invoke {function}: {exc}") from exc
    payload = json.loads(answer["Payload"].read() or b"null")
    if answer.get("FunctionError"):
        raise JobFailed(f"job {schedule.name} failed: {payload}")
    return payload


def run(target: Target, schedule: ScheduleSpec) -> Any:
    return _run_local(schedule) if target.local else _run_deployed(target, schedule)
