"""Kinesis event-source mappings with Lambda's semantics (docs/lambda-kinesis.md), locally.

A `ShardPoller` is one shard of one mapping: it reads the shard in order,
forms batches (batch size, batching window, 6 MB payload), invokes the
function with one batch in flight, and checkpoints only what succeeded. On a
function error it bisects the batch (if enabled) or retries it with backoff
until the retry attempts or the record age run out; then it describes the
batch on the on-failure destination and moves on. With partial batch
responses it checkpoints below the lowest reported failure. With a tumbling
window it cuts the shard's records into windows by arrival time, carries the
`state` each invocation returns to the next, ends each window with a
record-less final invocation, which blocks the shard until it succeeds, and
ends a window early when its state passes 1 MB.

A `Mapping` holds a mapping's pollers, one per shard, found with ListShards;
a child shard starts only when its parents are done.
"""

from __future__ import annotations

import base64
import json
import logging
import math
from collections import deque
from collections.abc import Callable
from collections.abc import Mapping as MappingType
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.pipeline.events import StreamRecord
from chalicelib.pipeline.timestamps import from_epoch
from infra.event_sources import REPORT_BATCH_ITEM_FAILURES

if TYPE_CHECKING:
    from infra.event_sources import KinesisMapping  # imports the app: for annotations only
from local.checkpoints import CheckpointStore
from local.invoke import FunctionSpec, Invoker, Outcome
from local.shards import Shard, ShardReader, list_shards, ready_shards

log = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # Lambda's synchronous invocation payload limit
MAX_STATE_BYTES = 1024 * 1024  # a window's state per shard
READ_INTERVAL = 0.25  # seconds between reads of an idle shard
WINDOW_GRACE = 0.2  # seconds after a window's end before it is closed (records in flight)
DISCOVERY_INTERVAL = 10.0  # seconds between ListShards calls


@dataclass(frozen=True)
class MappingSettings:
    """One event-source mapping: what Chalice's decorator says and what infra adds."""

    function: str
    stream: str
    batch_size: int = 100
    starting_position: str = "LATEST"
    batching_window: float = 0.0
    tumbling_window: int = 0  # seconds; 0 is no window
    bisect: bool = False
    max_retries: int = -1  # -1: until the records expire
    max_record_age: int = -1  # seconds; -1: forever
    report_failures: bool = False
    on_failure: str | None = None  # SQS queue ARN
    retry_base: float = 1.0  # seconds before the first retry; doubles up to retry_cap
    retry_cap: float = 30.0

    @classmethod
    def from_definitions(cls, mapping: KinesisMapping, **overrides: Any) -> MappingSettings:
        """From infra's complete description of the mapping (decorator, defaults, stage)."""
        trigger, settings = mapping.trigger, mapping.properties
        if settings.get("ParallelizationFactor", 1) != 1:
            log.warning("%s: ParallelizationFactor is run as 1 locally", trigger.function)
        destination = settings.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        return cls(
            function=trigger.function,
            stream=trigger.stream,
            batch_size=trigger.batch_size,
            starting_position=trigger.starting_position,
            batching_window=float(trigger.maximum_batching_window_in_seconds or 0),
            tumbling_window=int(settings.get("TumblingWindowInSeconds", 0)),
            bisect=bool(settings.get("BisectBatchOnFunctionError", False)),
            max_retries=int(settings.get("MaximumRetryAttempts", -1)),
            max_record_age=int(settings.get("MaximumRecordAgeInSeconds", -1)),
            report_failures=REPORT_BATCH_ITEM_FAILURES
            in settings.get("FunctionResponseTypes", []),
            on_failure=destination,
            **overrides,
        )


class RecordSource(Protocol):
    """A shard's records in order (ShardReader, or a list in tests)."""

    shard_id: str
    closed: bool

    def read(self, limit: int = ...) -> list[StreamRecord]: ...


class FailureDestination(Protocol):
    """Where a discarded batch is described (an SQS queue)."""

    def send(self, record: dict[str, Any]) -> None: ...


class SqsDestination:
    """Sends on-failure records to an SQS queue given by ARN, with `sqs` (Lambda sends with
    the function's role); `lookup`, if given, finds the queue's URL (Lambda's own doing,
    which the role is not asked for)."""

    def __init__(self, sqs: Any, queue_arn: str, *, lookup: Any | None = None) -> None:
        _, _, _, _, account, name = queue_arn.split(":", 5)
        self.sqs = sqs
        found = (lookup or sqs).get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)
        self.url = found["QueueUrl"]

    def send(self, record: dict[str, Any]) -> None:
        self.sqs.send_message(QueueUrl=self.url, MessageBody=json.dumps(record))


def lambda_record(
    record: StreamRecord, shard_id: str, stream_arn: str, region: str, role_arn: str
) -> dict[str, Any]:
    """A Kinesis record as it appears in a Lambda event (docs/lambda-kinesis.md, "The event")."""
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record.partition_key,
            "sequenceNumber": record.sequence_number,
            "data": base64.b64encode(record.data).decode("ascii"),
            "approximateArrivalTimestamp": record.arrival,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{record.sequence_number}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": role_arn,
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }


def iso(seconds: float) -> str:
    """Epoch seconds as the ISO 8601 text Lambda puts in window bounds."""
    return from_epoch(seconds).strftime("%Y-%m-%dT%H:%M:%SZ")


def failure_record(
    *,
    spec: FunctionSpec,
    condition: str,
    batch: list[StreamRecord],
    shard_id: str,
    stream_arn: str,
    attempts: int,
    outcome: Outcome | None,
    now: float,
) -> dict[str, Any]:
    """The invocation record Lambda sends to an on-failure destination for a discarded batch."""
    return {
        "requestContext": {
            "requestId": outcome.request_id if outcome else "",
            "functionArn": spec.arn,
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": (outcome.error or "Unhandled") if outcome else "Unhandled",
        },
        "version": "1.0",
        "timestamp": datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds"),
        "KinesisBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": batch[0].sequence_number,
            "endSequenceNumber": batch[-1].sequence_number,
            "approximateArrivalOfFirstRecord": iso_ms(batch[0].arrival),
            "approximateArrivalOfLastRecord": iso_ms(batch[-1].arrival),
            "batchSize": len(batch),
            "streamArn": stream_arn,
        },
    }


def iso_ms(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")


@dataclass
class PollerStats:
    """What a shard poller has done."""

    records: int = 0  # records the function processed successfully
    invocations: int = 0
    errors: int = 0  # failed invocations
    retries: int = 0
    discarded: int = 0  # records given up on and described on the on-failure destination
    windows: int = 0  # windows closed by a successful final invocation


class ShardPoller:
    """One shard of one mapping."""

    def __init__(
        self,
        settings: MappingSettings,
        spec: FunctionSpec,
        source: RecordSource,
        invoker: Invoker,
        *,
        stream_arn: str,
        region: str,
        destination: FailureDestination | None = None,
    ) -> None:
        self.settings = settings
        self.spec = spec
        self.source = source
        self.invoker = invoker
        self.stream_arn = stream_arn
        self.region = region
        self.destination = destination
        self.stats = PollerStats()
        self.pending: list[StreamRecord] = []  # read and not yet done, in order
        self.first_read_at = 0.0  # when the oldest pending record was read
        self.work: deque[list[StreamRecord]] = deque()  # batches formed, front first
        self.attempts = 0  # failed attempts of work[0], or of the final invocation
        self.retry_at = 0.0
        self.read_at = 0.0  # next read of the shard
        self.last_read_at = -math.inf
        self.checkpoint: str | None = None  # last sequence number done with
        self.did_work = False
        # Tumbling windows
        self.window: float | None = None  # start of the open window
        self.state: dict[str, Any] = {}
        self.final_due = False
        self.terminated_early = False

    @property
    def shard_id(self) -> str:
        return self.source.shard_id

    def snapshot(self) -> dict[str, Any]:
        """What must survive a restart: the checkpoint and, with a window, its state."""
        return {
            "sequence": self.checkpoint,
            "window": self.window,
            "state": self.state,
            "final_due": self.final_due,
            "terminated_early": self.terminated_early,
        }

    def restore(self, saved: MappingType[str, Any]) -> None:
        """Carry on from a snapshot (the source reads after its sequence number)."""
        self.checkpoint = saved.get("sequence")
        if self.settings.tumbling_window:
            self.window = saved.get("window")
            self.state = dict(saved.get("state") or {})
            self.final_due = bool(saved.get("final_due"))
            self.terminated_early = bool(saved.get("terminated_early"))

    @property
    def finished(self) -> bool:
        """The shard is closed and everything in it is done."""
        return self.source.closed and self.idle

    @property
    def idle(self) -> bool:
        return not self.pending and not self.work and self.window is None and not self.final_due

    def lag(self, now: float) -> float:
        """Seconds since the oldest record not yet done arrived."""
        return now - self.pending[0].arrival if self.pending else 0.0

    def poll(self, now: float) -> float:
        """Do what is due; returns when to poll again."""
        self.did_work = False
        if now < self.retry_at:
            return self.retry_at
        self._read(now)
        due = self._windowed(now) if self.settings.tumbling_window else self._plain(now)
        return min(due, self.read_at) if not self.source.closed else due

    # Reading

    def _read(self, now: float) -> None:
        if self.source.closed or now < self.read_at:
            return
        if len(self.pending) >= self.settings.batch_size and not self.settings.tumbling_window:
            return
        records = self.source.read()
        self.last_read_at = now
        if records:
            if not self.pending:
                self.first_read_at = now
            self.pending.extend(records)
            self.read_at = now
            self.did_work = True
        else:
            self.read_at = now + READ_INTERVAL

    # Plain mappings

    def _plain(self, now: float) -> float:
        if not self.work:
            if not self.pending:
                return self.read_at
            waited = now - self.first_read_at
            if (
                len(self.pending) < self.settings.batch_size
                and waited < self.settings.batching_window
                and not self.source.closed
            ):
                return self.first_read_at + self.settings.batching_window
            self.work.append(self._take(self.pending))
        batch = self.work[0]
        outcome = self._invoke(self._event(batch))
        self._judge(batch, outcome, now)
        return now

    def _take(self, records: list[StreamRecord]) -> list[StreamRecord]:
        """The next batch from the front of `records`: batch size and payload limit."""
        batch: list[StreamRecord] = []
        size = 0
        for record in records[: self.settings.batch_size]:
            # base64 inflates data by 4/3; the rest of the record is about 600 bytes.
            record_size = len(record.data) * 4 // 3 + 600
            if batch and size + record_size > MAX_PAYLOAD_BYTES:
                break
            batch.append(record)
            size += record_size
        return batch

    def _event(self, batch: list[StreamRecord]) -> dict[str, Any]:
        return {
            "Records": [
                lambda_record(r, self.shard_id, self.stream_arn, self.region, self.spec.role_arn)
                for r in batch
            ]
        }

    def _invoke(self, event: dict[str, Any]) -> Outcome:
        self.did_work = True
        self.stats.invocations += 1
        outcome = self.invoker.invoke(self.spec, event)
        if not outcome.ok:
            self.stats.errors += 1
        return outcome

    def _judge(self, batch: list[StreamRecord], outcome: Outcome, now: float) -> None:
        """Checkpoint what succeeded; retry, bisect or discard what failed.

        `batch` is `work[0]`. With a partial batch response, the records before
        the lowest failure are done and the rest, now `work[0]`, is retried as
        it is: Lambda splits at the reported record rather than bisecting.
        """
        failed_from = self._failed_from(batch, outcome)
        if failed_from is None:
            self._done(batch)
            return
        if failed_from > 0:
            self._done(batch[:failed_from])  # leaves the rest as work[0]
        self._failed(self.work[0], outcome, now, bisect=not outcome.ok)

    def _failed_from(self, batch: list[StreamRecord], outcome: Outcome) -> int | None:
        """Index of the first record to retry, or None when the whole batch succeeded."""
        if not outcome.ok:
            return 0
        if not self.settings.report_failures:
            return None
        payload = outcome.payload
        failures = payload.get("batchItemFailures") if isinstance(payload, dict) else None
        if not failures:
            return None
        positions = {r.sequence_number: i for i, r in enumerate(batch)}
        found = []
        for failure in failures:
            identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if identifier not in positions:
                log.warning(
                    "%s: batchItemFailures names %r, not in the batch: the whole batch failed",
                    self.spec.deployed_name,
                    identifier,
                )
                return 0
            found.append(positions[identifier])
        return min(found)

    def _done(self, batch: list[StreamRecord]) -> None:
        if self.work and self.work[0] is batch:
            self.work.popleft()
        elif self.work and self.work[0][: len(batch)] == batch:
            self.work[0] = self.work[0][len(batch) :]
            if not self.work[0]:
                self.work.popleft()
        del self.pending[: len(batch)]
        self.checkpoint = batch[-1].sequence_number
        self.stats.records += len(batch)
        self.attempts = 0

    def _failed(
        self, batch: list[StreamRecord], outcome: Outcome | None, now: float, bisect: bool = True
    ) -> None:
        settings = self.settings
        self.attempts += 1  # failed invocations of this batch
        age = now - batch[0].arrival
        if settings.max_record_age != -1 and age > settings.max_record_age:
            self._discard(batch, "RecordAgeExceeded", outcome, now)
        elif bisect and settings.bisect and len(batch) > 1:
            # Each half is retried on its own; splitting does not use up attempts.
            half = len(batch) // 2
            self.work.popleft()
            self.work.appendleft(batch[half:])
            self.work.appendleft(batch[:half])
            self.attempts = 0
        elif settings.max_retries != -1 and self.attempts > settings.max_retries:
            self._discard(batch, "RetryAttemptsExhausted", outcome, now)
        else:
            self.stats.retries += 1
            self.retry_at = now + self._backoff()

    def _backoff(self) -> float:
        return float(
            min(self.settings.retry_cap, self.settings.retry_base * 2 ** (self.attempts - 1))
        )

    def _discard(
        self, batch: list[StreamRecord], condition: str, outcome: Outcome | None, now: float
    ) -> None:
        if self.destination is not None:
            record = failure_record(
                spec=self.spec,
                condition=condition,
                batch=batch,
                shard_id=self.shard_id,
                stream_arn=self.stream_arn,
                attempts=self.attempts,
                outcome=outcome,
                now=now,
            )
            self.destination.send(record)
        log.warning(
            "%s: gave up on %d records of %s (%s..%s): %s",
            self.spec.deployed_name,
            len(batch),
            self.shard_id,
            batch[0].sequence_number,
            batch[-1].sequence_number,
            condition,
        )
        self.work.popleft()
        del self.pending[: len(batch)]
        self.checkpoint = batch[-1].sequence_number
        self.stats.discarded += len(batch)
        self.attempts = 0

    # Tumbling windows

    def _window_of(self, record: StreamRecord) -> float:
        size = self.settings.tumbling_window
        return float(math.floor(record.arrival / size) * size)

    def _windowed(self, now: float) -> float:
        size = self.settings.tumbling_window
        if self.final_due:
            self._final(now)
            return now
        if self.work:
            self._window_batch(self.work[0], now)
            return now
        if self.window is None:
            if not self.pending:
                return self.read_at
            self.window = self._window_of(self.pending[0])
            self.state = {}
        end = self.window + size
        in_window = 0
        while in_window < len(self.pending) and self.pending[in_window].arrival < end:
            in_window += 1
        if in_window == 0:
            # The window is over once a record of a later window has arrived, or its
            # end has passed and a read after that found nothing more for it.
            if self.pending or (
                now >= end + WINDOW_GRACE and self.last_read_at >= end + WINDOW_GRACE
            ):
                self.final_due = True
                self._final(now)
                return now
            return min(end + WINDOW_GRACE, self.read_at)
        complete = in_window < len(self.pending) or now >= end + WINDOW_GRACE
        waited = now - self.first_read_at
        if (
            in_window < self.settings.batch_size
            and waited < self.settings.batching_window
            and not complete
        ):
            return min(self.first_read_at + self.settings.batching_window, end + WINDOW_GRACE)
        batch = self._take(self.pending[:in_window])
        self.work.append(batch)
        self._window_batch(batch, now)
        return now

    def _window_event(self, batch: list[StreamRecord], final: bool) -> dict[str, Any]:
        assert self.window is not None
        event = self._event(batch)
        event.update(
            {
                "window": {
                    "start": iso(self.window),
                    "end": iso(self.window + self.settings.tumbling_window),
                },
                "state": self.state,
                "shardId": self.shard_id,
                "eventSourceARN": self.stream_arn,
                "isFinalInvokeForWindow": final,
                "isWindowTerminatedEarly": final and self.terminated_early,
            }
        )
        return event

    def _window_batch(self, batch: list[StreamRecord], now: float) -> None:
        outcome = self._invoke(self._window_event(batch, final=False))
        state = _state(outcome)
        if state is None:
            if outcome.ok:
                outcome = Outcome(
                    outcome.request_id,
                    outcome.payload,
                    "the response has no state object: a tumbling-window function must "
                    'return {"state": {...}}',
                    outcome.duration,
                )
                self.stats.errors += 1
                log.error("%s %s: %s", self.spec.deployed_name, outcome.request_id, outcome.error)
            self._failed(batch, outcome, now)
            return
        self.state = state
        self._judge(batch, outcome, now)
        if len(json.dumps(self.state)) > MAX_STATE_BYTES:
            self.final_due = True
            self.terminated_early = True

    def _final(self, now: float) -> None:
        outcome = self._invoke(self._window_event([], final=True))
        if _state(outcome) is None:
            # A failed final invocation holds the shard until it succeeds.
            self.attempts += 1
            self.stats.retries += 1
            self.retry_at = now + self._backoff()
            log.error(
                "%s: final invocation of window %s on %s failed (attempt %d): %s",
                self.spec.deployed_name,
                iso(self.window or 0),
                self.shard_id,
                self.attempts,
                outcome.error or "no state in the response",
            )
            return
        self.stats.windows += 1
        self.attempts = 0
        self.final_due = False
        self.state = {}
        early = self.terminated_early
        self.terminated_early = False
        if not early:
            self.window = None
        # After an early end the window carries on with a fresh state.


def _state(outcome: Outcome) -> dict[str, Any] | None:
    if not outcome.ok or not isinstance(outcome.payload, dict):
        return None
    state = outcome.payload.get("state")
    return state if isinstance(state, dict) else None


class EventSourceMapping:
    """All shards of one mapping, discovered as the stream changes."""

    def __init__(
        self,
        settings: MappingSettings,
        spec: FunctionSpec,
        kinesis: Any,
        invoker: Invoker,
        *,
        stream_arn: str,
        region: str,
        destination: FailureDestination | None = None,
        reader: Callable[[Shard], RecordSource] | None = None,
        checkpoints: CheckpointStore | None = None,
    ) -> None:
        self.name = f"{settings.function} ← {settings.stream}"
        self.settings = settings
        self.spec = spec
        self.kinesis = kinesis
        self.invoker = invoker
        self.stream_arn = stream_arn
        self.region = region
        self.destination = destination
        self.reader = reader or self._kinesis_reader
        self.pollers: dict[str, ShardPoller] = {}
        self.finished: set[str] = set()
        self.retired = PollerStats()  # of pollers whose shard is finished
        self.discover_at = 0.0
        self.started = False
        self.checkpoints = checkpoints
        self.started_at = 0.0  # when the mapping first started reading (LATEST's moment)
        self.resumed = False  # started again from saved checkpoints
        self._saved: dict[str, Any] = {}  # shard id -> snapshot, from the last run
        self._written = ""  # the last document saved
        if settings.starting_position not in ("LATEST", "TRIM_HORIZON"):
            raise ValueError(
                f"{settings.function}: starting position {settings.starting_position!r} is "
                "not supported locally (Chalice declares LATEST or TRIM_HORIZON)"
            )

    def _kinesis_reader(self, shard: Shard) -> RecordSource:
        stream, shard_id = self.settings.stream, shard.shard_id
        saved = self._saved.get(shard_id) or {}
        if saved.get("sequence"):
            return ShardReader(self.kinesis, stream, shard_id, after=saved["sequence"])
        # A shard made by a reshard is read from its first record, as Lambda
        # does; only the shards there when the mapping starts use its position.
        position = self.settings.starting_position
        if shard.parents or self.started:
            position = "TRIM_HORIZON"
        elif self.resumed and position == "LATEST":
            # LATEST meant "from when the mapping started", not from this restart.
            timestamp = from_epoch(self.started_at)
            return ShardReader(self.kinesis, stream, shard_id, "AT_TIMESTAMP", timestamp=timestamp)
        return ShardReader(self.kinesis, stream, shard_id, position)

    @property
    def checkpoint_name(self) -> str:
        return f"mapping-{self.settings.function}"

    def start(self, now: float) -> None:
        """Find the shards and open them: with LATEST, reading starts from this moment.

        With saved checkpoints, every shard carries on after its checkpoint,
        with its window and state, and LATEST still means the first start.
        """
        saved = self.checkpoints.load(self.checkpoint_name) if self.checkpoints else None
        if saved is not None:
            self.resumed = True
            self.started_at = float(saved["started_at"])
            self.finished = set(saved.get("finished", []))
            self._saved = dict(saved.get("shards", {}))
            log.info("%s: resuming from checkpoints of %d shards", self.name, len(self._saved))
        else:
            self.started_at = now
        self._discover(now)
        for poller in self.pollers.values():
            if isinstance(poller.source, ShardReader):
                poller.source.open()
        self.started = True
        self._save()

    def _save(self) -> None:
        """Write the checkpoints if they moved (after each poll: no batch is in flight then)."""
        if self.checkpoints is None:
            return
        shards = dict(self._saved)
        shards.update({shard_id: p.snapshot() for shard_id, p in self.pollers.items()})
        for shard_id in self.finished:
            shards.pop(shard_id, None)
        document = {
            "started_at": self.started_at,
            "finished": sorted(self.finished),
            "shards": shards,
        }
        text = json.dumps(document, sort_keys=True)
        if text != self._written:
            self.checkpoints.save(self.checkpoint_name, document)
            self._written = text

    def _discover(self, now: float) -> None:
        shards = list_shards(self.kinesis, self.settings.stream)
        known = {s.shard_id for s in shards}
        # A shard being read is not finished: its children wait until it is.
        unread = [s for s in shards if s.shard_id not in self.pollers]
        for shard in ready_shards(unread, self.finished, known):
            poller = ShardPoller(
                self.settings,
                self.spec,
                self.reader(shard),
                self.invoker,
                stream_arn=self.stream_arn,
                region=self.region,
                destination=self.destination,
            )
            if shard.shard_id in self._saved:
                poller.restore(self._saved[shard.shard_id])
            self.pollers[shard.shard_id] = poller
        self.discover_at = now + DISCOVERY_INTERVAL

    def poll(self, now: float) -> float:
        if now >= self.discover_at:
            self._discover(now)
        due = self.discover_at
        for shard_id, poller in list(self.pollers.items()):
            due = min(due, poller.poll(now))
            if poller.finished:
                self.finished.add(shard_id)
                _add(self.retired, poller.stats)
                del self.pollers[shard_id]
                self.discover_at = now  # its children may start now
        self._save()
        return due

    def drain(self, now: float) -> bool:
        # Read now, whatever the read interval says: records another stage has
        # just put on the stream (a final window's summaries) must not be
        # mistaken for an empty stream. Done once a read finds nothing to do.
        for poller in self.pollers.values():
            poller.read_at = min(poller.read_at, now)
        self.poll(now)
        return not any(p.did_work or not p.idle for p in self.pollers.values())

    def stats(self) -> dict[str, int]:
        total = PollerStats()
        _add(total, self.retired)
        for poller in self.pollers.values():
            _add(total, poller.stats)
        return dict(vars(total))

    def lag(self, now: float) -> float:
        return max((p.lag(now) for p in self.pollers.values()), default=0.0)


def _add(total: PollerStats, more: PollerStats) -> None:
    for key, value in vars(more).items():
        setattr(total, key, getattr(total, key) + value)
