"""Lambda events built from the producer's fleet model, as a Kinesis mapping delivers them.

The records are what `python -m producer` puts on the stream (the fleet's
readings, encoded by `encode_reading`), wrapped the way the local runtime
wraps them (`local.mapping.lambda_record`): base64 data, sequence numbers,
arrival times a little after each reading's StatusTime.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from chalicelib.pipeline.events import StreamRecord
from chalicelib.pipeline.timestamps import from_epoch
from chalicelib.unicorns.records import Reading, encode_reading
from local.endpoint import ACCOUNT, REGION
from local.mapping import iso, lambda_record
from producer.fleet import Fleet, fleet_names

SHARD_ID = "shardId-000000000000"
STREAM_ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/wildrydes"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/wildrydes-dev-aggregate"
# A sequence number as Kinesis writes them (56 digits); records count up from it.
FIRST_SEQUENCE = 49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898
PUT_DELAY = 0.02  # seconds between a reading's StatusTime and its arrival on the stream


@dataclass(frozen=True)
class Arrived:
    """A reading as it arrived on the stream."""

    reading: Reading
    record: StreamRecord


def fleet_records(
    unicorns: int,
    seconds: float,
    *,
    start: float,
    rate: float = 1.0,
    unwell: int | None = None,
    seed: int = 2026,
) -> list[Arrived]:
    """`seconds` of a fleet of `unicorns` reporting `rate` times a second from `start`.

    As the producer sends them: one tick per report interval, every unicorn's
    reading in the tick, a third of the fleet unwell unless told otherwise.
    """
    sick = max(1, math.ceil(unicorns / 3)) if unwell is None else unwell
    fleet = Fleet(fleet_names(unicorns), random.Random(seed), interval=1 / rate, unwell=sick)
    found: list[Arrived] = []
    for tick in range(round(seconds * rate)):
        wall = start + tick / rate
        for reading in fleet.report(from_epoch(wall)):
            sequence = str(FIRST_SEQUENCE + len(found))
            arrival = wall + PUT_DELAY
            found.append(
                Arrived(
                    reading, StreamRecord(sequence, reading.name, encode_reading(reading), arrival)
                )
            )
    return found


def window_event(
    records: list[StreamRecord], window_start: float, window_seconds: int
) -> dict[str, Any]:
    """A tumbling-window invocation of `aggregate` (not the final one), state empty."""
    return {
        "Records": [lambda_record(r, SHARD_ID, STREAM_ARN, REGION, ROLE_ARN) for r in records],
        "window": {"start": iso(window_start), "end": iso(window_start + window_seconds)},
        "state": {},
        "shardId": SHARD_ID,
        "eventSourceARN": STREAM_ARN,
        "isFinalInvokeForWindow": False,
        "isWindowTerminatedEarly": False,
    }
