"""`aggregate`: windowed statistics of a stream, per data set, emitted when a window closes.

The envelope is the same for every data set (it is what Lambda's tumbling
windows ask of a function): the window's state comes in and goes out with
each batch, rejected records are dead-lettered before the state is returned
(a retried batch then counts nothing twice), and at the window's end the
rows go to the data set's summary stream. What a data set adds is a
`WindowedDataSet`: how its records fold into the state (its per-record hot
path) and what rows a closed window makes. Unicorn readings are the first
(`chalicelib.unicorns.windows`); taxi trips (`chalicelib.taxi.windows`) the second.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from chalicelib.errors import ConfigurationError
from chalicelib.observability import MetricsFactory, no_metrics
from chalicelib.pipeline.batches import DeadLetterKeeper, count_records, keep_rejected
from chalicelib.pipeline.events import Entry, read_batch
from chalicelib.pipeline.windows import WindowedDataSet

log = logging.getLogger(__name__)


class Emitter(Protocol):
    """Where a closed window's rows go (`chalicelib.adapters.streams.KinesisWriter`)."""

    def put(self, entries: Sequence[Entry]) -> object:
        """Put every entry, in order; DeliveryError if any cannot be."""


class Aggregator:
    """A windowed function over one data set's stream (`aggregate` for the unicorns)."""

    def __init__(
        self,
        emitter: Emitter,
        dead_letters: DeadLetterKeeper,
        *,
        data_set: WindowedDataSet,
        function: str,
        metrics: MetricsFactory = no_metrics,
    ) -> None:
        self.emitter = emitter
        self.dead_letters = dead_letters
        self.metrics = metrics
        self.data_set = data_set
        self.function = function

    def handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        batch = read_batch(event)
        if batch.window is None:
            raise ConfigurationError(
                f"{self.function} needs a tumbling window on its event source mapping "
                "(TumblingWindowInSeconds); see infra/"
            )
        state = self.data_set.state(batch.state)
        rejected = self.data_set.fold(state, batch)
        if rejected:
            # Kept before the state is returned: if keeping fails, the batch is
            # retried with the previous state and nothing is counted twice.
            keep_rejected(self.dead_letters, self.function, batch, rejected)
            state.invalid += len(rejected)
        metrics = self.metrics(self.function)
        count_records(metrics, batch, len(rejected))
        if not batch.final:
            metrics.flush()
            return {"state": state.to_state()}
        closed = self.data_set.close(state, batch.window, batch.shard_id)
        self.emitter.put(closed.rows)
        log.info(
            "window %s of %s closed: %d summaries of %d records, %d rejected",
            closed.first,
            batch.shard_id,
            len(closed.rows),
            closed.records,
            state.invalid,
        )
        metrics.count(f"{self.data_set.metric}Emitted", len(closed.rows))
        metrics.count("WindowsClosed")
        metrics.flush()
        return {"state": {}}
