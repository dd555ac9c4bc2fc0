"""Reading Kinesis shards in order: the one reader of the local runtime, the Firehose
emulation, the bench and `python -m producer.tail`.

`list_shards` lists a stream's shards, every page of them. A `ShardReader`
follows one shard from a starting position with GetRecords, hands back records
with their data and arrival time, carries on after the last record read when
its iterator expires (they last five minutes), says when a closed shard is
exhausted, and can start after a checkpoint (`after`). `ready_shards` keeps the
rule that a child shard is read only after its parents are done, as Lambda and
Firehose read a resharded stream. What to do about a throttled or failed call is
each caller's: the reader raises botocore's errors as they come.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.pipeline.events import StreamRecord

# GetRecords returns at most this many records a call.
MAX_RECORDS_PER_READ = 10_000


@dataclass(frozen=True)
class Shard:
    """A shard of a stream, the shards it was split or merged from, and whether it is
    closed (split or merged: it takes no more records)."""

    shard_id: str
    parents: tuple[str, ...]
    closed: bool = False

    @classmethod
    def from_listing(cls, entry: dict[str, Any]) -> Shard:
        """The shard as ListShards describes it."""
        parents = tuple(
            p for p in (entry.get("ParentShardId"), entry.get("AdjacentParentShardId")) if p
        )
        closed = "EndingSequenceNumber" in entry.get("SequenceNumberRange", {})
        return cls(entry["ShardId"], parents, closed)


def list_shards(kinesis: Any, stream: str) -> list[Shard]:
    """Every shard of `stream`, open or closed, oldest first."""
    shards: list[Shard] = []
    kwargs: dict[str, Any] = {"StreamName": stream}
    while True:
        page = kinesis.list_shards(**kwargs)
        shards.extend(Shard.from_listing(entry) for entry in page.get("Shards", []))
        token = page.get("NextToken")
        if not token:
            return shards
        kwargs = {"NextToken": token}  # ListShards takes the token alone


def ready_shards(shards: Iterable[Shard], finished: set[str], known: set[str]) -> list[Shard]:
    """Shards that may be read now: not yet started, and every known parent finished.

    A parent that has aged out of the stream (not in `known`) counts as finished.
    """
    return [
        s
        for s in shards
        if s.shard_id not in finished and all(p in finished or p not in known for p in s.parents)
    ]


class ShardReader:
    """One shard, read in order from a starting position or after a checkpoint."""

    def __init__(
        self,
        kinesis: Any,
        stream: str,
        shard_id: str,
        position: str = "TRIM_HORIZON",
        *,
        timestamp: datetime | None = None,
        after: str | None = None,
    ) -> None:
        self.kinesis = kinesis
        self.stream = stream
        self.shard_id = shard_id
        self.position = position
        self.timestamp = timestamp
        self.last_read: str | None = after  # sequence number of the last record handed out
        self.closed = False  # the shard is closed and every record has been read
        self.millis_behind = 0
        self._iterator: str | None = None

    def open(self) -> None:
        """Take the shard iterator now (LATEST means from this moment on)."""
        if self._iterator is None and not self.closed:
            self._iterator = self._new_iterator()

    def read(self, limit: int = MAX_RECORDS_PER_READ) -> list[StreamRecord]:
        """The next records (possibly none), in sequence order."""
        if self.closed:
            return []
        if self._iterator is None:
            self._iterator = self._new_iterator()
        try:
            page = self.kinesis.get_records(ShardIterator=self._iterator, Limit=limit)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") != "ExpiredIteratorException":
                raise
            self._iterator = self._new_iterator()
            page = self.kinesis.get_records(ShardIterator=self._iterator, Limit=limit)
        records = [
            StreamRecord(
                r["SequenceNumber"],
                r["PartitionKey"],
                bytes(r["Data"]),
                r["ApproximateArrivalTimestamp"].timestamp(),
            )
            for r in page["Records"]
        ]
        if records:
            self.last_read = records[-1].sequence_number
        self.millis_behind = int(page.get("MillisBehindLatest", 0))
        self._iterator = page.get("NextShardIterator")
        if self._iterator is None:
            self.closed = True
        return records

    def _new_iterator(self) -> str:
        kwargs: dict[str, Any] = {"StreamName": self.stream, "ShardId": self.shard_id}
        if self.last_read is not None:
            kwargs.update(
                ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                StartingSequenceNumber=self.last_read,
            )
        elif self.position == "AT_TIMESTAMP":
            kwargs.update(ShardIteratorType="AT_TIMESTAMP", Timestamp=self.timestamp)
        else:
            kwargs["ShardIteratorType"] = self.position
        iterator: str = self.kinesis.get_shard_iterator(**kwargs)["ShardIterator"]
        return iterator


def stream_arn(kinesis: Any, stream: str) -> str:
    arn: str = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"][
        "StreamARN"
    ]
    return arn
