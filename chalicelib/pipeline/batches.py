"""What the stream functions share: rejected records, counting, partial batch responses.

Each function's envelope is a module of its own (`pipeline.aggregator`,
`pipeline.persister`, `unicorns.monitor`), so that a function's cold start
compiles only what it uses; each class is handed its adapters, so the same code runs in Lambda,
under moto in tests and in the local runtime. `handle` takes the raw event
dictionary and returns what Lambda expects back.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.observability import Metrics
from chalicelib.pipeline.events import KinesisBatch, StreamRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rejected:
    """A record that was not processed, and why."""

    sequence_number: str
    partition_key: str
    arrival: float
    reason: str
    data: bytes


class DeadLetterKeeper(Protocol):
    """Where rejected records are kept (`chalicelib.adapters.deadletter.DeadLetters`)."""

    def keep(self, function: str, shard_id: str, rejected: Sequence[Rejected]) -> str:
        """Keep the records; where they are now (an s3:// URI)."""


def batch_item_failures(sequence_numbers: set[str]) -> dict[str, Any]:
    """A partial batch response: Lambda retries from the lowest of these."""
    ordered = sorted(sequence_numbers, key=int)
    return {"batchItemFailures": [{"itemIdentifier": s} for s in ordered]}


def keep_rejected(
    dead_letters: DeadLetterKeeper,
    function: str,
    batch: KinesisBatch,
    rejected: list[Rejected],
) -> None:
    location = dead_letters.keep(function, batch.shard_id, rejected)
    for r in rejected:
        log.warning(
            "%s rejected record %s of %s (key %r): %s; kept in %s",
            function,
            r.sequence_number,
            batch.shard_id,
            r.partition_key[:64],
            r.reason,
            location,
        )


def rejected_record(record: StreamRecord, reason: str) -> Rejected:
    return Rejected(
        record.sequence_number, record.partition_key, record.arrival, reason, record.data
    )


def count_records(metrics: Metrics, batch: KinesisBatch, invalid: int) -> None:
    metrics.count("RecordsIn", len(batch.raw_records))
    metrics.count("InvalidRecords", invalid)
    if batch.raw_records:
        # A shard's records come in the order they arrived: the last is the newest.
        newest = batch.raw_records[-1]["kinesis"]["approximateArrivalTimestamp"]
        metrics.iterator_lag(float(newest))
