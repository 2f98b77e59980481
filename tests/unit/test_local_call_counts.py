"""The local runtime's counters for `python -m bench load` (infra.local.call_counts) and its moto server's patches
(infra.local.moto_server): calls are attributed to the invocation that made them, processes' files sum by part,
and moto's memoised JSONPath answers as moto's own parser does."""

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
