"""`python -m producer.tail` against a moto Kinesis stream, with time faked.

Given a stream, when the tail runs in-process with a fake monotonic clock
and sleep, then it prints what is on the stream from where it was asked to
start, shard by shard in order. Records "arrive" from the fake sleep, so a
run that follows a stream for a minute takes milliseconds. What moto does
not do as AWS does (throttling, expired iterators, the end of a closed
shard) is produced with botocore event hooks or a Stubber on a real client.
"""

from __future__ import annotations

import io
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from chalicelib.unicorns.records import Reading, encode_reading
from local.shards import Shard
from producer.tail.cli import main, parse_options
from producer.tail.shards import AT_TIMESTAMP, LATEST, TRIM_HORIZON, ShardPlan, Start
from tests.faults import fail_calls
from tests.streams import read_stream

ROOT = Path(__file__).resolve().parents[2]
STREAM = "wildrydes"
REGION = "us-east-1"
ARRIVED = datetime(2026, 11, 22, 15, 39, 12, tzinfo=UTC)  # when Kinesis took a stubbed record
AWS_ENDPOINT = f"https://kinesis.{REGION}.amazonaws.com"


class FakeTime:
    """A monotonic clock that moves only when slept on; `on_sleep(n)` runs after the n-th sleep."""

    def __init__(self, on_sleep: Callable[[int], None] | None = None) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.on_sleep = on_sleep

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0, "slept no time"
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep(len(self.sleeps))


@dataclass
class Run:
    status: int
    out: list[str]
    err: list[str]


def tail(argv: list[str], time: FakeTime | None = None, client: Any = None) -> Run:
    time = time or FakeTime()
    out, err = io.StringIO(), io.StringIO()
    status = main(argv, client=client, clock=time.clock, sleep=time.sleep, out=out, err=err)
    assert "Traceback" not in err.getvalue()
    return Run(status, out.getvalue().splitlines(), err.getvalue().splitlines())


@pytest.fixture
def kinesis(aws_env: None) -> Iterator[Any]:
    with mock_aws():
        client = boto3.session.Session().client("kinesis")
        client.create_stream(StreamName=STREAM, ShardCount=1)
        yield client


def reading(second: int, name: str = "Shadowfax", health: int = 150) -> bytes:
    return encode_reading(
        Reading(name, f"2026-11-22 15:39:{second:02d}.000", 49.2853, -123.1189, 30.0, health, 140)
    )


def line(second: int, name: str = "Shadowfax", health: int = 150) -> str:
    low = "  LOW health" if health < 100 else ""
    return (
        f"2026-11-22 15:39:{second:02d}.000  {name:<12}   49.28530, -123.11890  dist   30.0 m  "
        f"health {health:3d}  magic 140{low}"
    )


def put(client: Any, *records: bytes, key: str = "Shadowfax") -> list[str]:
    """Put `records` one by one; the shard each went to."""
    return [
        client.put_record(StreamName=STREAM, PartitionKey=key, Data=data)["ShardId"]
        for data in records
    ]


def test_from_start_prints_every_record_in_order_and_stops_at_count(kinesis: Any) -> None:
    put(kinesis, reading(0), reading(1, health=99), reading(2), reading(3))

    run = tail(["--from", "start", "--count", "3"])

    assert run.status == 0
    assert run.out == [line(0), line(1, health=99), line(2)]
    assert run.err == [
        f"tail: stream 'wildrydes' in {REGION} ({AWS_ENDPOINT}): 1 open shard, "
        "from the oldest record (TRIM_HORIZON), stopping after 3 records",
        "tail: done: 3 records, 0.0s elapsed",
    ]


def test_from_latest_shows_only_records_put_after_it_started(kinesis: Any) -> None:
    put(kinesis, reading(0), reading(1))

    def arrive(sleeps: int) -> None:
        if sleeps in (1, 3):
            put(kinesis, reading(10 + sleeps), reading(20 + sleeps))

    time = FakeTime(arrive)
    run = tail(["--duration", "5"], time)

    assert run.status == 0
    assert run.out == [line(11), line(21), line(13), line(23)]
    assert "from new records only (LATEST), stopping after 5s" in run.err[0]
    assert run.err[-1] == "tail: done: 4 records, 5.0s elapsed"
    assert time.sleeps == [1.0] * 5  # one read a second, nothing read twice


def _a_few_milliseconds_later() -> None:
    # moto stamps arrivals to the millisecond: keep the two batches apart.
    until = datetime.now(UTC) + timedelta(milliseconds=5)
    while datetime.now(UTC) < until:
        pass


@pytest.mark.parametrize("form", ["Z", "offset"])
def test_from_a_timestamp_starts_at_the_first_record_that_arrived_at_or_after_it(
    kinesis: Any, form: str
) -> None:
    put(kinesis, reading(0), reading(1))
    _a_few_milliseconds_later()
    put(kinesis, reading(2), reading(3), reading(4))
    arrivals = [r["ApproximateArrivalTimestamp"] for r in read_stream(kinesis, STREAM)]
    assert arrivals[1] < arrivals[2]
    between = (arrivals[1] + (arrivals[2] - arrivals[1]) / 2).astimezone(UTC)
    when = (
        between.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if form == "Z"
        else between.astimezone(timezone(timedelta(hours=1))).isoformat()
    )

    run = tail(["--from", when, "--duration", "3"])

    assert run.status == 0
    assert run.out == [line(2), line(3), line(4)]
    assert f"from {between.strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]}Z (AT_TIMESTAMP)" in run.err[0]


def test_json_prints_each_record_as_stored(kinesis: Any) -> None:
    stored = [
        reading(0),
        b'{"Name":"Bucephalus","Note":"caf\xc3\xa9"}',
        b'{ "Name": "Rocinante", "HealthPoints": 99 }\r\n',
        b"not json at all\n",
        b"\xff\xfe\x1b[2J",
    ]
    put(kinesis, *stored)

    run = tail(["--from", "start", "--json", "--count", "5"])

    assert run.status == 0
    assert run.out == [
        reading(0).decode().rstrip("\n"),
        '{"Name":"Bucephalus","Note":"café"}',
        '{ "Name": "Rocinante", "HealthPoints": 99 }',
        "not json at all",
        "\\xff\\xfe\\u001b[2J",
    ]
    assert [o.encode() for o in run.out[:4]] == [
        stored[0][:-1],
        stored[1],
        stored[2][:-2],
        stored[3][:-1],
    ]


def test_a_two_shard_stream_shows_records_from_both_each_in_order(aws_env: None) -> None:
    with mock_aws():
        client = boto3.session.Session().client("kinesis")
        client.create_stream(StreamName=STREAM, ShardCount=2)
        names = ["Shadowfax", "Rocinante", "Bucephalus", "Pegasus", "Silver"]
        sent = [(put(client, reading(s, n), key=n)[0], s, n) for s in range(3) for n in names]
        assert {shard for shard, _, _ in sent} == {"shardId-000000000000", "shardId-000000000001"}

        run = tail(["--from", "start", "--count", str(len(sent))])

    assert run.status == 0
    assert run.out == [
        f"[shard {shard[-1]}] {line(s, n)}" for shard, s, n in sorted(sent, key=lambda x: x[0])
    ]
    assert "2 open shards" in run.err[0]


def test_a_missing_stream_is_one_line_and_exit_1(aws_env: None) -> None:
    with mock_aws():
        run = tail(["--stream", "wildrydes-summary"])

    assert run.status == 1
    assert run.out == []
    assert run.err == [
        f"tail: stream 'wildrydes-summary' not found in {REGION} (endpoint {AWS_ENDPOINT})"
    ]


@pytest.mark.parametrize(
    ("value", "start"),
    [
        ("latest", Start(LATEST)),
        ("START", Start(TRIM_HORIZON)),
        (
            "2026-11-22T15:39:12Z",
            Start(AT_TIMESTAMP, datetime(2026, 11, 22, 15, 39, 12, tzinfo=UTC)),
        ),
        (
            "2026-11-22T16:39:12.25+01:00",
            Start(AT_TIMESTAMP, datetime(2026, 11, 22, 15, 39, 12, 250_000, tzinfo=UTC)),
        ),
        (
            "2026-11-22 15:39:12.000",
            Start(AT_TIMESTAMP, datetime(2026, 11, 22, 15, 39, 12, tzinfo=UTC)),
        ),
    ],
)
def test_from_takes_a_word_or_an_iso_8601_time(value: str, start: Start) -> None:
    assert parse_options(["--from", value]).start == start


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00Z", "", "1732284309"])
def test_a_bad_from_is_a_usage_error_naming_the_accepted_forms(value: str) -> None:
    run = tail(["--from", value])

    assert run.status == 2
    assert run.out == []
    assert run.err[-1] == (
        "python -m producer.tail: error: argument --from: expected latest, start, or an "
        f"ISO 8601 time such as 2026-11-22T15:39:12Z; got {value!r}"
    )


def test_throttled_reads_are_waited_out_and_nothing_is_lost(kinesis: Any) -> None:
    put(kinesis, reading(0), reading(1))
    throttled = fail_calls(
        kinesis, "kinesis.GetRecords", "ProvisionedThroughputExceededException", 3
    )
    time = FakeTime()

    run = tail(["--from", "start", "--count", "2"], time, kinesis)

    assert run.status == 0
    assert run.out == [line(0), line(1)]
    assert len(throttled) == 4
    assert time.sleeps == [1.0, 2.0, 4.0]  # backing off, doubling
    assert run.err[-1] == "tail: done: 2 records, 7.0s elapsed, 3 throttled calls waited out"


def test_an_expired_iterator_carries_on_after_the_last_record_read(kinesis: Any) -> None:
    put(kinesis, reading(0), reading(1), reading(2))
    calls: list[int] = []

    def expire_the_second_call(**_: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise ClientError(
                {"Error": {"Code": "ExpiredIteratorException", "Message": "Iterator expired"}},
                "GetRecords",
            )

    def arrive(sleeps: int) -> None:
        if sleeps == 1:
            put(kinesis, reading(3), reading(4))

    kinesis.meta.events.register("before-call.kinesis.GetRecords", expire_the_second_call)
    time = FakeTime(arrive)

    run = tail(["--from", "start", "--count", "5"], time, kinesis)

    assert run.status == 0
    # Not again from the oldest record (duplicates), nor from the latest (3 and 4 lost).
    assert run.out == [line(s) for s in range(5)]


def test_ctrl_c_stops_cleanly_with_the_count(kinesis: Any) -> None:
    put(kinesis, reading(0), reading(1))

    def interrupt(sleeps: int) -> None:
        if sleeps == 3:
            raise KeyboardInterrupt

    run = tail(["--from", "start"], FakeTime(interrupt))

    assert run.status == 0
    assert run.out == [line(0), line(1)]
    assert run.err[-1] == "tail: stopped: 2 records, 3.0s elapsed"


def test_no_credentials_is_one_line_and_exit_1(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)

    run = tail([])

    assert (run.status, run.out) == (1, [])
    assert run.err == [
        "tail: no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY"
    ]


def test_an_unreachable_endpoint_is_one_line_and_exit_1(aws_env: None) -> None:
    with socket.socket() as closed:  # bound but not listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{closed.getsockname()[1]}"
        client = boto3.session.Session().client(
            "kinesis", endpoint_url=endpoint, config=Config(retries={"max_attempts": 1})
        )

        run = tail([], client=client)

    assert (run.status, run.out) == (1, [])
    assert run.err == [
        "tail: ListShards on stream 'wildrydes' failed: "
        f'Could not connect to the endpoint URL: "{endpoint}/"'
    ]


# Resharding as AWS does it, which moto does not reproduce (its closed shards
# keep taking records): a closed parent keeps the records written before the
# reshard, GetRecords ends it with no next iterator, and its children start
# only then. A Stubber on a real client answers as AWS would.
def _shard(number: int, *, parent: int | None = None, closed: bool = False) -> dict[str, Any]:
    numbers = {"StartingSequenceNumber": f"{number}00"}
    if closed:
        numbers["EndingSequenceNumber"] = f"{number}99"
    shard: dict[str, Any] = {
        "ShardId": f"shardId-{number:012d}",
        "HashKeyRange": {"StartingHashKey": "0", "EndingHashKey": "1"},
        "SequenceNumberRange": numbers,
    }
    if parent is not None:
        shard["ParentShardId"] = f"shardId-{parent:012d}"
    return shard


class AwsKinesis:
    """Expected calls and AWS's answers, in order, on a stubbed client."""

    def __init__(self, stubber: Stubber) -> None:
        self.stubber = stubber

    def lists(self, *shards: dict[str, Any]) -> None:
        self.stubber.add_response("list_shards", {"Shards": list(shards)}, {"StreamName": STREAM})

    def iterator(self, shard: int, kind: str, iterator: str) -> None:
        self.stubber.add_response(
            "get_shard_iterator",
            {"ShardIterator": iterator},
            {"StreamName": STREAM, "ShardId": f"shardId-{shard:012d}", "ShardIteratorType": kind},
        )

    def records(
        self, iterator: str, limit: int, data: list[tuple[str, bytes]], next_: str | None
    ) -> None:
        page: dict[str, Any] = {
            "Records": [
                {
                    "SequenceNumber": sequence,
                    "Data": d,
                    "PartitionKey": "k",
                    "ApproximateArrivalTimestamp": ARRIVED,
                }
                for sequence, d in data
            ],
            "MillisBehindLatest": 0,
        }
        if next_ is None:
            page["ChildShards"] = []  # AWS names them here too; the listing is enough
        else:
            page["NextShardIterator"] = next_
        self.stubber.add_response("get_records", page, {"ShardIterator": iterator, "Limit": limit})


@pytest.fixture
def aws_kinesis(aws_env: None) -> Iterator[tuple[Any, AwsKinesis]]:
    client = boto3.session.Session().client("kinesis")
    with Stubber(client) as stubber:
        yield client, AwsKinesis(stubber)
        stubber.assert_no_pending_responses()


def test_a_closed_shard_is_read_to_its_end_before_its_children(
    aws_kinesis: tuple[Any, AwsKinesis],
) -> None:
    client, aws = aws_kinesis
    listing = (_shard(0, closed=True), _shard(1, parent=0), _shard(2, parent=0))
    aws.lists(*listing)
    aws.iterator(0, "TRIM_HORIZON", "parent-a")
    aws.records("parent-a", 4, [("001", reading(0)), ("099", reading(1))], "parent-b")
    aws.records("parent-b", 2, [], None)  # the end: now, and not before, the children
    aws.lists(*listing)
    aws.iterator(1, "TRIM_HORIZON", "left-a")
    aws.iterator(2, "TRIM_HORIZON", "right-a")
    aws.records("left-a", 2, [("101", reading(2, "Rocinante"))], "left-b")
    aws.records("right-a", 2, [("201", reading(2))], "right-b")

    run = tail(["--from", "start", "--count", "4"], client=client)

    assert run.status == 0
    assert run.out == [
        f"[shard 0] {line(0)}",
        f"[shard 0] {line(1)}",
        f"[shard 1] {line(2, 'Rocinante')}",
        f"[shard 2] {line(2)}",
    ]
    assert run.err[0] == (
        f"tail: stream 'wildrydes' in {REGION} ({AWS_ENDPOINT}): 2 open shards (1 closed), "
        "from the oldest record (TRIM_HORIZON), stopping after 4 records"
    )


def test_a_split_while_tailing_is_noticed_and_followed_into_the_children(
    aws_kinesis: tuple[Any, AwsKinesis],
) -> None:
    client, aws = aws_kinesis
    aws.lists(_shard(0))
    aws.iterator(0, "LATEST", "it-0")
    for _ in range(10):  # one read a second until the next listing, ten seconds on
        aws.records("it-0", 10_000, [], "it-0")
    aws.lists(_shard(0, closed=True), _shard(1, parent=0), _shard(2, parent=0))
    aws.records("it-0", 10_000, [("050", reading(10))], None)
    aws.lists(_shard(0, closed=True), _shard(1, parent=0), _shard(2, parent=0))
    aws.iterator(1, "TRIM_HORIZON", "it-1")  # all of a new shard's records are new
    aws.iterator(2, "TRIM_HORIZON", "it-2")
    aws.records("it-1", 10_000, [("101", reading(11, "Rocinante"))], "it-1b")
    aws.records("it-2", 10_000, [("201", reading(11))], "it-2b")
    time = FakeTime()

    run = tail(["--duration", "12"], time, client)

    assert run.status == 0
    assert run.out == [
        f"[shard 0] {line(10)}",  # named: the stream now has more than one shard
        f"[shard 1] {line(11, 'Rocinante')}",
        f"[shard 2] {line(11)}",
    ]
    assert "1 open shard, from new records only (LATEST), stopping after 12s" in run.err[0]
    assert run.err[-1] == "tail: done: 3 records, 12.0s elapsed"
    assert time.sleeps == [1.0] * 12


def _plan(start: Start, *listings: list[Shard]) -> ShardPlan:
    plan = ShardPlan(start)
    for listing in listings:
        plan.learn(listing)
    return plan


def _ready(plan: ShardPlan) -> list[tuple[str, str]]:
    return [(s.shard_id, where["ShardIteratorType"]) for s, where in plan.ready()]


PARENT = Shard("s-0", (), closed=True)
LEFT = Shard("s-1", ("s-0",), closed=False)
RIGHT = Shard("s-2", ("s-0",), closed=False)


def test_the_plan_from_latest_skips_shards_closed_before_it_started() -> None:
    plan = _plan(Start(LATEST), [PARENT, LEFT, RIGHT])

    assert _ready(plan) == [("s-1", LATEST), ("s-2", LATEST)]


def test_the_plan_reads_a_merged_shard_after_both_parents_from_its_first_record() -> None:
    plan = _plan(Start(LATEST), [LEFT, RIGHT])
    assert _ready(plan) == [("s-1", LATEST), ("s-2", LATEST)]
    merged = Shard("s-3", ("s-1", "s-2"), closed=False)
    plan.learn([Shard("s-1", ("s-0",), True), Shard("s-2", ("s-0",), True), merged])

    plan.finish("s-1")
    assert _ready(plan) == []
    plan.finish("s-2")
    assert _ready(plan) == [("s-3", TRIM_HORIZON)]


def test_the_plan_does_not_wait_for_a_parent_past_retention() -> None:
    plan = _plan(Start(TRIM_HORIZON), [LEFT, RIGHT])  # s-0 is no longer listed

    assert _ready(plan) == [("s-1", TRIM_HORIZON), ("s-2", TRIM_HORIZON)]


@pytest.mark.slow
def test_python_dash_m_producer_tail_follows_a_local_endpoint_until_ctrl_c(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        client = boto3.session.Session().client("kinesis")
        client.create_stream(StreamName=STREAM, ShardCount=1)
        put(client, reading(0), b"\x1b[2Jnot json")
        process = subprocess.Popen(
            [sys.executable, "-m", "producer.tail", "--from", "start", "--poll", "0.2"],
            cwd=ROOT,
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            lines = _lines(process.stdout)
            assert [lines.get(timeout=20), lines.get(timeout=5)] == [line(0), "\\x1b[2Jnot json"]
            put(client, reading(1, health=42))
            assert lines.get(timeout=5) == line(1, health=42)
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    finally:
        server.stop()

    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert err.splitlines()[0] == (
        f"tail: stream 'wildrydes' in us-east-1 ({endpoint}): 1 open shard, "
        "from the oldest record (TRIM_HORIZON), until Ctrl-C"
    )
    assert err.splitlines()[-1].startswith("tail: stopped: 3 records, ")


def _lines(stream: Any) -> queue.Queue[str]:
    """The stream's lines as they come, without a blocking read in the test."""
    found: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for text in stream:
            found.put(text.rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    return found
