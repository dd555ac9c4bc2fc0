"""Putting records on a Kinesis stream with `PutRecords`, losing none.

Records go in calls of at most 500 records and 5 MiB. `PutRecords` can accept
some entries of a call and refuse others (throttling, internal errors); only
the refused ones are sent again, with exponential backoff and jitter. A record
still refused after the last attempt raises DeliveryError: nothing is dropped
without the caller knowing. A retried record lands after records of the same
call that were accepted, so order within a partition key can change.

A call that fails as a whole (throttled, a server error, no connection) is
retried by botocore, as the client is configured (`clients.CLIENT_CONFIG`:
standard mode, five attempts in all); when botocore gives up, so does the
writer, at once, rather than multiplying botocore's attempts by its own inside
a Lambda timeout. The one exception is a throttle botocore does not know:
`KMSThrottlingException` (the streams are KMS-encrypted), which the writer
retries as it retries refused entries.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters.backoff import backoff_delay
from chalicelib.errors import DeliveryError
from chalicelib.pipeline.events import Entry

MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 5 * 1024 * 1024
MAX_RECORD_BYTES = 1024 * 1024  # data and partition key together
# Kinesis answers it (HTTP 400) when KMS throttles the stream's encryption; botocore's
# standard mode does not count it as a throttle, so it would never be tried again.
KMS_THROTTLING = "KMSThrottlingException"


log = logging.getLogger(__name__)


@dataclass
class PutStats:
    """What a `put` did: records accepted, entries sent again, calls made."""

    sent: int = 0
    retried: int = 0
    calls: int = 0

    def add(self, other: PutStats) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.calls += other.calls


class KinesisWriter:
    """Puts (data, partition key) entries on one stream."""

    def __init__(
        self,
        client: Any,
        stream_name: str,
        *,
        attempts: int = 6,
        base_delay: float = 0.1,
        max_delay: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.client = client
        self.stream_name = stream_name
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.sleep = sleep
        self.rand = rand
        self.totals = PutStats()  # over the writer's life, failed calls included

    def put(self, entries: Sequence[Entry]) -> PutStats:
        """Put every entry, in order; DeliveryError if any is still refused."""
        stats = PutStats()
        chunks = list(self._chunks(entries))
        try:
            for number, chunk in enumerate(chunks):
                try:
                    self._put_chunk(chunk, stats)
                except DeliveryError as err:
                    # Later chunks were never tried: they are not delivered either.
                    err.undelivered += [e for later in chunks[number + 1 :] for e in later]
                    raise
        except DeliveryError as err:
            err.failed = len(entries) - stats.sent
            raise
        finally:
            self.totals.add(stats)
        return stats

    def _chunks(self, entries: Sequence[Entry]) -> Iterator[list[Entry]]:
        chunk: list[Entry] = []
        size = 0
        for data, key in entries:
            entry_size = len(data) + len(key.encode())
            if entry_size > MAX_RECORD_BYTES:
                raise DeliveryError(
                    f"a record of {entry_size} bytes (partition key {key[:40]!r}) "
                    f"exceeds the Kinesis limit of {MAX_RECORD_BYTES} bytes",
                    failed=1,
                    undelivered=list(entries),  # none is put
                )
            if chunk and (
                len(chunk) == MAX_RECORDS_PER_CALL or size + entry_size > MAX_BYTES_PER_CALL
            ):
                yield chunk
                chunk, size = [], 0
            chunk.append((data, key))
            size += entry_size
        if chunk:
            yield chunk

    def _put_chunk(self, chunk: list[Entry], stats: PutStats) -> None:
        pending = chunk
        last_error = ""
        for attempt in range(1, self.attempts + 1):
            if attempt > 1:
                stats.retried += len(pending)
                self.sleep(backoff_delay(attempt - 1, self.base_delay, self.max_delay, self.rand))
            stats.calls += 1
            try:
                response = self.client.put_records(
                    StreamName=self.stream_name,
                    Records=[{"Data": d, "PartitionKey": k} for d, k in pending],
                )
            except ClientError as err:  # botocore has retried what it knows to retry
                code = err.response.get("Error", {}).get("Code", "")
                if code == KMS_THROTTLING:
                    last_error = code
                    continue
                message = err.response.get("Error", {}).get("Message", "")
                raise _not_delivered(f"{self._failed}{code}: {message}", code, pending) from None
            except BotoCoreError as err:  # connection problems, retried by botocore too
                raise _not_delivered(f"{self._failed}{err}", type(err).__name__, pending) from None
            refused = [
                entry
                for entry, result in zip(pending, response["Records"], strict=True)
                if "ErrorCode" in result
            ]
            stats.sent += len(pending) - len(refused)
            if not refused:
                return
            last_error = next(r["ErrorCode"] for r in response["Records"] if "ErrorCode" in r)
            if attempt < self.attempts:  # no promise of a retry after the last attempt
                log.info(
                    "%d of %d records refused by %s (%s); retrying",
                    len(refused),
                    len(pending),
                    self.stream_name,
                    last_error,
                )
            pending = refused
        raise _not_delivered(
            f"{_records(len(pending))} not accepted by stream {self.stream_name!r} "
            f"after {self.attempts} attempts (last error {last_error})",
            last_error,
            pending,
        )

    @property
    def _failed(self) -> str:
        return f"PutRecords to stream {self.stream_name!r} failed: "


def _not_delivered(message: str, code: str, pending: list[Entry]) -> DeliveryError:
    """The error for entries not put: all of `pending`, failed and handed back."""
    return DeliveryError(message, failed=len(pending), code=code, undelivered=list(pending))


def _records(count: int) -> str:
    return f"{count} record" if count == 1 else f"{count} records"
