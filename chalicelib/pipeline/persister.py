"""`persist`: rows of a summary stream merged into their table, per data set.

The envelope is the same for every data set: read the batch's rows, dead-letter
the ones that are not rows of the data set, read what is stored under their
keys, merge, write what changed, and answer a partial batch response naming
the rows whose writes failed (Lambda retries from the first). Merging is
idempotent — every row carries the id of the part it is — so a retried batch
writes nothing twice. What a data set adds is a `MergedRows`: how a row is
read off its stream and how the parts of one key combine; its store reads
and writes them. Unicorn summaries are the first (`chalicelib.unicorns.summaries`,
into `UnicornSensorData`); taxi zone windows (`chalicelib.taxi.summaries`, into
`TaxiZoneWindows`) the second. A
data set may also bring a `Watch`, which sees the batch's rows as stored
after the writes (the taxi fare watch raises alerts from them); the rows it
could not finish are retried too.

One key has one writer at a time, which makes read-merge-write safe: each
summary stream is partitioned by the key's first part and Lambda keeps one
batch in flight per shard.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from chalicelib.observability import Metrics, MetricsFactory, no_metrics
from chalicelib.pipeline.batches import (
    DeadLetterKeeper,
    batch_item_failures,
    keep_rejected,
    rejected_record,
)
from chalicelib.pipeline.events import read_batch
from chalicelib.pipeline.jsonrecords import InvalidRecord

log = logging.getLogger(__name__)


class Keyed(Protocol):
    @property
    def key(self) -> Hashable: ...


Row = TypeVar("Row", bound=Keyed)


@dataclass(frozen=True)
class MergedRows(Generic[Row]):
    """A data set's part of `persist`."""

    parse: Callable[[bytes], Row]  # a row off the stream, or InvalidRecord saying why not
    merge: Callable[[Row | None, Iterable[Row]], Row | None]  # None: nothing new
    noun: str = "rows"  # what the log calls them
    metric: str = "Rows"  # what the metric names call them: <metric>In, <metric>Written, …


class Watch(Protocol):
    def observe(self, current: Iterable[Any], metrics: Metrics) -> set[Any]:
        """Look at the rows as stored now; the keys of those it must see again (a retry)."""


class RowStore(Protocol[Row]):
    def get_many(self, keys: Iterable[Any]) -> Mapping[Any, Row]: ...

    def put_many(self, rows: Sequence[Row]) -> list[Any]:
        """Write the rows; the keys of those not written."""


class Persister:
    """A summary stream's rows into their table (`persist` for the unicorns)."""

    def __init__(
        self,
        store: RowStore[Any],
        dead_letters: DeadLetterKeeper,
        *,
        data_set: MergedRows[Any],
        function: str,
        metrics: MetricsFactory = no_metrics,
        watch: Watch | None = None,
    ) -> None:
        self.store = store
        self.dead_letters = dead_letters
        self.metrics = metrics
        self.data_set = data_set
        self.function = function
        self.watch = watch

    def handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        batch = read_batch(event)
        parts: dict[Any, list[Any]] = defaultdict(list)
        sequences: dict[Any, set[str]] = defaultdict(set)
        rejected = []
        parse = self.data_set.parse
        for record in batch.records:
            try:
                row = parse(record.data)
            except InvalidRecord as err:
                rejected.append(rejected_record(record, err.reason))
                continue
            parts[row.key].append(row)
            sequences[row.key].add(record.sequence_number)
        if rejected:
            keep_rejected(self.dead_letters, self.function, batch, rejected)
        stored = self.store.get_many(parts)
        changed = []
        for key, incoming in parts.items():
            merged = self.data_set.merge(stored.get(key), incoming)
            if merged is not None:
                changed.append(merged)
        failed = self.store.put_many(changed)
        metrics = self.metrics(self.function)
        unseen: set[Any] = set()
        if self.watch is not None:
            # Every key of the batch as it stands now, written this time or before
            # (the store was asked for the batch's keys only).
            current = {**stored, **{row.key: row for row in changed}}
            written = [row for key, row in current.items() if key not in failed]
            unseen = self.watch.observe(written, metrics)
        log.info(
            "persisted %d of %d %s (%d unchanged, %d failed, %d rejected)",
            len(changed) - len(failed),
            len(parts),
            self.data_set.noun,
            len(parts) - len(changed),
            len(failed),
            len(rejected),
        )
        rows = self.data_set.metric
        metrics.count(f"{rows}In", len(batch.records))
        metrics.count(f"{rows}Written", len(changed) - len(failed))
        metrics.count(f"{rows}Unchanged", len(parts) - len(changed))
        metrics.count(f"{rows}Failed", len(failed))
        metrics.count(f"{rows}Rejected", len(rejected))
        if batch.records:
            metrics.iterator_lag(batch.records[-1].arrival)
        metrics.flush()
        retry = set(failed) | unseen
        return batch_item_failures({s for key in retry for s in sequences[key]})
