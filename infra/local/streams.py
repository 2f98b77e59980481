"""The table's stream, delivered to its consumer functions as Lambda's event source mapping would.

DynamoDB Local serves the stream at its own endpoint. For each shard the poller reads records from the start
(TRIM_HORIZON, so nothing written before the poller started is missed), hands batches to the consumer in Lambda's
DynamoDB stream event shape, and on `batchItemFailures` retries from the first failed record; after the spec's
retry limit the batch is described on the stream DLQ (as Lambda's on-failure destination does) and skipped.

A shard's position moves past a record only once it is delivered (or dead-lettered). When the consumer itself
fails (it raised: the event bus is unreachable, say), nothing is dead-lettered: the shard is read again from the
first undelivered sequence number, and the poller backs off (doubling from `BACKOFF_START` to `BACKOFF_CAP`
seconds) until a delivery succeeds, so an outage delays events and loses none.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from infra.local.provision import LocalResources
from infra.local.workers import Invoker, failed_message_ids
from slotwise.settings import get_settings
from slotwise.topology import StreamConsumerSpec, Topology

BACKOFF_START = 0.5
BACKOFF_CAP = 30.0


class ConsumerUnavailable(Exception):
    """The consumer failed as a whole (it raised): the batch stays undelivered, to be read again later."""


def _lambda_record(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if created is not None and hasattr(created, "timestamp"):
        change["ApproximateCreationDateTime"] = created.timestamp()
    return {
        "eventID": record.get("eventID"),
        "eventName": record.get("eventName"),
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": change,
        "eventSourceARN": stream_arn,
    }


class StreamPoller:
    """Reads every shard of the table's stream and invokes the consumer; `poll_once()` drains what is there."""

    def __init__(
        self,
        streams: Any,
        stream_arn: str,
        spec: StreamConsumerSpec,
        invoke: Invoker,
        *,
        region: str = "us-east-1",
        dead_letter: Callable[[str], None] | None = None,
        log: Callable[[str], None] = print,
        backoff_cap: float = BACKOFF_CAP,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._streams = streams
        self._arn = stream_arn
        self._spec = spec
        self._invoke = invoke
        self._region = region
        self._dead_letter = dead_letter
        self._log = log
        self._iterators: dict[str, str | None] = {}
        self._lock = threading.Lock()
        self._backoff_cap = backoff_cap
        self._clock = clock
        self._failures = 0  # consecutive polls whose consumer was unavailable
        self._retry_at = 0.0

    @property
    def backing_off(self) -> bool:
        return self._failures > 0

    def _shards(self) -> list[str]:
        shards = self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"].get("Shards", [])
        return [shard["ShardId"] for shard in shards]

    def _iterator(self, shard_id: str, kind: str, sequence: str | None = None) -> str | None:
        request: dict[str, Any] = {"StreamArn": self._arn, "ShardId": shard_id, "ShardIteratorType": kind}
        if sequence is not None:
            request["SequenceNumber"] = sequence
        found: str | None = self._streams.get_shard_iterator(**request).get("ShardIterator")
        return found

    def poll_once(self) -> int:
        """Deliver every record available now; returns how many records were delivered.

        While backing off after the consumer failed, returns 0 without reading until the back-off has passed."""
        with self._lock:
            if self._failures and self._clock() < self._retry_at:
                return 0
            delivered = 0
            for shard_id in self._shards():
                if shard_id not in self._iterators:
                    self._iterators[shard_id] = self._iterator(shard_id, "TRIM_HORIZON")
                while self._iterators.get(shard_id):
                    iterator = self._iterators[shard_id]
                    page = self._streams.get_records(ShardIterator=iterator, Limit=self._spec.batch_size)
                    records = page.get("Records", [])
                    if not records:
                        self._iterators[shard_id] = page.get("NextShardIterator")
                        break
                    try:
                        self._deliver(shard_id, records)
                    except ConsumerUnavailable as exc:
                        # Checkpoint stays before the first undelivered record: read it again after the back-off.
                        self._iterators[shard_id] = self._iterator(shard_id, "AT_SEQUENCE_NUMBER", str(exc))
                        self._back_off()
                        return delivered
                    self._iterators[shard_id] = page.get("NextShardIterator")
                    delivered += len(records)
            if self._failures:
                self._log(f"stream consumer {self._spec.consumer_group} recovered after {self._failures} failed polls")
            self._failures = 0
            return delivered

    def _back_off(self) -> None:
        self._failures += 1
        delay = min(self._backoff_cap, BACKOFF_START * 2 ** (self._failures - 1))
        self._retry_at = self._clock() + delay
        self._log(f"stream consumer {self._spec.consumer_group} unavailable; retrying in {delay:g}s")

    def _deliver(self, shard_id: str, records: list[dict[str, Any]]) -> None:
        batch = [_lambda_record(r, self._arn, self._region) for r in records]
        for _ in range(self._spec.max_retries + 1):
            try:
                failed = failed_message_ids(self._invoke(self._spec.consumer_group, {"Records": batch}))
            except Exception as exc:
                # Lambda would retry and then dead-letter; locally an outage (the bus down) must not lose records.
                self._log(f"stream consumer {self._spec.consumer_group} failed: {exc!r}")
                raise ConsumerUnavailable(batch[0]["dynamodb"]["SequenceNumber"]) from exc
            if not failed:
                return
            # Lambda retries from the lowest failed sequence number on; the records before it are done.
            first = min(failed, key=int)
            batch = [r for r in batch if int(r["dynamodb"]["SequenceNumber"]) >= int(first)]
        self._log(f"stream batch of {len(batch)} records given up after {self._spec.max_retries} retries")
        if self._dead_letter is not None:
            first_sequence = batch[0]["dynamodb"]["SequenceNumber"]
            last_sequence = batch[-1]["dynamodb"]["SequenceNumber"]
            self._dead_letter(
                json.dumps(
                    {
                        "DDBStreamBatchInfo": {
                            "shardId": shard_id,
                            "startSequenceNumber": first_sequence,
                            "endSequenceNumber": last_sequence,
                            "batchSize": len(batch),
                            "streamArn": self._arn,
                        }
                    }
                )
            )


def stream_pollers(
    topology: Topology,
    resources: LocalResources,
    invoke: Invoker,
    *,
    endpoint: str,
    log: Callable[[str], None] = print,
) -> list[StreamPoller]:
    """One poller per stream consumer of the topology, on the table provisioned in DynamoDB Local."""
    import boto3

    region = get_settings().region
    streams = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name=region)
    table = boto3.client("dynamodb", endpoint_url=endpoint, region_name=region)
    stream_arn = table.describe_table(TableName=resources.table_name)["Table"]["LatestStreamArn"]
    sqs = boto3.client("sqs", region_name=region)
    pollers = []
    for consumer in topology.stream_consumers:
        dlq_url = resources.queue_urls[consumer.dlq_name]

        def dead_letter(body: str, url: str = dlq_url) -> None:
            sqs.send_message(QueueUrl=url, MessageBody=body)

        pollers.append(
            StreamPoller(streams, stream_arn, consumer, invoke, region=region, dead_letter=dead_letter, log=log)
        )
    return pollers
