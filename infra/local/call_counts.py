"""What each process of the local runtime called and handled, counted for `python -m bench load`.

With `SLOTWISE_LOCAL_COUNTS_DIR` set (the bench sets it; `make dev` does not), every API and async worker counts
each AWS call it makes by function group, service and operation, and each invocation by group with the records
it carried (an SQS batch of 10 is one invocation of 10 records), and rewrites `<dir>/<process>-<pid>.json` about
once a second. Calls made outside any invocation (the queue pollers' ReceiveMessage and DeleteMessageBatch, the
stream poller's reads) are counted under the group `-`. The bench reads the files before and after a run and
divides: DynamoDB calls per API request, SES and DynamoDB calls per notification, SQS calls per message.

The hook wraps botocore's `BaseClient._make_api_call`, the one method every client call goes through, so clients
built anywhere (slotwise.aws, the pollers' own) are counted alike.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ENV = "SLOTWISE_LOCAL_COUNTS_DIR"
OUTSIDE = "-"

_calls: Counter[tuple[str, str, str]] = Counter()  # (group, service, operation)
_invocations: Counter[str] = Counter()
_records: Counter[str] = Counter()
_lock = threading.Lock()
_current = threading.local()
_state = {"enabled": False}


def enabled() -> bool:
    return _state["enabled"]


def _group() -> str:
    return getattr(_current, "group", OUTSIDE)


@contextmanager
def invocation(group: str, event: dict[str, Any]) -> Iterator[None]:
    """Count one invocation of `group` and attribute the calls made meanwhile (on this thread) to it."""
    if not _state["enabled"]:
        yield
        return
    records = event.get("Records")
    with _lock:
        _invocations[group] += 1
        _records[group] += len(records) if isinstance(records, list) else 1
    previous = _group()
    _current.group = group
    try:
        yield
    finally:
        _current.group = previous


def snapshot() -> dict[str, Any]:
    with _lock:
        return {
            "calls": [[group, service, operation, n] for (group, service, operation), n in sorted(_calls.items())],
            "invocations": dict(_invocations),
            "records": dict(_records),
        }


def install(name: str, directory: Path | None = None, every_seconds: float = 1.0) -> bool:
    """Start counting in this process when `SLOTWISE_LOCAL_COUNTS_DIR` (or `directory`) names a folder; returns
    whether it did. The file is rewritten by a daemon thread (atomically: a reader never sees half of it)."""
    folder = directory or (Path(os.environ[ENV]) if os.environ.get(ENV) else None)
    if folder is None or _state["enabled"]:
        return _state["enabled"]
    from botocore.client import BaseClient

    original = getattr(BaseClient, "_make_api_call")  # noqa: B009 - private: botocore's stubs do not declare it

    def counted(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        key = (_group(), self.meta.service_model.service_name, operation_name)
        with _lock:
            _calls[key] += 1
        return original(self, operation_name, api_params)

    setattr(BaseClient, "_make_api_call", counted)  # noqa: B010 - as above
    _state["enabled"] = True
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}-{os.getpid()}.json"

    def write() -> None:
        while True:
            partial = target.with_suffix(".tmp")
            partial.write_text(json.dumps(snapshot()))
            partial.replace(target)
            threading.Event().wait(every_seconds)

    threading.Thread(target=write, name="call-counts", daemon=True).start()
    return True


def read(directory: Path) -> dict[str, Any]:
    """Every process's counts summed by kind (`api`, `queues`, `streams`): {part: {"calls": Counter of (group,
    service, operation), "invocations": Counter, "records": Counter}}."""
    parts: dict[str, Any] = {}
    for path in sorted(directory.glob("*.json")):
        try:
            found = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        # `api-0-<pid>`, `queues-1-<pid>`, `streams-<pid>`: processes of one kind sum into one part.
        part = path.stem.split("-", 1)[0]
        into = parts.setdefault(part, {"calls": Counter(), "invocations": Counter(), "records": Counter()})
        for group, service, operation, n in found["calls"]:
            into["calls"][(group, service, operation)] += n
        into["invocations"].update(found["invocations"])
        into["records"].update(found["records"])
    return parts


def difference(after: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """What happened between two `read`s."""
    empty: dict[str, Counter[Any]] = {"calls": Counter(), "invocations": Counter(), "records": Counter()}
    return {
        part: {key: counts[key] - before.get(part, empty)[key] for key in ("calls", "invocations", "records")}
        for part, counts in after.items()
    }
