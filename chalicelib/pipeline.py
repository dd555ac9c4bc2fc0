"""The three stream functions: what each does with one Lambda event.

Each class is handed its adapters, so the same code runs in Lambda, under
moto in tests and in the local runtime. `handle` takes the raw event
dictionary and returns what Lambda expects back.
"""

from __future__ import annotations

import contextvars
import logging
import time
from binascii import a2b_base64
from collections import defaultdict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalicelib.alerts import render
from chalicelib.clients import CONCURRENT_CALLS
from chalicelib.deadletter import DeadLetters, Rejected
from chalicelib.errors import ConfigurationError, PublishError, StoreError
from chalicelib.events import KinesisBatch, StreamRecord, read_batch, stream_record
from chalicelib.observability import Metrics, MetricsFactory, no_metrics
from chalicelib.publisher import AlertPublisher
from chalicelib.records import ArrivalCheck, InvalidRecord, Reading, parse_reading, read_fields
from chalicelib.store import Pending, StatusRecord, StatusStore, SummaryStore
from chalicelib.streams import KinesisWriter
from chalicelib.summaries import InvalidSummary, Summary, SummaryKey, encode_row, merge, parse_row
from chalicelib.timestamps import parse_status_time
from chalicelib.vitals import Status, advance
from chalicelib.windows import WindowState

log = logging.getLogger(__name__)


def batch_item_failures(sequence_numbers: set[str]) -> dict[str, Any]:
    """A partial batch response: Lambda retries from the lowest of these."""
    ordered = sorted(sequence_numbers, key=int)
    return {"batchItemFailures": [{"itemIdentifier": s} for s in ordered]}


def _keep_rejected(
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


def _rejected(record: StreamRecord, reason: str) -> Rejected:
    return Rejected(
        record.sequence_number, record.partition_key, record.arrival, reason, record.data
    )


def _count_records(metrics: Metrics, batch: KinesisBatch, invalid: int) -> None:
    metrics.count("RecordsIn", len(batch.raw_records))
    metrics.count("InvalidRecords", invalid)
    if batch.raw_records:
        # A shard's records come in the order they arrived: the last is the newest.
        newest = batch.raw_records[-1]["kinesis"]["approximateArrivalTimestamp"]
        metrics.iterator_lag(float(newest))


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
                rejected.append(_rejected(stream_record(raw), err.reason))
                continue
            add(fields, kinesis["sequenceNumber"])
        if rejected:
            # Kept before the state is returned: if keeping fails, the batch is
            # retried with the previous state and nothing is counted twice.
            _keep_rejected(self.dead_letters, "aggregate", batch, rejected)
            state.invalid += len(rejected)
        metrics = self.metrics("aggregate")
        _count_records(metrics, batch, len(rejected))
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
                rejected.append(_rejected(record, err.reason))
                continue
            parts[summary.key].append(summary)
            sequences[summary.key].add(record.sequence_number)
        if rejected:
            _keep_rejected(self.dead_letters, "persist", batch, rejected)
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


class VitalsMonitor:
    """`vitals`: latest status per unicorn, and one message per incident change.

    Who sends a message is decided by a conditional write of the unicorn's
    status: the notification is written into the status item's outbox in the
    same write that opens or closes the incident, then published, then removed
    from the outbox. A writer that loses the race re-reads and finds the
    incident already changed. A notification whose publish failed stays in the
    outbox; once its claim is older than twice an invocation's time (at least
    `claim_seconds`), the next write for that unicorn claims and sends it.
    """

    RACE_ATTEMPTS = 5
    # Unicorns whose status is written at the same time. One PutItem is a
    # round trip of a few milliseconds; one after another, a shard of 1,000
    # unicorns a second would need more than a second per second of records
    # (`make plan` shows the limit). Within the clients' connection pool.
    WRITERS = CONCURRENT_CALLS

    def __init__(
        self,
        store: StatusStore,
        publisher: AlertPublisher,
        threshold: int,
        api_url: str | None,
        *,
        clock: Callable[[], float] = time.time,
        claim_seconds: float = 120.0,
        metrics: MetricsFactory = no_metrics,
        writers: int = CONCURRENT_CALLS,
        status_interval: float = 0.0,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.writers = writers
        self.status_interval = status_interval
        self.threshold = threshold
        self.api_url = api_url
        self.clock = clock
        self.claim_seconds = claim_seconds
        self.metrics = metrics

    def handle(self, event: Mapping[str, Any], remaining_ms: int | None = None) -> dict[str, Any]:
        """Process one batch; `remaining_ms` is the invocation's time left at its start."""
        batch = read_batch(event)
        # A claim must outlast any invocation that may still be sending: twice
        # this one's time, however long the function's timeout is set.
        claim = max(self.claim_seconds, 2 * (remaining_ms or 0) / 1000)
        readings: dict[str, list[Reading]] = defaultdict(list)
        sequences: dict[str, set[str]] = defaultdict(set)
        seen_at: dict[str, float] = {}
        invalid = 0
        check_arrival = ArrivalCheck()
        for record in batch.records:
            try:
                reading = parse_reading(record.data)
                check_arrival(reading.status_time, record.arrival)
            except InvalidRecord:
                invalid += 1  # aggregate keeps and reports rejected records
                continue
            readings[reading.name].append(reading)
            sequences[reading.name].add(record.sequence_number)
            seen_at[reading.name] = max(record.arrival, seen_at.get(reading.name, 0.0))
        metrics = self.metrics("vitals")
        _count_records(metrics, batch, invalid)
        for name in ("StatusWrites", "AlertsSent", "RecoveriesSent"):
            metrics.count(name, 0)  # present, as zero, in every invocation's line
        stored = self.store.get_many(readings)

        def update(name: str) -> str | None:
            try:
                self._update(name, readings[name], seen_at[name], stored.get(name), claim, metrics)
            except StoreError as err:
                log.error("status of %r not updated: %s", name, err)
                return name
            return None

        failed: set[str] = set()
        for unwritten in self._each(update, list(readings)):
            if unwritten is not None:
                failed |= sequences[unwritten]
        if invalid:
            log.info("vitals skipped %d invalid records of %s", invalid, batch.shard_id)
        metrics.flush()
        return batch_item_failures(failed)

    def _each(self, update: Callable[[str], str | None], names: list[str]) -> list[str | None]:
        """`update` for each unicorn: one after another, or `writers` at a time.

        Unicorns are independent (each has its own item, its own race and its
        own outbox), so their writes may overlap; one unicorn's stay in order.
        Each thread runs in a copy of the invocation's context (request id).
        """
        if self.writers <= 1 or len(names) <= 1:
            return [update(name) for name in names]
        with ThreadPoolExecutor(max_workers=min(self.writers, len(names))) as pool:
            runs = [pool.submit(contextvars.copy_context().run, update, n) for n in names]
            return [run.result() for run in runs]

    def _update(
        self,
        name: str,
        readings: list[Reading],
        seen_at: float,
        record: StatusRecord | None,
        claim: float,
        metrics: Metrics,
    ) -> None:
        for _ in range(self.RACE_ATTEMPTS):
            now = self.clock()
            previous = record.status if record else None
            status, transitions = advance(previous, readings, self.threshold, seen_at)
            outbox = dict(record.outbox) if record else {}
            owned = []
            for pending_id, pending in outbox.items():
                if pending.claimed_at + claim <= now:
                    outbox[pending_id] = Pending(pending.notification, now)
                    owned.append(pending_id)
            for transition in transitions:
                notification = render(transition, self.threshold, self.api_url)
                outbox[notification.id] = Pending(notification, now)
                owned.append(notification.id)
            new_status = status or previous
            if new_status is None or (status is None and not owned):
                return  # nothing newer than what is stored, nothing to send
            if not owned and self._recent(previous, status):
                return  # no incident change, and the stored status is recent enough
            if self.store.save(new_status, outbox, record.version if record else None):
                metrics.count("StatusWrites")
                self._deliver(name, [outbox[i] for i in owned], metrics)
                return
            record = self.store.get(name)  # another writer won: decide again
        raise StoreError(f"status of {name!r} kept changing during {self.RACE_ATTEMPTS} attempts")

    def _recent(self, previous: Status | None, status: Status | None) -> bool:
        """Whether `status` may wait: less than STATUS_INTERVAL newer than what is stored."""
        if self.status_interval <= 0 or previous is None or status is None:
            return False
        if status.alerting != previous.alerting or status.low_vitals != previous.low_vitals:
            return False
        gap = parse_status_time(status.status_time) - parse_status_time(previous.status_time)
        return gap.total_seconds() < self.status_interval

    def _deliver(self, name: str, pending: list[Pending], metrics: Metrics) -> None:
        delivered = []
        for item in sorted(pending, key=lambda p: (p.notification.at, p.notification.kind)):
            notification = item.notification
            try:
                self.publisher.publish(notification)
            except PublishError as err:
                log.error("%s not sent, will retry later: %s", notification.id, err)
                continue
            log.info("sent %s: %s", notification.kind, notification.subject)
            metrics.count("AlertsSent" if notification.kind == "alert" else "RecoveriesSent")
            delivered.append(notification.id)
        if delivered:
            self.store.remove_from_outbox(name, delivered)
