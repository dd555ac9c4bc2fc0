"""The Lambda event for a batch of Kinesis records, with tumbling-window keys if present.

Shaped as docs/lambda-kinesis.md ("The event") describes; `read_batch` takes the raw dictionary
(`KinesisEvent.to_dict()` under Chalice) because the window keys are not
exposed by Chalice's event class.
"""

from __future__ import annotations

from binascii import a2b_base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.pipeline.windows import Window

Entry = tuple[bytes, str]  # a record to put on a stream: (data, partition key)


# Not frozen, for the same reason as unicorns.records.Reading: one per record.
@dataclass(slots=True)
class StreamRecord:
    """One Kinesis record as Lambda delivers it, with its data decoded."""

    sequence_number: str
    partition_key: str
    data: bytes
    arrival: float  # approximateArrivalTimestamp, epoch seconds


@dataclass(frozen=True)
class KinesisBatch:
    """One invocation's worth of records from one shard."""

    raw_records: Sequence[Mapping[str, Any]]  # as in the event: see `records`
    shard_id: str
    stream_arn: str
    window: Window | None
    state: Mapping[str, Any] | None
    final: bool

    @cached_property
    def records(self) -> list[StreamRecord]:
        """The records with their data decoded, made on first use.

        `aggregate` reads `raw_records` instead and makes a StreamRecord only
        for a record it rejects: on its hot path the objects cost more than
        the rest of the work on a valid record.
        """
        return [stream_record(r) for r in self.raw_records]


def stream_record(raw: Mapping[str, Any]) -> StreamRecord:
    """One record of the event's `Records`, its data decoded."""
    kinesis = raw["kinesis"]
    return StreamRecord(
        kinesis["sequenceNumber"],
        kinesis["partitionKey"],
        a2b_base64(kinesis["data"]),
        float(kinesis["approximateArrivalTimestamp"]),
    )


def read_batch(event: Mapping[str, Any]) -> KinesisBatch:
    """The batch in a Lambda Kinesis event (plain or tumbling-window)."""
    raw_records = event.get("Records") or []
    shard_id = event.get("shardId")
    if shard_id is None and raw_records:
        shard_id = raw_records[0]["eventID"].split(":", 1)[0]
    stream_arn = event.get("eventSourceARN")
    if stream_arn is None and raw_records:
        stream_arn = raw_records[0]["eventSourceARN"]
    window = event.get("window")
    if window:
        # Only aggregate's events have one: the others never import windows.
        from chalicelib.pipeline.windows import Window
    return KinesisBatch(
        raw_records=raw_records,
        shard_id=shard_id or "unknown-shard",
        stream_arn=stream_arn or "",
        window=Window.from_event(window) if window else None,
        state=event.get("state"),
        final=bool(event.get("isFinalInvokeForWindow")),
    )


def remaining_ms(context: object) -> int | None:
    """The invocation's time left, from a Lambda context (Chalice types it loosely)."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return int(remaining()) if callable(remaining) else None
