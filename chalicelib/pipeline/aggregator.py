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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.adapters.deadletter import DeadLetters, Rejected
from chalicelib.adapters.streams import Entry, KinesisWriter
from chalicelib.errors import ConfigurationError
from chalicelib.observability import MetricsFactory, no_metrics
from chalicelib.pipeline.batches import count_records, keep_rejected
from chalicelib.pipeline.events import KinesisBatch, read_batch
from chalicelib.pipeline.windows import Window

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Closed:
    """What a closed window makes: rows for the summary stream, and words for the log."""

    rows: list[Entry]
    records: int  # records the rows stand for
    first: str  # what the log line names the window by


class WindowedState(Protocol):
    invalid: int

    def to_state(self) -> dict[str, Any]: ...


class WindowedDataSet(Protocol):
    """A data set's part of `aggregate`."""

    metric: str  # what the metric names call its rows: <metric>Emitted

    def state(self, saved: Mapping[str, Any] | None) -> WindowedState:
        """The window's state from what Lambda passed in (`{}` or None: a new window)."""

    def fold(self, state: Any, batch: KinesisBatch) -> list[Rejected]:
        """Fold the batch's records into `state`; the ones refused, with their reasons."""

    def close(self, state: Any, window: Window, shard_id: str) -> Closed:
        """The rows of a closed window."""


class Aggregator:
    """A windowed function over one data set's stream (`aggregate` for the unicorns)."""

    def __init__(
        self,
        emitter: KinesisWriter,
        dead_letters: DeadLetters,
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
