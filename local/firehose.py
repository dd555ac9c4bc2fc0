"""The archive's Firehose delivery streams, emulated: a stream in, buffered S3 objects out.

moto's Firehose neither reads a Kinesis source nor buffers (it writes one
object per put call), so the local runtime runs this component in its place,
configured from the same description (`infra.system.ArchivedStream`) the
AWS deployment's `AWS::KinesisFirehose::DeliveryStream`s are rendered from,
one emulator per delivery stream (the raw stream's under `raw/`, the taxi
trips' under `trips/`). It reads every shard of the source stream from
TRIM_HORIZON (parents before children), concatenates record data as it is,
and writes an object under Firehose's default key layout when the buffer
reaches its size or its interval has passed, gzipped into a `.gz` object when
the stream says GZIP (docs/lambda-kinesis.md, "The archive").
"""

from __future__ import annotations

import gzip
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from infra.system import ArchivedStream
from local.checkpoints import CheckpointStore
from local.shards import Shard, ShardReader, list_shards, ready_shards

log = logging.getLogger(__name__)

MIB = 1024 * 1024
# Firehose reads each shard about once a second; a shard that returned records
# is read again at once, so a backlog is caught up without waiting.
READ_EVERY_SECONDS = 1.0
# New shards (after a reshard) are noticed within this long.
DISCOVER_EVERY_SECONDS = 10.0
# A failed PutObject is retried after this long.
RETRY_EVERY_SECONDS = 1.0
# The delivery stream's version in the object name; a local stream is never updated.
STREAM_VERSION = 1
# What Firehose appends to an object's key for each compression format it is given.
EXTENSIONS = {"UNCOMPRESSED": "", "GZIP": ".gz"}


@dataclass(frozen=True)
class DeliverySettings:
    """What the emulation needs of a delivery stream from a Kinesis stream to S3."""

    name: str
    stream: str
    bucket: str
    prefix: str
    # Firehose writes here only records a transformation or format conversion
    # failed on; the archive has neither, so the emulation never uses it.
    error_prefix: str
    buffer_seconds: float
    buffer_bytes: int  # of records as they came, before compression (as Firehose counts)
    role_arn: str = ""  # what Firehose reads and writes as (the delivery role)
    compression: str = "UNCOMPRESSED"  # or GZIP: each object gzipped, its key ending in .gz

    def __post_init__(self) -> None:
        if self.compression not in EXTENSIONS:
            raise ValueError(
                f"delivery stream {self.name}: compression {self.compression!r} is not "
                f"emulated; one of {', '.join(EXTENSIONS)}"
            )

    @classmethod
    def of(cls, archived: ArchivedStream, bucket: str, role_arn: str = "") -> DeliverySettings:
        """The delivery stream of `archived` into the archive bucket `bucket`."""
        return cls(
            name=archived.delivery_stream,
            stream=archived.stream,
            bucket=bucket,
            prefix=archived.prefix,
            error_prefix=archived.error_prefix,
            buffer_seconds=float(archived.buffer_seconds),
            buffer_bytes=archived.buffer_mib * MIB,
            role_arn=role_arn,
            compression=archived.compression,
        )


def object_key(settings: DeliverySettings, arrival: float, object_id: str) -> str:
    """Firehose's default key, `<prefix>YYYY/MM/DD/HH/<name>-1-YYYY-MM-DD-HH-MM-SS-<id>[.gz]`."""
    # The time is the approximate arrival of the object's first record, as
    # Firehose does for its time prefix; taking it from the records rather
    # than the write time puts a record in the hour it reached the stream.
    at = datetime.fromtimestamp(arrival, UTC)
    return (
        f"{settings.prefix}{at:%Y/%m/%d/%H}/"
        f"{settings.name}-{STREAM_VERSION}-{at:%Y-%m-%d-%H-%M-%S}-{object_id}"
        f"{EXTENSIONS[settings.compression]}"
    )


@dataclass(frozen=True)
class _Delivery:
    """An object cut from the buffer; its key is fixed so a retry overwrites, never adds."""

    key: str
    body: bytes  # as written: gzipped if the stream says so
    records_bytes: int  # what its records came to before that
    upto: dict[str, str] = field(default_factory=dict)  # shard -> last sequence number in it


class FirehoseEmulator:
    """Reads the source stream's shards and delivers buffered objects to S3 (a `Component`)."""

    def __init__(
        self,
        settings: DeliverySettings,
        kinesis: Any,
        s3: Any,
        *,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        checkpoints: CheckpointStore | None = None,
    ) -> None:
        self.settings = settings
        self.kinesis = kinesis
        self.s3 = s3
        self.new_id = new_id
        self.name = f"firehose {settings.name}"
        self._shards: list[Shard] = []
        self._readers: dict[str, ShardReader] = {}
        self._finished: set[str] = set()
        self._discover_at = 0.0
        self._read_at = 0.0
        self._buffer = bytearray()
        self._first_arrival = 0.0  # stream arrival time of the buffer's first record
        self._buffer_since: float | None = None  # when the buffer's first record was read
        self._deliveries: list[_Delivery] = []  # cut, not yet written, oldest first
        # bytes: as written to S3; record bytes: what the records came to before compression.
        self._stats = {
            "records": 0,
            "objects": 0,
            "bytes": 0,
            "record bytes": 0,
            "failed puts": 0,
        }
        # Per shard, the last record in the buffer and the last one written to S3:
        # a restart reads after the written one, so an unwritten buffer is read again.
        self._buffered_upto: dict[str, str] = {}
        self.checkpoints = checkpoints
        saved = checkpoints.load(self.checkpoint_name) if checkpoints else None
        self._written_upto: dict[str, str] = dict((saved or {}).get("shards", {}))

    def poll(self, now: float) -> float:
        """Retry what failed, read what is due, deliver full or expired buffers."""
        if not self._deliver():
            # Nothing more is read while S3 refuses: the stream keeps the
            # records, and memory does not grow with the outage.
            return now + RETRY_EVERY_SECONDS
        if now >= self._discover_at:
            self._discover(now)
        if now >= self._read_at:
            more = self._read_once(now)
            self._read_at = now if more else now + READ_EVERY_SECONDS
        if (
            self._buffer_since is not None
            and now >= self._buffer_since + self.settings.buffer_seconds
        ):
            self._cut()
        if not self._deliver():
            return now + RETRY_EVERY_SECONDS
        due = min(self._read_at, self._discover_at)
        if self._buffer_since is not None:
            due = min(due, self._buffer_since + self.settings.buffer_seconds)
        return due

    def drain(self, now: float) -> bool:
        """Read what remains on the shards, deliver everything; True once all is written."""
        if not self._deliver():
            return False
        self._discover(now)
        while self._read_once(now):
            # Deliver as it goes, so a long backlog is not held in memory.
            if not self._deliver():
                return False
        self._cut()
        return self._deliver()

    def stats(self) -> dict[str, int]:
        return dict(self._stats)

    def _discover(self, now: float) -> None:
        self._shards = list_shards(self.kinesis, self.settings.stream)
        self._discover_at = now + DISCOVER_EVERY_SECONDS
        self._start_ready_shards()

    def _start_ready_shards(self) -> None:
        known = {s.shard_id for s in self._shards}
        for shard in ready_shards(self._shards, self._finished, known):
            if shard.shard_id not in self._readers:
                # TRIM_HORIZON: the local stream is created fresh, so the
                # archive holds every record the stream ever had.
                self._readers[shard.shard_id] = ShardReader(
                    self.kinesis,
                    self.settings.stream,
                    shard.shard_id,
                    "TRIM_HORIZON",
                    after=self._written_upto.get(shard.shard_id),
                )

    def _read_once(self, now: float) -> bool:
        """One GetRecords per shard being read; True if any shard may have more right now."""
        more = False
        for shard_id, reader in list(self._readers.items()):
            records = reader.read()
            for record in records:
                self._add(record.data, record.arrival, now)
                self._buffered_upto[shard_id] = record.sequence_number
            self._stats["records"] += len(records)
            if reader.closed:
                del self._readers[shard_id]
                self._finished.add(shard_id)
                self._start_ready_shards()  # its children may start now
                more = True
            elif records or reader.millis_behind > 0:
                more = True
        return more

    def _add(self, data: bytes, arrival: float, now: float) -> None:
        # A record never straddles two objects: cut before it would overflow.
        if self._buffer and len(self._buffer) + len(data) > self.settings.buffer_bytes:
            self._cut()
        if not self._buffer:
            self._first_arrival = arrival
            # The interval runs from when the first record entered the buffer,
            # on the runtime's clock (tests inject it).
            self._buffer_since = now
        self._buffer += data
        if len(self._buffer) >= self.settings.buffer_bytes:
            self._cut()

    def _cut(self) -> None:
        if not self._buffer:
            return
        key = object_key(self.settings, self._first_arrival, self.new_id())
        body = bytes(self._buffer)
        if self.settings.compression == "GZIP":
            body = gzip.compress(body, mtime=0)  # the same records make the same object
        self._deliveries.append(_Delivery(key, body, len(self._buffer), dict(self._buffered_upto)))
        self._buffer = bytearray()
        self._buffer_since = None

    def _deliver(self) -> bool:
        """Write cut objects in order; False (and keep them) if S3 refuses one."""
        while self._deliveries:
            delivery = self._deliveries[0]
            try:
                self.s3.put_object(
                    Bucket=self.settings.bucket, Key=delivery.key, Body=delivery.body
                )
            except (ClientError, BotoCoreError) as err:
                self._stats["failed puts"] += 1
                log.warning(
                    "%s: writing s3://%s/%s failed, will retry: %s",
                    self.name,
                    self.settings.bucket,
                    delivery.key,
                    err,
                )
                return False
            self._deliveries.pop(0)
            self._stats["objects"] += 1
            self._stats["bytes"] += len(delivery.body)
            self._stats["record bytes"] += delivery.records_bytes
            self._written_upto.update(delivery.upto)
            if self.checkpoints is not None:
                self.checkpoints.save(self.checkpoint_name, {"shards": self._written_upto})
        return True

    @property
    def checkpoint_name(self) -> str:
        return f"firehose-{self.settings.name}"
