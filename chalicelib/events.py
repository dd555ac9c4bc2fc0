"""The Lambda event for a batch of Kinesis records, with tumbling-window keys if present.

Shaped as in REFERENCE.md section 2; `read_batch` takes the raw dictionary
(`KinesisEvent.to_dict()` under Chalice) because the window keys are not
exposed by Chalice's event class.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.windows import Window


# Not frozen, for the same reason as records.Reading: one per record.
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

    records: list[StreamRecord]
    shard_id: str
    stream_arn: str
    window: Window | None
    state: Mapping[str, Any] | None
    final: bool


def read_batch(event: Mapping[str, Any]) -> KinesisBatch:
    """The batch in a Lambda Kinesis event (plain or tumbling-window)."""
    raw_records = event.get("Records") or []
    records = [
        StreamRecord(
            r["kinesis"]["sequenceNumber"],
            r["kinesis"]["partitionKey"],
            base64.b64decode(r["kinesis"]["data"]),
            float(r["kinesis"]["approximateArrivalTimestamp"]),
        )
        for r in raw_records
    ]
    shard_id = event.get("shardId")
    if shard_id is None and raw_records:
        shard_id = raw_records[0]["eventID"].split(":", 1)[0]
    stream_arn = event.get("eventSourceARN")
    if stream_arn is None and raw_records:
        stream_arn = raw_records[0]["eventSourceARN"]
    window = event.get("window")
    return KinesisBatch(
        records=records,
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
