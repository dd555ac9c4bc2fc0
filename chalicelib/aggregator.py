"""`aggregate`: windowed statistics of a stream, per data set, emitted when a window closes.

The envelope is the same for every data set (it is what Lambda's tumbling
windows ask of a function): the window's state comes in and goes out with
each batch, rejected records are dead-lettered before the state is returned
(a retried batch then counts nothing twice), and at the window's end the
rows go to the data set's summary stream. What a data set adds is a
`WindowedDataSet`: how its records fold into the state (its per-record hot
path) and what rows a closed window makes. Unicorn readings are the first
(`UNICORN_READINGS`); taxi trips (`chalicelib.trip_windows`) the second.
"""

from __future__ import annotations

import logging
from binascii import a2b_base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.deadletter import DeadLetters, Rejected
from chalicelib.errors import ConfigurationError
from chalicelib.events import KinesisBatch, read_batch, stream_record
from chalicelib.observability import MetricsFactory, no_metrics
from chalicelib.pipeline import count_records, keep_rejected, rejected_record
from chalicelib.records import ArrivalCheck, InvalidRecord, read_fields
from chalicelib.streams import Entry, KinesisWriter
from chalicelib.summaries import encode_row
from chalicelib.timestamps import format_status_time
from chalicelib.windows import Window, WindowState

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


class UnicornReadings:
    """Per-unicorn statistics of `wildrydes`: one summary row per unicorn and window."""

    metric = "Summaries"

    def state(self, saved: Mapping[str, Any] | None) -> WindowState:
        return WindowState.from_state(saved)

    def fold(self, state: WindowState, batch: KinesisBatch) -> list[Rejected]:
        rejected = []
        add = state.add_fields
        check_arrival = ArrivalCheck()
        # The per-record path (make bench measures it): straight from the event's
        # dictionaries, a tuple per reading, a StreamRecord only for a rejected one.
        for raw in batch.raw_records:
            kinesis = raw["kinesis"]
            try:
                fields = read_fields(a2b_base64(kinesis["data"]))
                check_arrival(fields[1], kinesis["approximateArrivalTimestamp"])
            except InvalidRecord as err:
                rejected.append(rejected_record(stream_record(raw), err.reason))
                continue
            add(fields, kinesis["sequenceNumber"])
        return rejected

    def close(self, state: WindowState, window: Window, shard_id: str) -> Closed:
        summaries = state.summaries(window, shard_id)
        return Closed(
            rows=[(encode_row(s), s.name) for s in summaries],
            records=sum(s.samples for s in summaries),
            first=format_status_time(window.start),
        )


UNICORN_READINGS = UnicornReadings()


class Aggregator:
    """A windowed function over one data set's stream (`aggregate` for the unicorns)."""

    def __init__(
        self,
        emitter: KinesisWriter,
        dead_letters: DeadLetters,
        *,
        metrics: MetricsFactory = no_metrics,
        data_set: WindowedDataSet = UNICORN_READINGS,
        function: str = "aggregate",
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
