"""`vitals`: each unicorn's latest status, and one message per incident change."""

from __future__ import annotations

import contextvars
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalicelib.adapters.clients import CONCURRENT_CALLS
from chalicelib.adapters.publisher import AlertPublisher
from chalicelib.errors import StoreError
from chalicelib.observability import Metrics, MetricsFactory, no_metrics
from chalicelib.pipeline.batches import batch_item_failures, count_records
from chalicelib.pipeline.events import read_batch
from chalicelib.pipeline.incidents import Kept, Outbox
from chalicelib.pipeline.notifications import Notification
from chalicelib.pipeline.statecache import Remembered, RememberingStore, Turns
from chalicelib.pipeline.timestamps import parse_status_time
from chalicelib.unicorns.alerts import render
from chalicelib.unicorns.records import ArrivalCheck, InvalidRecord, Reading, parse_reading
from chalicelib.unicorns.store import StatusStore
from chalicelib.unicorns.vitals import Status, advance

log = logging.getLogger(__name__)


class VitalsMonitor:
    """`vitals`: latest status per unicorn, and one message per incident change.

    Who sends a message is decided by a conditional write of the unicorn's
    status, with the notification in the item's outbox (`chalicelib.pipeline.incidents`).
    A notification whose publish failed is claimed again once its claim is
    older than twice an invocation's time (at least `claim_seconds`).

    With `turns`, the statuses this environment read and wrote are remembered
    between invocations while it keeps its shard's turn
    (`chalicelib.pipeline.statecache`): a steady fleet's batches then read
    nothing, where each would read every unicorn in it.
    """

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
        turns: Turns | None = None,
    ) -> None:
        self.statuses = RememberingStore(store, turns, key_of=lambda status: status.name)
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
        count_records(metrics, batch, invalid)
        for name in ("StatusReads", "StatusWrites", "AlertsSent", "RecoveriesSent"):
            metrics.count(name, 0)  # present, as zero, in every invocation's line
        if not readings:
            metrics.flush()
            return batch_item_failures(set())
        try:
            statuses = self.statuses.begin(f"vitals {batch.stream_arn} {batch.shard_id}")
        except StoreError as err:
            # Writing without the turn could leave the environment that has it
            # trusting a stale memory (chalicelib/pipeline/statecache.py): retry it all.
            log.error(
                "batch of %s not processed, the shard's turn not taken: %s", batch.shard_id, err
            )
            metrics.flush()
            return batch_item_failures({r.sequence_number for r in batch.records})
        stored = statuses.get_many(readings)
        metrics.count("StatusReads", statuses.read)
        outbox = Outbox(statuses, self.publisher, clock=self.clock)

        def update(name: str) -> str | None:
            try:
                self._update(
                    statuses,
                    outbox,
                    name,
                    readings[name],
                    seen_at[name],
                    stored.get(name),
                    claim,
                    metrics,
                )
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
        statuses: Remembered[Status],
        outbox: Outbox[Status],
        name: str,
        readings: list[Reading],
        seen_at: float,
        kept: Kept[Status] | None,
        claim: float,
        metrics: Metrics,
    ) -> None:
        def decide(previous: Status | None) -> tuple[Status | None, list[Notification]]:
            # From the newest status known, even one held back: a reading older than
            # it is ignored, as it would be had it been written.
            newest = statuses.newest(name, previous)
            status, transitions = advance(newest, readings, self.threshold, seen_at)
            return status, [render(t, self.threshold, self.api_url) for t in transitions]

        def may_wait(previous: Status | None, status: Status) -> bool:
            if not self._recent(previous, status):
                return False
            statuses.hold(name, previous, status)
            return True

        if outbox.update(name, kept, decide, claim=claim, metrics=metrics, may_wait=may_wait):
            metrics.count("StatusWrites")

    def _recent(self, previous: Status | None, status: Status) -> bool:
        """Whether `status` may wait: less than STATUS_INTERVAL newer than what is stored."""
        if self.status_interval <= 0 or previous is None:
            return False
        if status.alerting != previous.alerting or status.low_vitals != previous.low_vitals:
            return False
        gap = parse_status_time(status.status_time) - parse_status_time(previous.status_time)
        return gap.total_seconds() < self.status_interval
