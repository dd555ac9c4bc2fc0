"""`aggregate`: per-unicorn statistics over tumbling windows of `wildrydes`, as summaries."""

from __future__ import annotations

import logging
from binascii import a2b_base64
from collections.abc import Mapping
from typing import Any

from chalicelib.deadletter import DeadLetters
from chalicelib.errors import ConfigurationError
from chalicelib.events import read_batch, stream_record
from chalicelib.observability import MetricsFactory, no_metrics
from chalicelib.pipeline import count_records, keep_rejected, rejected_record
from chalicelib.records import ArrivalCheck, InvalidRecord, read_fields
from chalicelib.streams import KinesisWriter
from chalicelib.summaries import encode_row
from chalicelib.windows import WindowState

log = logging.getLogger(__name__)


class Aggregator:
    """`aggregate`: per-unicorn statistics over tumbling windows of `wildrydes`."""

    def __init__(
        self,
        emitter: KinesisWriter,
        dead_letters: DeadLetters,
        *,
        metrics: MetricsFactory = no_metrics,
    ) -> None:
        self.emitter = emitter
        self.dead_letters = dead_letters
        self.metrics = metrics

    def handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        batch = read_batch(event)
        if batch.window is None:
            raise ConfigurationError(
                "aggregate needs a tumbling window on its event source mapping "
                "(TumblingWindowInSeconds); see infra/"
            )
        state = WindowState.from_state(batch.state)
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
        if rejected:
            # Kept before the state is returned: if keeping fails, the batch is
            # retried with the previous state and nothing is counted twice.
            keep_rejected(self.dead_letters, "aggregate", batch, rejected)
            state.invalid += len(rejected)
        metrics = self.metrics("aggregate")
        count_records(metrics, batch, len(rejected))
        if not batch.final:
            metrics.flush()
            return {"state": state.to_state()}
        summaries = state.summaries(batch.window, batch.shard_id)
        self.emitter.put([(encode_row(s), s.name) for s in summaries])
        log.info(
            "window %s of %s closed: %d summaries of %d records, %d rejected",
            summaries[0].status_time if summaries else batch.window.start.isoformat(),
            batch.shard_id,
            len(summaries),
            sum(s.samples for s in summaries),
            state.invalid,
        )
        metrics.count("SummariesEmitted", len(summaries))
        metrics.count("WindowsClosed")
        metrics.flush()
        return {"state": {}}
