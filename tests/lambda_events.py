"""Builders for the events Lambda hands a Kinesis-triggered function.

Shaped as docs/lambda-kinesis.md ("The event") describes.
"""

from __future__ import annotations

import base64
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"
DEFAULT_SHARD = "shardId-000000000000"


def stream_arn(stream: str) -> str:
    return f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{stream}"


def kinesis_record(
    data: bytes,
    sequence_number: str,
    partition_key: str,
    arrival: float,
    *,
    shard_id: str = DEFAULT_SHARD,
    stream: str = "wildrydes",
) -> dict[str, Any]:
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": sequence_number,
            "data": base64.b64encode(data).decode(),
            "approximateArrivalTimestamp": arrival,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{sequence_number}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT}:role/wildrydes-dev",
        "awsRegion": REGION,
        "eventSourceARN": stream_arn(stream),
    }


def kinesis_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    """A plain (no tumbling window) batch."""
    return {"Records": records}


def window_event(
    records: list[dict[str, Any]],
    *,
    start: str,
    end: str,
    state: dict[str, Any] | None = None,
    final: bool = False,
    early: bool = False,
    shard_id: str = DEFAULT_SHARD,
    stream: str = "wildrydes",
) -> dict[str, Any]:
    """A batch of a tumbling window; `final` is the record-less closing invocation."""
    return {
        "Records": records,
        "window": {"start": start, "end": end},
        "state": state or {},
        "shardId": shard_id,
        "eventSourceARN": stream_arn(stream),
        "isFinalInvokeForWindow": final,
        "isWindowTerminatedEarly": early,
    }
