"""The replay's stream reader (slotwise.ops.stream) against a stand-in DynamoDB Streams client: paging of shards,
empty pages before records, the end of a closed shard and the tail of an open one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from slotwise.ops import stream

T0 = datetime(2027, 1, 1, tzinfo=UTC)


def record(n: int) -> dict[str, Any]:
    return {
        "eventName": "INSERT",
        "dynamodb": {"SequenceNumber": str(n), "ApproximateCreationDateTime": T0 + timedelta(seconds=n)},
    }


class FakeStreams:
    """Pages per shard: a list of pages, each a list of records; a closed shard's last page has no next iterator,
    an open shard answers empty pages with a next iterator forever after its last page."""

    def __init__(self, pages: dict[str, list[list[dict[str, Any]]]], closed: set[str]) -> None:
        self.pages = pages
        self.closed = closed
        self.calls = 0

    def describe_stream(self, **request: Any) -> dict[str, Any]:
        ids = sorted(self.pages)
        start = request.get("ExclusiveStartShardId")
        rest = [i for i in ids if start is None or i > start]
        page, more = rest[:1], rest[1:]
        shards = [
            {
                "ShardId": i,
                "SequenceNumberRange": {
                    "StartingSequenceNumber": "1",
                    **({"EndingSequenceNumber": "9"} if i in self.closed else {}),
                },
            }
            for i in page
        ]
        return {"StreamDescription": {"Shards": shards, **({"LastEvaluatedShardId": page[0]} if more else {})}}

    def get_shard_iterator(self, **request: Any) -> dict[str, Any]:
        assert request["ShardIteratorType"] == "TRIM_HORIZON"
        return {"ShardIterator": f"{request['ShardId']}:0"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        self.calls += 1
        shard_id, position = ShardIterator.split(":")
        index = int(position)
        pages = self.pages[shard_id]
        found = pages[index] if index < len(pages) else []
        last = index >= len(pages) - 1
        if shard_id in self.closed and last:
            return {"Records": found}
        return {"Records": found, "NextShardIterator": f"{shard_id}:{index + 1}"}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeStreams:
    streams = FakeStreams(
        {
            # closed: an empty page between records, then its end
            "shard-a": [[record(1), record(2)], [], [], [], [record(3)]],
            # open: records, then its tail (empty pages forever)
            "shard-b": [[record(4)], [], [record(5)]],
        },
        closed={"shard-a"},
    )
    monkeypatch.setattr(stream.aws, "dynamodb_streams", lambda: streams)
    return streams


def test_every_shard_is_listed_page_by_page(fake: FakeStreams) -> None:
    assert stream.shards("arn") == [stream.Shard("shard-a", closed=True), stream.Shard("shard-b", closed=False)]


def test_a_closed_shard_is_read_to_its_end_past_empty_pages(fake: FakeStreams) -> None:
    found = list(stream.records("arn", stream.Shard("shard-a", closed=True), until=T0 + timedelta(days=1)))
    assert [r["dynamodb"]["SequenceNumber"] for r in found] == ["1", "2", "3"]


def test_an_open_shard_is_read_to_its_tail_and_stops(fake: FakeStreams) -> None:
    found = list(stream.records("arn", stream.Shard("shard-b", closed=False), until=T0 + timedelta(days=1)))
    assert [r["dynamodb"]["SequenceNumber"] for r in found] == ["4", "5"]
    assert fake.calls < 10  # it stopped at the tail


def test_reading_stops_at_the_first_record_after_the_window(fake: FakeStreams) -> None:
    found = list(stream.records("arn", stream.Shard("shard-a", closed=True), until=T0 + timedelta(seconds=1)))
    assert [r["dynamodb"]["SequenceNumber"] for r in found] == ["1"]
    assert fake.calls == 1
