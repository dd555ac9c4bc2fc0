"""`python -m producer` end to end against a moto Kinesis stream, with time faked.

Given a stream, when the producer runs in-process with a fake monotonic
clock, sleep and wall time, then the stream holds exactly what it reported
sending. Refusals Kinesis makes under load, which moto never makes, are
injected with botocore event hooks on the real client, so that moto stores
exactly the entries the response reports as accepted.
"""

from __future__ import annotations

import io
import json
import socket
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from moto import mock_aws
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from chalicelib.taxi.records import parse_trip
from chalicelib.unicorns.records import parse_reading
from producer.cli import main
from tests.streams import read_stream as stream_records

STREAM = "wildrydes"
REGION = "us-east-1"
START = datetime(2026, 11, 22, 14, 5, 0, tzinfo=UTC)
THROTTLED = {
    "ErrorCode": "ProvisionedThroughputExceededException",
    "ErrorMessage": "Rate exceeded for shard shardId-000000000000 in stream wildrydes.",
}


class FakeTime:
    """A monotonic clock that moves only when slept on, and the wall time that goes with it."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, "slept a negative time"
        self.sleeps.append(seconds)
        self.now += seconds

    def wall(self) -> datetime:
        return START + timedelta(seconds=self.now - 1_000.0)


class Refusals:
    """Makes PutRecords refuse the entries `refuse` picks, as a throttled shard does.

    Picked entries leave the request before it is built, so moto never sees
    them, and come back into the parsed response as failed at their
    positions. A call whose every entry is picked never reaches moto at all
    (PutRecords needs at least one entry) and is answered with all failed.
    """

    def __init__(self, client: Any, refuse: Callable[[dict[str, Any]], bool]) -> None:
        self.refuse = refuse
        self.count = 0
        self._positions: list[int] = []
        self._size = 0
        events = client.meta.events
        events.register("before-parameter-build.kinesis.PutRecords", self._take_out)
        events.register("before-call.kinesis.PutRecords", self._answer_if_all_refused)
        events.register("after-call.kinesis.PutRecords", self._put_back)

    def _take_out(self, params: dict[str, Any], **_: Any) -> None:
        records = params["Records"]
        self._size = len(records)
        self._positions = [i for i, r in enumerate(records) if self.refuse(r)]
        self.count += len(self._positions)
        if len(self._positions) < len(records):
            refused = set(self._positions)
            params["Records"] = [r for i, r in enumerate(records) if i not in refused]

    def _answer_if_all_refused(self, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if self._size and len(self._positions) == self._size:
            return AWSResponse("", 200, {}, None), {"FailedRecordCount": 0, "Records": []}
        return None

    def _put_back(self, parsed: dict[str, Any], **_: Any) -> None:
        for position in self._positions:
            parsed["Records"].insert(position, dict(THROTTLED))
        parsed["FailedRecordCount"] = parsed.get("FailedRecordCount", 0) + len(self._positions)
        self._positions, self._size = [], 0


@pytest.fixture
def kinesis(aws_env: None) -> Iterator[Any]:
    with mock_aws():
        yield boto3.session.Session().client("kinesis")


def create_stream(client: Any, shards: int = 1) -> None:
    client.create_stream(StreamName=STREAM, ShardCount=shards)


def read_stream(client: Any) -> list[tuple[str, bytes]]:
    """(partition key, data) of every record on the stream, shard by shard in order."""
    return [(r["PartitionKey"], r["Data"]) for r in stream_records(client, STREAM)]


def produce(argv: list[str], time: FakeTime, client: Any = None) -> int:
    return main(argv, clock=time.clock, sleep=time.sleep, wall=time.wall, client=client)


def stderr_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    out, err = capsys.readouterr()
    assert out == "", "stdout must stay empty"
    assert "Traceback" not in err
    return err.splitlines()


def test_a_timed_run_puts_one_record_per_unicorn_per_tick(
    kinesis: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    create_stream(kinesis, shards=2)
    time = FakeTime()

    status = produce(["--unicorns", "3", "--duration", "4", "--rate", "2", "--seed", "1"], time)

    assert status == 0
    records = read_stream(kinesis)
    assert len(records) == 3 * 4 * 2
    readings = [parse_reading(data) for _, data in records]
    assert all(key == reading.name for (key, _), reading in zip(records, readings, strict=True))
    assert Counter(r.name for r in readings) == {"Shadowfax": 8, "Rocinante": 8, "Bucephalus": 8}
    for name in ("Shadowfax", "Rocinante", "Bucephalus"):
        times = [r.status_time for r in readings if r.name == name]
        assert times == sorted(set(times))
    assert time.sleeps == [0.5] * 8  # seven gaps between ticks, then the last interval
    lines = stderr_lines(capsys)
    assert lines[0].startswith(
        f"producer: stream 'wildrydes' in {REGION} (https://kinesis.{REGION}.amazonaws.com): "
        "3 unicorns at 2 records/s each for 4s; seed 1; unwell: "
    )
    assert lines[-1] == "producer: done: sent 24, retried 0, failed 0, 6.0 records/s, 4.0s elapsed"


def test_a_run_keeps_to_its_schedule_and_catches_up_after_a_stall(kinesis: Any) -> None:
    create_stream(kinesis)
    time = FakeTime()
    stamps: list[float] = []

    def wall() -> datetime:
        stamps.append(time.now - 1_000.0)
        if len(stamps) == 3:
            time.now += 3.5  # a send that hangs for three and a half seconds
        return time.wall()

    status = main(
        ["--name", "Shadowfax", "--duration", "8", "--progress", "0"],
        clock=time.clock,
        sleep=time.sleep,
        wall=wall,
    )

    assert status == 0
    assert stamps == [0, 1, 2, 5.5, 5.5, 5.5, 6, 7]
    assert sum(time.sleeps) == pytest.approx(8 - 3.5)
    assert len(read_stream(kinesis)) == 8


def test_refused_entries_are_sent_again_and_every_record_lands_exactly_once(
    kinesis: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    create_stream(kinesis, shards=2)
    seen: set[bytes] = set()

    def first_attempt_of_every_other(record: dict[str, Any]) -> bool:
        first = record["Data"] not in seen
        seen.add(record["Data"])
        return first and len(seen) % 2 == 0

    refusals = Refusals(kinesis, first_attempt_of_every_other)
    time = FakeTime()

    status = produce(["--unicorns", "5", "--duration", "6", "--seed", "2"], time, kinesis)

    assert status == 0
    records = read_stream(kinesis)
    assert refusals.count == 15
    assert len(records) == 30
    assert Counter(data for _, data in records) == Counter(dict.fromkeys(seen, 1))
    assert {(r.name, r.status_time) for r in (parse_reading(d) for _, d in records)} == {
        (name, f"2026-11-22 14:05:0{s}.000")
        for name in ("Shadowfax", "Rocinante", "Bucephalus", "Pegasus", "Silver")
        for s in range(6)
    }
    assert stderr_lines(capsys)[-1].startswith("producer: done: sent 30, retried 15, failed 0")


def test_a_record_refused_on_every_attempt_fails_the_run_in_one_line(
    kinesis: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    create_stream(kinesis)
    refusals = Refusals(kinesis, lambda record: record["PartitionKey"] == "Rocinante")
    time = FakeTime()

    status = produce(["--unicorns", "3", "--duration", "10"], time, kinesis)

    assert status == 1
    assert refusals.count == 6  # the first attempt and five more
    assert sorted(key for key, _ in read_stream(kinesis)) == ["Bucephalus", "Shadowfax"]
    # The writer's backoff, on the fake clock: full jitter below 0.1 s doubling.
    assert 0 < sum(time.sleeps) <= 0.1 + 0.2 + 0.4 + 0.8 + 1.6
    lines = stderr_lines(capsys)
    assert lines[-2].startswith("producer: failed: sent 2, retried 5, failed 1, ")
    assert lines[-1] == (
        "producer: 1 record not accepted by stream 'wildrydes' after 6 attempts "
        "(last error ProvisionedThroughputExceededException)"
    )


def test_a_missing_stream_fails_with_one_line_naming_it(
    kinesis: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    status = produce(["--duration", "5"], FakeTime())

    assert status == 1
    lines = stderr_lines(capsys)
    assert lines[-1] == (
        "producer: stream 'wildrydes' not found in us-east-1 "
        "(endpoint https://kinesis.us-east-1.amazonaws.com)"
    )
    assert not any(line.startswith("producer: failed:") for line in lines)


def test_progress_lines_go_to_stderr_every_few_seconds(
    kinesis: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    create_stream(kinesis)

    status = produce(["--unicorns", "2", "--duration", "12", "--progress", "5"], FakeTime())

    assert status == 0
    assert stderr_lines(capsys)[1:] == [
        "producer: sent 10, retried 0, failed 0, 2.0 records/s, 5.0s elapsed",
        "producer: sent 20, retried 0, failed 0, 2.0 records/s, 10.0s elapsed",
        "producer: done: sent 24, retried 0, failed 0, 2.0 records/s, 12.0s elapsed",
    ]


def test_ctrl_c_stops_an_open_ended_run_with_the_summary(
    kinesis: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    create_stream(kinesis)
    time = FakeTime()

    def sleep(seconds: float) -> None:
        if len(time.sleeps) == 3:
            raise KeyboardInterrupt
        time.sleep(seconds)

    status = main(["--unicorns", "2"], clock=time.clock, sleep=sleep, wall=time.wall)

    assert status == 0
    assert len(read_stream(kinesis)) == 8
    assert stderr_lines(capsys)[-1] == (
        "producer: stopped: sent 8, retried 0, failed 0, 2.7 records/s, 3.0s elapsed"
    )


def test_ctrl_c_during_a_send_owns_up_to_the_records_in_flight(
    kinesis: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    create_stream(kinesis)
    calls: list[int] = []

    def interrupt_the_third_call(**_: Any) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt

    kinesis.meta.events.register("before-call.kinesis.PutRecords", interrupt_the_third_call)

    status = produce(["--unicorns", "2", "--progress", "0"], FakeTime(), kinesis)

    assert status == 0
    assert len(read_stream(kinesis)) == 4
    assert stderr_lines(capsys)[-1] == (
        "producer: stopped: sent 4, retried 0, failed 0, 2.0 records/s, 2.0s elapsed, "
        "2 unconfirmed"
    )


ARCHIVE = [
    b'{"Name":"Shadowfax","StatusTime":"2026-11-22 14:05:09.123","Latitude":40.7,'
    b'"Longitude":-73.9,"Distance":30.1,"HealthPoints":150,"MagicPoints":149}\n',
    b"\n",
    b'{ "Name": "Rocinante", "StatusTime": "2026-11-22 14:05:09.200", "HealthPoints": 99 }\n',
    b'{"Name":"Shadowfax","HealthPoints":"not a number"}\r\n',
    b"   \n",
    b'{"Name":"Bucephalus","Note":"caf\xc3\xa9"}',
]
EXPECTED = [ARCHIVE[0], ARCHIVE[2], ARCHIVE[3], ARCHIVE[5] + b"\n"]


def test_a_replay_puts_every_line_in_file_order_byte_for_byte(
    kinesis: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create_stream(kinesis)
    path = tmp_path / "wildrydes-1-2026-11-22-14-05-09-abc.json"
    path.write_bytes(b"".join(ARCHIVE))
    time = FakeTime()

    status = produce(["--from-file", str(path)], time)

    assert status == 0
    assert read_stream(kinesis) == [
        ("Shadowfax", EXPECTED[0]),
        ("Rocinante", EXPECTED[1]),
        ("Shadowfax", EXPECTED[2]),
        ("Bucephalus", EXPECTED[3]),
    ]
    assert time.sleeps == []
    lines = stderr_lines(capsys)
    assert lines[0].endswith(f"replaying 4 records from {path} as fast as the stream takes them")
    assert lines[-1].startswith("producer: done: sent 4, retried 0, failed 0")


def test_a_replay_from_stdin_at_a_given_rate(
    kinesis: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    create_stream(kinesis)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"".join(ARCHIVE))))
    time = FakeTime()

    status = produce(["--from-file", "-", "--rate", "2"], time)

    assert status == 0
    assert [data for _, data in read_stream(kinesis)] == EXPECTED
    assert time.sleeps == [0.5, 0.5, 0.5, 0.5]
    assert stderr_lines(capsys)[-1] == (
        "producer: done: sent 4, retried 0, failed 0, 2.0 records/s, 2.0s elapsed"
    )


def test_a_replay_file_with_a_bad_line_is_refused_and_nothing_is_sent(
    kinesis: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create_stream(kinesis)
    path = tmp_path / "archive.json"
    path.write_bytes(
        ARCHIVE[0] + b"\n" + b'{"Name":"Shadowfax"}{"Name":"Rocinante"}\n' + ARCHIVE[2]
    )

    status = produce(["--from-file", str(path)], FakeTime())

    assert status == 1
    assert read_stream(kinesis) == []
    assert stderr_lines(capsys) == [
        f"producer: {path}:3: not JSON (Extra data: line 1 column 21 (char 20))"
    ]


def test_a_replay_line_without_a_name_is_refused(
    kinesis: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create_stream(kinesis)
    path = tmp_path / "archive.json"
    path.write_bytes(ARCHIVE[0] + json.dumps({"HealthPoints": 90}).encode() + b"\n")

    assert produce(["--from-file", str(path)], FakeTime()) == 1
    assert read_stream(kinesis) == []
    assert stderr_lines(capsys) == [
        f'producer: {path}:2: no "Name" field to use as the partition key'
    ]


@pytest.mark.parametrize(
    ("unset", "message"),
    [
        (
            ("AWS_DEFAULT_REGION", "AWS_REGION"),
            "producer: no AWS region configured: set AWS_DEFAULT_REGION (or a profile's "
            "region) or pass --region",
        ),
        (
            ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"),
            "producer: no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY",
        ),
    ],
)
def test_missing_configuration_fails_before_any_call(
    aws_env: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    unset: tuple[str, ...],
    message: str,
) -> None:
    # No moto here: the producer must stop before it makes a request.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    for name in unset:
        monkeypatch.delenv(name, raising=False)

    assert produce(["--duration", "1"], FakeTime()) == 1
    assert stderr_lines(capsys) == [message]


def test_the_region_flag_overrides_the_environment(
    kinesis: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    status = produce(["--duration", "1", "--region", "eu-west-1"], FakeTime())

    assert status == 1
    assert stderr_lines(capsys)[-1] == (
        "producer: stream 'wildrydes' not found in eu-west-1 "
        "(endpoint https://kinesis.eu-west-1.amazonaws.com)"
    )


def test_an_unreachable_endpoint_fails_in_one_line(
    aws_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as closed:  # bound but not listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{closed.getsockname()[1]}"
        client = boto3.session.Session().client(
            "kinesis", endpoint_url=endpoint, config=Config(retries={"max_attempts": 1})
        )

        status = produce(["--duration", "1"], FakeTime(), client)

    assert status == 1
    assert stderr_lines(capsys)[-1] == (
        "producer: PutRecords to stream 'wildrydes' failed: "
        f'Could not connect to the endpoint URL: "{endpoint}/"'
    )


@pytest.fixture
def moto_server(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    try:
        yield endpoint
    finally:
        server.stop()


def test_aws_endpoint_url_points_the_producer_at_a_local_endpoint(
    moto_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert produce(["--duration", "1"], FakeTime()) == 1
    assert stderr_lines(capsys)[-1] == (
        f"producer: stream 'wildrydes' not found in us-east-1 (endpoint {moto_server})"
    )

    client = boto3.session.Session().client("kinesis")
    create_stream(client)
    assert produce(["--duration", "3", "--seed", "5"], FakeTime()) == 0
    assert len(read_stream(client)) == 15
    assert stderr_lines(capsys)[0].startswith(
        f"producer: stream 'wildrydes' in us-east-1 ({moto_server}): 5 unicorns"
    )


def test_a_taxi_run_puts_the_trips_of_its_slice_of_the_day_on_the_trip_stream(
    kinesis: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    kinesis.create_stream(StreamName="taxi-trips", ShardCount=2)
    time = FakeTime()
    argv = ["--dataset", "taxi", "--day", "2026-11-23", "--start", "17:30", "--speed", "120"]

    status = produce([*argv, "--duration", "3", "--seed", "11", "--progress", "0"], time)

    assert status == 0
    lines = stderr_lines(capsys)
    assert lines[0].endswith(
        "taxi trips of 2026-11-23 from 17:30, about 50,000 a day, at 120x (for 3s); seed 11"
    )
    on_stream = [
        (r["PartitionKey"], parse_trip(r["Data"])) for r in stream_records(kinesis, "taxi-trips")
    ]
    # Six simulated minutes of an evening peak, every trip once, keyed by its pickup zone.
    assert 300 < len(on_stream) < 1_000
    assert len({trip.trip_id for _, trip in on_stream}) == len(on_stream)
    assert all(key == str(trip.pickup_zone) for key, trip in on_stream)
    assert all(
        "2026-11-23 17:30:00" <= trip.dropoff_time < "2026-11-23 17:36:00" for _, trip in on_stream
    )
    assert lines[-1].startswith(f"producer: done: sent {len(on_stream)}, retried 0, failed 0")
    assert time.sleeps[-1] == pytest.approx(1.0)  # a send a second
