"""What the three stream functions share: dead-lettering, counting, partial batch responses.

Each function is a module of its own (`aggregator`, `persister`,
`vitals_monitor`), so that a function's cold start compiles only what it
uses; each class is handed its adapters, so the same code runs in Lambda,
under moto in tests and in the local runtime. `handle` takes the raw event
dictionary and returns what Lambda expects back.
"""

from __future__ import annotations

import logging
from typing import Any

from chalicelib.adapters.deadletter import DeadLetters, Rejected
from chalicelib.observability import Metrics
from chalicelib.pipeline.events import KinesisBatch, StreamRecord

log = logging.getLogger(__name__)


def batch_item_failures(sequence_numbers: set[str]) -> dict[str, Any]:
    """A partial batch response: Lambda retries from the lowest of these."""
    ordered = sorted(sequence_numbers, key=int)
    return {"batchItemFailures": [{"itemIdentifier": s} for s in ordered]}


def keep_rejected(
    dead_letters: DeadLetters, function: str, batch: KinesisBatch, rejected: list[Rejected]
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
