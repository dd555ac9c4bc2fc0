"""`python -m producer.tail`: the command line and the polling loop.

The imperative shell around `lines` and `shards`. It makes the Kinesis client
when it runs (endpoint, region and credentials from the standard AWS
settings), reads every shard the plan says to read with one GetRecords per
shard per round, and writes one line per record to stdout, everything else
to stderr. The clock, sleep, output streams and client are parameters of
`main`, so tests drive whole runs in-process and never wait.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.names import RAW_STREAM, SUMMARY_STREAM
from local.shards import ShardReader, list_shards
from producer.arguments import positive, whole
from producer.aws import Fatal, kinesis_client
from producer.tail.lines import json_line, readable_line, shard_label
from producer.tail.shards import LATEST, START_FORMS, ShardPlan, Start, parse_start

DEFAULT_POLL = 1.0  # seconds between reads of a shard that is up to date
MIN_POLL = 0.2  # Kinesis allows five GetRecords a second per shard
# Between reads of a shard that is behind. The stream's own readers (the
# functions, Firehose) share the five reads a second, so leave them room.
CATCH_UP = 0.5
LIST_EVERY = 10.0  # seconds between ListShards calls, to notice a reshard
MAX_BACKOFF = 10.0  # longest wait after a throttled call
# botocore's attempts for one call: the tail waits out throttles itself (counting
# them, within --duration), so botocore only gets a short budget for server errors.
CALL_ATTEMPTS = 2
MAX_RECORDS_PER_CALL = 10_000  # GetRecords' limit
# Codes Kinesis throttles with: reads of a shard, ListShards, a KMS-encrypted stream.
THROTTLES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "LimitExceededException",
        "ThrottlingException",
        "KMSThrottlingException",
    }
)

Clock = Callable[[], float]
Sleep = Callable[[float], None]
_T = TypeVar("_T")


@dataclass(frozen=True)
class Options:
    """The command line, checked."""

    stream: str
    start: Start
    json: bool
    region: str | None
    count: int | None
    duration: float | None
    poll: float


def main(
    argv: Sequence[str] | None = None,
    *,
    client: Any = None,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Print the stream's records until done or interrupted; return the exit status.

    0 when done or stopped with Ctrl-C, 1 when the run failed, 2 for a usage error.
    """
    if out is None:
        out = sys.stdout
        # A character the terminal's encoding cannot show must not end the run.
        if isinstance(out, io.TextIOWrapper):
            out.reconfigure(errors="backslashreplace")
    err = sys.stderr if err is None else err
    try:
        with contextlib.redirect_stderr(err):  # argparse writes to sys.stderr
            options = parse_options(argv)
    except SystemExit as exit_:  # argparse has already printed the usage and the problem
        return exit_.code if isinstance(exit_.code, int) else 2
    tally = Tally(clock)
    try:
        if client is None:
            client = kinesis_client(options.region, attempts=CALL_ATTEMPTS)
        tail(options, client, tally, clock, sleep, out, err)
    except Fatal as problem:
        if tally.records:
            tally.report("failed", err)
        print(f"tail: {problem}", file=err)
        return 1
    except KeyboardInterrupt:
        tally.report("stopped", err)
        return 0
    except BrokenPipeError:  # e.g. `| head`: the reader has all it wants
        if out is sys.stdout:
            # Python flushes stdout again on exit; let that go nowhere.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        tally.report("stopped", err)
        return 0
    tally.report("done", err)
    return 0


def parse_options(argv: Sequence[str] | None) -> Options:
    """The checked options; SystemExit(2) with the usage on stderr when they do not add up."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.stream:
        parser.error("--stream must not be empty")
    if args.region is not None and not args.region:
        parser.error("--region must not be empty")
    return Options(
        stream=args.stream,
        start=args.start,
        json=args.json,
        region=args.region,
        count=args.count,
        duration=args.duration,
        poll=args.poll,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m producer.tail",
        description="Print the records of a Kinesis stream as they arrive, one line each: "
        "every shard, in order within a shard, following reshards.",
        epilog="The endpoint, region and credentials come from the standard AWS settings "
        "(AWS_ENDPOINT_URL, AWS_DEFAULT_REGION, AWS_PROFILE, ...). Records go to stdout, "
        "the opening and closing lines to stderr. Ctrl-C stops and prints the count.",
    )
    parser.add_argument(
        "--stream",
        default=RAW_STREAM,
        help=f"stream to read (default {RAW_STREAM}; the per-minute summaries are on "
        f"{SUMMARY_STREAM})",
    )
    parser.add_argument(
        "--from",
        dest="start",
        type=_start,
        default=Start(LATEST),
        metavar="WHEN",
        help="where to begin: 'latest' (default: records that arrive from now on), 'start' "
        "(the oldest record kept), or a time such as 2026-11-22T15:39:12Z (offsets and "
        "fractions of a second allowed)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print each record's data as stored, one per line (control characters and "
        "bytes that are not UTF-8 escaped)",
    )
    parser.add_argument(
        "--count", type=whole(1), metavar="N", help="stop after N records (default: no limit)"
    )
    parser.add_argument(
        "--duration",
        type=positive,
        metavar="SECONDS",
        help="stop after SECONDS (default: run until Ctrl-C)",
    )
    parser.add_argument(
        "--poll",
        type=_poll,
        default=DEFAULT_POLL,
        metavar="SECONDS",
        help=f"seconds between reads of each shard (default {DEFAULT_POLL:g}, at least "
        f"{MIN_POLL:g}: Kinesis allows five reads a second per shard)",
    )
    parser.add_argument(
        "--region", help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or the profile's)"
    )
    return parser


def _start(text: str) -> Start:
    try:
        return parse_start(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {START_FORMS}; got {text!r}") from None


def _poll(text: str) -> float:
    value = positive(text)
    if value < MIN_POLL:
        raise argparse.ArgumentTypeError(
            f"must be at least {MIN_POLL:g} (Kinesis allows five reads a second per shard), "
            f"got {text!r}"
        )
    return value


@dataclass
class Tally:
    """What the closing line reports."""

    clock: Clock
    records: int = 0
    throttled: int = 0  # calls Kinesis throttled, each followed by a wait
    started: float = field(init=False)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def report(self, outcome: str, err: TextIO) -> None:
        throttled = f", {self.throttled} throttled calls waited out" if self.throttled else ""
        print(
            f"tail: {outcome}: {self.records} record{'' if self.records == 1 else 's'}, "
            f"{self.clock() - self.started:.1f}s elapsed{throttled}",
            file=err,
            flush=True,
        )


def tail(
    options: Options,
    client: Any,
    tally: Tally,
    clock: Clock,
    sleep: Sleep,
    out: TextIO,
    err: TextIO,
) -> None:
    """Print records until `options.count` or `options.duration` is reached, if ever."""
    plan = ShardPlan(options.start)
    reader = StreamReader(client, options.stream, plan)
    backoff = options.poll
    while not reader.refresh():  # throttled: there is nothing to read until it lists
        tally.throttled += 1
        sleep(backoff)
        backoff = min(MAX_BACKOFF, 2 * backoff)
    print(_opening(options, client, plan), file=err, flush=True)
    deadline = None if options.duration is None else tally.started + options.duration
    next_listing = clock() + LIST_EVERY
    show_shards = False
    backoff = 0.0
    while deadline is None or clock() < deadline:
        if clock() >= next_listing:
            if not reader.refresh():
                tally.throttled += 1
            next_listing = clock() + LIST_EVERY
        # Records of two shards interleave: say which is which once there are two.
        show_shards = show_shards or plan.listed > 1
        limit = MAX_RECORDS_PER_CALL
        if options.count is not None:
            limit = min(limit, options.count - tally.records)
        batch = reader.read(limit)
        for shard_id, data in batch.records:
            line = json_line(data) if options.json else readable_line(data)
            if show_shards and not options.json:
                line = f"[{shard_label(shard_id)}] {line}"
            # Counted first: with PYTHONUNBUFFERED the line is out as soon as it is written.
            tally.records += 1
            out.write(line + "\n")
            if tally.records == options.count:
                out.flush()
                return
        out.flush()
        if batch.ended:  # look for its children now rather than at the next listing
            next_listing = clock()
        if batch.throttled:
            tally.throttled += batch.throttled
            backoff = min(MAX_BACKOFF, max(2 * backoff, options.poll))
            wait = backoff
        else:
            backoff = 0.0
            wait = min(CATCH_UP, options.poll) if batch.behind else options.poll
        if deadline is not None:
            wait = min(wait, deadline - clock())
        if wait > 0:
            sleep(wait)


def _opening(options: Options, client: Any, plan: ShardPlan) -> str:
    shards = f"{plan.open} open shard{'' if plan.open == 1 else 's'}"
    if plan.listed > plan.open:
        shards += f" ({plan.listed - plan.open} closed)"
    limits = (
        [f"{options.count} record{'' if options.count == 1 else 's'}"] if options.count else []
    )
    if options.duration is not None:
        limits.append(f"{options.duration:g}s")
    return (
        f"tail: stream {options.stream!r} in {client.meta.region_name} "
        f"({client.meta.endpoint_url}): {shards}, from {options.start.describe()}, "
        + ("until Ctrl-C" if not limits else f"stopping after {' or '.join(limits)}")
    )


@dataclass
class Batch:
    """One round of reads: a GetRecords per shard being read."""

    records: list[tuple[str, bytes]] = field(default_factory=list)  # (shard id, data)
    behind: bool = False  # a shard has more records waiting
    ended: bool = False  # a shard was read to its end
    throttled: int = 0  # calls refused for throughput


class StreamReader:
    """GetRecords on every shard the plan says to read, and the errors Kinesis answers with.

    Each shard is read by `local.shards.ShardReader`, the reader the local runtime
    uses too; what a throttled or failed call means for the tail is decided here.
    """

    def __init__(self, client: Any, stream: str, plan: ShardPlan) -> None:
        self.client = client
        self.stream = stream
        self.plan = plan
        self.readers: dict[str, ShardReader] = {}

    def refresh(self) -> bool:
        """List the shards and start reading those whose turn has come; False if throttled."""
        try:
            listing = list_shards(self.client, self.stream)
        except ClientError as problem:
            if _code(problem) in THROTTLES:
                return False
            raise self._fatal("ListShards", problem) from None
        except BotoCoreError as problem:
            raise self._fatal("ListShards", problem) from None
        self.plan.learn(listing)
        ready = self.plan.ready()
        while ready:  # a shard found gone lets its children start at once
            for shard, position in ready:
                reader = ShardReader(
                    self.client,
                    self.stream,
                    shard.shard_id,
                    position["ShardIteratorType"],
                    timestamp=position.get("Timestamp"),
                )
                self.readers[shard.shard_id] = reader
                # Now rather than at the first read, so that LATEST means from this moment.
                self._guarded("GetShardIterator", reader, Batch(), ShardReader.open)
            ready = self.plan.ready()
        return True

    def read(self, limit: int) -> Batch:
        """One GetRecords on each shard being read, in shard order."""
        batch = Batch()
        for shard_id in self.plan.reading:
            reader = self.readers[shard_id]
            records = self._guarded("GetRecords", reader, batch, lambda r: r.read(limit))
            if records is None:
                continue
            batch.records.extend((shard_id, r.data) for r in records)
            batch.behind = batch.behind or reader.millis_behind > 0
            if reader.closed:  # a closed shard, read to its end
                self._finish(reader, batch)
        return batch

    def _guarded(
        self, operation: str, reader: ShardReader, batch: Batch, call: Callable[[ShardReader], _T]
    ) -> _T | None:
        """`call(reader)`, or None when Kinesis throttled it or the shard is gone."""
        try:
            return call(reader)
        except ClientError as problem:
            code = _code(problem)
            if code in THROTTLES:
                batch.throttled += 1
                return None
            if code == "ResourceNotFoundException":
                # The shard is past retention, or the stream is gone: the listing will tell.
                self._finish(reader, batch)
                return None
            raise self._fatal(problem.operation_name or operation, problem) from None
        except BotoCoreError as problem:
            raise self._fatal(operation, problem) from None

    def _finish(self, reader: ShardReader, batch: Batch) -> None:
        self.plan.finish(reader.shard_id)
        del self.readers[reader.shard_id]
        batch.ended = True

    def _fatal(self, operation: str, problem: Exception) -> Fatal:
        if isinstance(problem, ClientError):
            code = _code(problem)
            if code == "ResourceNotFoundException" and operation == "ListShards":
                return Fatal(
                    f"stream {self.stream!r} not found in {self.client.meta.region_name} "
                    f"(endpoint {self.client.meta.endpoint_url})"
                )
            message = problem.response.get("Error", {}).get("Message") or code
            return Fatal(f"{operation} on stream {self.stream!r} failed: {message} ({code})")
        return Fatal(f"{operation} on stream {self.stream!r} failed: {problem}")


def _code(problem: ClientError) -> str:
    return str(problem.response.get("Error", {}).get("Code", ""))
