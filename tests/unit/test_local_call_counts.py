"""The local runtime's counters for `python -m bench load` (infra.local.call_counts), its moto server's patches
(infra.local.moto_server) and its queue processes: calls are attributed to the invocation that made them,
processes' files sum by kind, moto's memoised JSONPath answers as moto's own parser does, and `--queue-processes`
starts that many queue workers."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

from infra.local import call_counts
from infra.local.moto_server import memoise_jsonpath

ROOT = Path(__file__).resolve().parents[2]


def test_a_worker_counts_each_call_under_the_invocation_that_made_it(tmp_path: Path) -> None:
    # In a process of its own: install() wraps botocore's client for the rest of the process's life.
    script = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        import botocore.session
        from botocore.stub import Stubber
        from infra.local import call_counts

        assert call_counts.install("queues", Path({str(tmp_path)!r}), every_seconds=0.05)
        sqs = botocore.session.get_session().create_client(
            "sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        with Stubber(sqs) as stub:
            for _ in range(3):
                stub.add_response("list_queues", {{}})
            with call_counts.invocation("notifier", {{"Records": [1, 2, 3]}}):
                sqs.list_queues()
                sqs.list_queues()
            sqs.list_queues()
        time.sleep(0.3)
        """
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=60)
    parts = call_counts.read(tmp_path)
    assert set(parts) == {"queues"}
    assert parts["queues"]["calls"] == Counter({("notifier", "sqs", "ListQueues"): 2, ("-", "sqs", "ListQueues"): 1})
    assert parts["queues"]["invocations"] == Counter({"notifier": 1})
    assert parts["queues"]["records"] == Counter({"notifier": 3})


def test_counts_of_every_process_sum_by_part_and_subtract(tmp_path: Path) -> None:
    def write(name: str, calls: list[list[object]], records: dict[str, int]) -> None:
        (tmp_path / f"{name}.json").write_text(json.dumps({"calls": calls, "invocations": records, "records": records}))

    write("api-0-11", [["availability", "dynamodb", "Query", 3]], {"availability": 3})
    write("api-1-12", [["availability", "dynamodb", "Query", 2]], {"availability": 2})
    before = call_counts.read(tmp_path)
    assert before["api"]["calls"] == Counter({("availability", "dynamodb", "Query"): 5})
    write("api-1-12", [["availability", "dynamodb", "Query", 6]], {"availability": 6})
    write("queues-13", [["-", "sqs", "ReceiveMessage", 4]], {})
    moved = call_counts.difference(call_counts.read(tmp_path), before)
    assert moved["api"]["calls"] == Counter({("availability", "dynamodb", "Query"): 4})
    assert moved["api"]["records"] == Counter({"availability": 4})
    assert moved["queues"]["calls"] == Counter({("-", "sqs", "ReceiveMessage"): 4})


def test_moto_event_templates_answer_alike_with_the_memoised_parser() -> None:
    from moto.events.utils import EventTemplateParser

    event = {"id": "1", "detail-type": "booking.confirmed", "detail": {"a": 1}, "ingestion-time": time.time()}
    transformer = {"InputTemplate": '{"kind": "<kind>", "a": <a>}', "InputPathsMap": {"kind": "$.detail-type"}}
    transformer["InputPathsMap"]["a"] = "$.detail.a"
    plain = EventTemplateParser.parse(transformer["InputTemplate"], transformer["InputPathsMap"], event)
    memoise_jsonpath()
    memoise_jsonpath()  # idempotent: never wraps twice
    import jsonpath_ng.ext

    parse = getattr(jsonpath_ng.ext, "parse")  # noqa: B009
    assert parse("$.detail.a") is parse("$.detail.a")
    assert EventTemplateParser.parse(transformer["InputTemplate"], transformer["InputPathsMap"], event) == plain
    assert plain == {"kind": "booking.confirmed", "a": 1}


def test_the_queue_consumers_run_in_as_many_processes_as_asked(tmp_path: Path) -> None:
    import contextlib

    from infra.local.__main__ import _start_workers, parser
    from infra.local.environment import Endpoints

    started: list[tuple[str, tuple[str, ...]]] = []

    class Recorder:
        def python(self, name: str, module: str, *args: str, **_: object) -> None:
            started.append((name, (module, *args)))

    args = parser().parse_args(["serve", "--api-port", "0", "--api-workers", "1"])
    assert args.queue_processes == 2
    args.queue_processes = 3
    endpoints = Endpoints(api="http://127.0.0.1:0", dynamodb="http://127.0.0.1:1", moto="http://127.0.0.1:2")
    env = {"SLOTWISE_LIVE_ENDPOINT_URL": "http://127.0.0.1:3"}
    with contextlib.ExitStack() as stack:
        _start_workers(stack, Recorder(), args, env, tmp_path / "resources.json", endpoints)  # type: ignore[arg-type]
    names = [name for name, _ in started]
    assert names == ["streams", "queues-0", "queues-1", "queues-2", "api-0"]
    for name, argv in started[1:4]:
        assert argv[argv.index("--role") + 1] == "queues" and argv[argv.index("--name") + 1] == name
