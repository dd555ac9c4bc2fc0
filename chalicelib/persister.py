"""`persist`: summaries from `wildrydes-summary` into `UnicornSensorData`."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from chalicelib.deadletter import DeadLetters
from chalicelib.events import read_batch
from chalicelib.observability import MetricsFactory, no_metrics
from chalicelib.pipeline import batch_item_failures, keep_rejected, rejected_record
from chalicelib.store import SummaryStore
from chalicelib.summaries import InvalidSummary, Summary, SummaryKey, merge, parse_row

log = logging.getLogger(__name__)


class Persister:
    """`persist`: summaries from `wildrydes-summary` into `UnicornSensorData`."""

    def __init__(
        self,
        store: SummaryStore,
        dead_letters: DeadLetters,
        *,
        metrics: MetricsFactory = no_metrics,
    ) -> None:
        self.store = store
        self.dead_letters = dead_letters
        self.metrics = metrics

    def handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        batch = read_batch(event)
        parts: dict[SummaryKey, list[Summary]] = defaultdict(list)
        sequences: dict[SummaryKey, set[str]] = defaultdict(set)
        rejected = []
        for record in batch.records:
            try:
                summary = parse_row(record.data)
            except InvalidSummary as err:
                rejected.append(rejected_record(record, err.reason))
                continue
            parts[summary.key].append(summary)
            sequences[summary.key].add(record.sequence_number)
        if rejected:
            keep_rejected(self.dead_letters, "persist", batch, rejected)
        stored = self.store.get_many(parts)
        changed = []
        for key, incoming in parts.items():
            merged = merge(stored.get(key), incoming)
            if merged is not None:
                changed.append(merged)
        failed = self.store.put_many(changed)
        log.info(
            "persisted %d of %d summaries (%d unchanged, %d failed, %d rejected)",
            len(changed) - len(failed),
            len(parts),
            len(parts) - len(changed),
            len(failed),
            len(rejected),
        )
        metrics = self.metrics("persist")
        metrics.count("SummariesIn", len(batch.records))
        metrics.count("SummariesWritten", len(changed) - len(failed))
        metrics.count("SummariesUnchanged", len(parts) - len(changed))
        metrics.count("SummariesFailed", len(failed))
        metrics.count("SummariesRejected", len(rejected))
        if batch.records:
            metrics.iterator_lag(batch.records[-1].arrival)
        metrics.flush()
        return batch_item_failures({s for key in failed for s in sequences[key]})
