"""The local event-source runtime behaves as Lambda's Kinesis event source mappings do.

Each test drives one shard poller with an in-memory shard and a fake clock,
so Lambda's rules (docs/lambda-kinesis.md) are checked one at a time, fast.
`test_mapping_kinesis.py` checks the same engine against Kinesis on moto.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import pytest

from chalicelib.pipeline.events import StreamRecord
from local.invoke import FunctionSpec, Invoker
from local.mapping import MAX_STATE_BYTES, MappingSettings, ShardPoller, iso

STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/wildrydes"
T0 = 1_795_000_000.0  # a whole multiple of 10 s: windows of 10 s start here


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class MemoryShard:
    """A shard whose records are a list; `closed` once told and read to the end."""

    shard_id: str = "shardId-000000000000"
    records: list[StreamRecord] = field(default_factory=list)
    position: int = 0
    ended: bool = False
    closed: bool = False

    def put(self, data: bytes, arrival: float, key: str = "k") -> StreamRecord:
        record = StreamRecord(str(1000 + len(self.records)), key, data, arrival)
        self.records.append(record)
        return record

    def read(self, limit: int = 10_000) -> list[StreamRecord]:
        found = self.records[self.position : self.position + limit]
        self.position += len(found)
        if self.ended and self.position == len(self.records):
            self.closed = True
        return found


@dataclass
class Destination:
    """Collects on-failure records (the SQS destination is tested against moto)."""

    sent: list[dict[str, Any]] = field(default_factory=list)

    def send(self, record: dict[str, Any]) -> None:
        self.sent.append(record)


class Function:
    """A handler that records what it was given and can be told to fail."""

    def __init__(self, behaviour: Any = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.contexts: list[Any] = []
        self.behaviour = behaviour or (lambda event, n: {})

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(json.loads(json.dumps(event)))
        self.contexts.append(context)
        return self.behaviour(event, len(self.events))

    def data(self, index: int = -1) -> list[bytes]:
        return [base64.b64decode(r["kinesis"]["data"]) for r in self.events[index]["Records"]]

    def delivered(self) -> list[bytes]:
        return [d for i in range(len(self.events)) for d in self.data(i)]


def poller(
    function: Function,
    shard: MemoryShard,
    clock: Clock,
    destination: Destination | None = None,
    **settings: Any,
) -> ShardPoller:
    spec = FunctionSpec(
        name="f",
        deployed_name="wildrydes-local-f",
        arn="arn:aws:lambda:us-east-1:123456789012:function:wildrydes-local-f",
        handler=function,
        timeout=60,
        role_arn="arn:aws:iam::123456789012:role/wildrydes-local-f",
    )
    mapping = MappingSettings(function="f", stream="wildrydes", **settings)
    return ShardPoller(
        mapping,
        spec,
        shard,
        Invoker(clock),
        stream_arn=STREAM_ARN,
        region="us-east-1",
        destination=destination,
    )


def run(target: ShardPoller, clock: Clock, until: float, step: float = 0.05) -> None:
    """Poll as the runtime would, moving the clock to each due time (at most `step` on)."""
    while clock.now < until:
        due = target.poll(clock.now)
        clock.now = min(until, max(clock.now + 1e-6, min(due, clock.now + step)))
    target.poll(clock.now)


def fill(shard: MemoryShard, count: int, start: float = T0, gap: float = 0.01) -> None:
    for n in range(count):
        shard.put(f"r{n}".encode(), start + n * gap)


def fails_when(predicate: Any) -> Any:
    def behaviour(event: dict[str, Any], n: int) -> Any:
        data = [base64.b64decode(r["kinesis"]["data"]) for r in event["Records"]]
        if predicate(data, n):
            raise RuntimeError("poison in the batch")
        return {}

    return behaviour


def test_the_event_and_context_look_like_lambdas() -> None:
    clock, shard, function = Clock(), MemoryShard(), Function()
    record = shard.put(b'{"Name":"Shadowfax"}\n', T0 - 1.5, key="Shadowfax")
    run(poller(function, shard, clock, batch_size=10), clock, T0 + 0.1)

    (event,) = function.events
    assert event == {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": "Shadowfax",
                    "sequenceNumber": record.sequence_number,
                    "data": base64.b64encode(b'{"Name":"Shadowfax"}\n').decode(),
                    "approximateArrivalTimestamp": T0 - 1.5,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"shardId-000000000000:{record.sequence_number}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/wildrydes-local-f",
                "awsRegion": "us-east-1",
                "eventSourceARN": STREAM_ARN,
            }
        ]
    }
    context = function.contexts[0]
    assert context.function_name == "wildrydes-local-f"
    assert context.invoked_function_arn.endswith(":function:wildrydes-local-f")
    assert len(context.aws_request_id) == 36
    assert 0 < context.get_remaining_time_in_millis() <= 60_000


def test_batches_hold_at_most_the_batch_size_in_order_and_each_record_once() -> None:
    clock, shard, function = Clock(), MemoryShard(), Function()
    fill(shard, 250)
    target = poller(function, shard, clock, batch_size=100)
    run(target, clock, T0 + 1)

    assert [len(e["Records"]) for e in function.events] == [100, 100, 50]
    assert function.delivered() == [f"r{n}".encode() for n in range(250)]
    assert target.checkpoint == shard.records[-1].sequence_number


def test_a_partial_batch_waits_for_the_batching_window() -> None:
    clock, shard, function = Clock(), MemoryShard(), Function()
    fill(shard, 3)
    target = poller(function, shard, clock, batch_size=100, batching_window=5)
    run(target, clock, T0 + 4.9)
    assert function.events == []
    run(target, clock, T0 + 5.1)
    assert [len(e["Records"]) for e in function.events] == [3]


def test_a_failed_batch_is_not_checkpointed_and_is_retried_after_a_backoff() -> None:
    clock, shard = Clock(), MemoryShard()
    function = Function(fails_when(lambda data, n: n <= 2))
    fill(shard, 5)
    target = poller(function, shard, clock, batch_size=10, retry_base=1.0)

    run(target, clock, T0 + 0.5)
    assert len(function.events) == 1 and target.checkpoint is None
    run(target, clock, T0 + 3.5)  # retried after 1 s, then after 2 more
    assert len(function.events) == 3
    assert target.checkpoint == shard.records[-1].sequence_number
    assert all(function.data(i) == function.data(0) for i in range(3))


def test_a_handler_exception_is_logged_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock, shard = Clock(), MemoryShard()
    function = Function(fails_when(lambda data, n: True))
    fill(shard, 1)
    with caplog.at_level(logging.ERROR):
        run(poller(function, shard, clock, batch_size=10), clock, T0 + 0.2)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Traceback (most recent call last)" in logged
    assert "RuntimeError: poison in the batch" in logged


def test_retries_run_out_and_the_batch_is_described_on_the_failure_destination() -> None:
    clock, shard, destination = Clock(), MemoryShard(), Destination()
    function = Function(fails_when(lambda data, n: b"r0" in data))
    fill(shard, 3)
    target = poller(function, shard, clock, destination, batch_size=3, max_retries=2)
    run(target, clock, T0 + 10)
    shard.put(b"after", T0 + 10)
    run(target, clock, T0 + 11)

    assert len(function.events) == 4  # the first try and two retries, then the next batch
    assert function.data(-1) == [b"after"]
    (record,) = destination.sent
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["responseContext"]["functionError"].startswith("Unhandled: RuntimeError")
    assert record["KinesisBatchInfo"] == {
        "shardId": "shardId-000000000000",
        "startSequenceNumber": shard.records[0].sequence_number,
        "endSequenceNumber": shard.records[2].sequence_number,
        "approximateArrivalOfFirstRecord": record["KinesisBatchInfo"][
            "approximateArrivalOfFirstRecord"
        ],
        "approximateArrivalOfLastRecord": record["KinesisBatchInfo"][
            "approximateArrivalOfLastRecord"
        ],
        "batchSize": 3,
        "streamArn": STREAM_ARN,
    }
    assert record["KinesisBatchInfo"]["approximateArrivalOfFirstRecord"].endswith("+00:00")
    assert target.stats.discarded == 3


def test_records_older_than_the_maximum_age_are_given_up() -> None:
    clock, shard, destination = Clock(), MemoryShard(), Destination()
    function = Function(fails_when(lambda data, n: True))
    fill(shard, 2)
    target = poller(
        function, shard, clock, destination, batch_size=10, max_record_age=60, retry_cap=5
    )
    run(target, clock, T0 + 59)
    assert destination.sent == []
    run(target, clock, T0 + 66)
    assert [r["requestContext"]["condition"] for r in destination.sent] == ["RecordAgeExceeded"]


def test_bisect_isolates_a_poison_record_and_lets_every_other_record_through() -> None:
    clock, shard, destination = Clock(), MemoryShard(), Destination()
    function = Function(fails_when(lambda data, n: b"r5" in data))
    fill(shard, 16)
    target = poller(function, shard, clock, destination, batch_size=16, bisect=True, max_retries=1)
    run(target, clock, T0 + 30)

    succeeded = [
        d
        for i in range(len(function.events))
        for d in function.data(i)
        if b"r5" not in function.data(i)
    ]
    assert sorted(succeeded) == sorted(f"r{n}".encode() for n in range(16) if n != 5)
    assert len(succeeded) == 15  # each exactly once
    (record,) = destination.sent
    assert record["KinesisBatchInfo"]["batchSize"] == 1
    assert record["KinesisBatchInfo"]["startSequenceNumber"] == shard.records[5].sequence_number
    assert target.checkpoint == shard.records[-1].sequence_number


def test_a_partial_batch_response_checkpoints_below_the_lowest_failure() -> None:
    clock, shard = Clock(), MemoryShard()
    fill(shard, 6)

    def report_third_and_fifth(event: dict[str, Any], n: int) -> Any:
        if n > 1:
            return {"batchItemFailures": []}
        records = event["Records"]
        return {
            "batchItemFailures": [
                {"itemIdentifier": records[4]["kinesis"]["sequenceNumber"]},
                {"itemIdentifier": records[2]["kinesis"]["sequenceNumber"]},
            ]
        }

    function = Function(report_third_and_fifth)
    target = poller(function, shard, clock, batch_size=10, report_failures=True)
    run(target, clock, T0 + 0.2)
    assert target.checkpoint == shard.records[1].sequence_number
    run(target, clock, T0 + 2)
    assert function.data(1) == [b"r2", b"r3", b"r4", b"r5"]
    assert target.checkpoint == shard.records[-1].sequence_number


@pytest.mark.parametrize("bisect", [False, True])
def test_partial_responses_deliver_every_record_until_it_succeeds_once(bisect: bool) -> None:
    clock, shard = Clock(), MemoryShard()
    fill(shard, 10)
    refused = {b"r2": 2, b"r7": 1}  # r2 fails twice, r7 once

    def refuse(event: dict[str, Any], n: int) -> Any:
        failures = []
        for record in event["Records"]:
            data = base64.b64decode(record["kinesis"]["data"])
            if refused.get(data, 0) > 0:
                refused[data] -= 1
                failures.append({"itemIdentifier": record["kinesis"]["sequenceNumber"]})
        return {"batchItemFailures": failures}

    function = Function(refuse)
    target = poller(
        function, shard, clock, batch_size=4, report_failures=True, bisect=bisect, retry_base=1
    )
    run(target, clock, T0 + 20)

    # Lambda splits at the reported record, bisect or not: the rest goes again as it is.
    assert [function.data(i) for i in range(len(function.events))] == [
        [b"r0", b"r1", b"r2", b"r3"],
        [b"r2", b"r3"],
        [b"r2", b"r3"],
        [b"r4", b"r5", b"r6", b"r7"],
        [b"r7"],
        [b"r8", b"r9"],
    ]
    assert target.checkpoint == shard.records[-1].sequence_number
    assert target.stats.records == 10


def test_a_batch_stays_under_lambdas_six_megabyte_payload() -> None:
    clock, shard, function = Clock(), MemoryShard(), Function()
    for n in range(12):
        shard.put(bytes([n]) * 1_000_000, T0 + n * 0.01)
    run(poller(function, shard, clock, batch_size=100), clock, T0 + 1)
    sizes = [len(json.dumps(e)) for e in function.events]
    assert len(function.events) == 3
    assert all(size <= 6 * 1024 * 1024 for size in sizes)
    assert sum(len(e["Records"]) for e in function.events) == 12


def test_a_malformed_failure_identifier_fails_the_whole_batch() -> None:
    clock, shard = Clock(), MemoryShard()
    fill(shard, 3)
    replies = iter([{"batchItemFailures": [{"itemIdentifier": "not-a-sequence-number"}]}])
    function = Function(lambda event, n: next(replies, {"batchItemFailures": []}))
    target = poller(function, shard, clock, batch_size=10, report_failures=True)
    run(target, clock, T0 + 2)
    assert [len(e["Records"]) for e in function.events] == [3, 3]


def test_partial_responses_are_ignored_unless_the_mapping_enables_them() -> None:
    clock, shard = Clock(), MemoryShard()
    fill(shard, 3)
    function = Function(lambda event, n: {"batchItemFailures": [{"itemIdentifier": "1000"}]})
    target = poller(function, shard, clock, batch_size=10)
    run(target, clock, T0 + 2)
    assert len(function.events) == 1
    assert target.checkpoint == shard.records[-1].sequence_number


def counting(event: dict[str, Any], n: int) -> Any:
    """A tumbling-window handler: counts records in its state."""
    state = dict(event["state"])
    state["count"] = state.get("count", 0) + len(event["Records"])
    if event["isFinalInvokeForWindow"]:
        return {"state": {}}
    return {"state": state}


def test_windows_are_cut_by_arrival_carry_state_and_end_with_a_final_invocation() -> None:
    clock, shard = Clock(), MemoryShard()
    for n in range(6):
        shard.put(f"a{n}".encode(), T0 + 1 + n)  # window T0 .. T0+10
    for n in range(3):
        shard.put(f"b{n}".encode(), T0 + 12 + n)  # window T0+10 .. T0+20
    function = Function(counting)
    target = poller(function, shard, clock, batch_size=4, tumbling_window=10)
    run(target, clock, T0 + 21)

    windows = [
        (e["window"]["start"], e["isFinalInvokeForWindow"], len(e["Records"]))
        for e in function.events
    ]
    first, second = iso(T0), iso(T0 + 10)
    assert windows == [
        (first, False, 4),
        (first, False, 2),
        (first, True, 0),
        (second, False, 3),
        (second, True, 0),
    ]
    assert [e["state"].get("count") for e in function.events] == [None, 4, 6, None, 3]
    assert function.events[0]["window"]["end"] == second
    final = function.events[2]
    assert final["shardId"] == "shardId-000000000000"
    assert final["eventSourceARN"] == STREAM_ARN
    assert final["isWindowTerminatedEarly"] is False
    assert target.stats.windows == 2


def test_a_window_closes_when_its_end_has_passed_with_no_later_record() -> None:
    clock, shard = Clock(), MemoryShard()
    shard.put(b"a", T0 + 1)
    function = Function(counting)
    target = poller(function, shard, clock, batch_size=10, tumbling_window=10)
    run(target, clock, T0 + 9.9)
    assert [e["isFinalInvokeForWindow"] for e in function.events] == [False]
    run(target, clock, T0 + 10.5)
    assert [e["isFinalInvokeForWindow"] for e in function.events] == [False, True]
    assert function.events[-1]["state"] == {"count": 1}


def test_a_failing_final_invocation_stops_the_shard_until_it_succeeds() -> None:
    clock, shard = Clock(), MemoryShard()
    shard.put(b"a", T0 + 1)
    shard.put(b"b", T0 + 11)
    finals = {"failures": 0}

    def final_fails_thrice(event: dict[str, Any], n: int) -> Any:
        if event["isFinalInvokeForWindow"] and finals["failures"] < 3:
            finals["failures"] += 1
            raise RuntimeError("cannot emit")
        return counting(event, n)

    function = Function(final_fails_thrice)
    target = poller(
        function, shard, clock, batch_size=10, tumbling_window=10, max_retries=0, retry_base=1
    )

    def invocations() -> list[tuple[str, bool]]:
        return [(e["window"]["start"], e["isFinalInvokeForWindow"]) for e in function.events]

    run(target, clock, T0 + 5)
    # Retried after 1 and 2 s (past MaximumRetryAttempts 0), nothing of the next window meanwhile.
    assert invocations() == [(iso(T0), False)] + [(iso(T0), True)] * 3
    run(target, clock, T0 + 25)
    assert invocations()[4:] == [(iso(T0), True), (iso(T0 + 10), False), (iso(T0 + 10), True)]


def test_a_window_response_without_state_is_a_failure() -> None:
    clock, shard = Clock(), MemoryShard()
    shard.put(b"a", T0 + 1)
    replies = iter([{"not": "state"}])
    function = Function(lambda event, n: next(replies, counting(event, n)))
    target = poller(function, shard, clock, batch_size=10, tumbling_window=10)
    run(target, clock, T0 + 3)
    assert [e["isFinalInvokeForWindow"] for e in function.events[:2]] == [False, False]
    assert function.events[1]["state"] == {}
    assert target.stats.errors == 1


def test_a_window_whose_state_passes_one_megabyte_ends_early() -> None:
    clock, shard = Clock(), MemoryShard()
    shard.put(b"a", T0 + 1)
    shard.put(b"b", T0 + 2)
    big = "x" * (MAX_STATE_BYTES + 10)

    def hoarding(event: dict[str, Any], n: int) -> Any:
        if event["isFinalInvokeForWindow"]:
            return {"state": {}}
        return {"state": {"blob": big} if n == 1 else {"fresh": True}}

    function = Function(hoarding)
    target = poller(function, shard, clock, batch_size=1, tumbling_window=10)
    run(target, clock, T0 + 12)
    flags = [
        (e["isFinalInvokeForWindow"], e["isWindowTerminatedEarly"], "blob" in e["state"])
        for e in function.events
    ]
    assert flags == [
        (False, False, False),
        (True, True, True),
        (False, False, False),
        (True, False, False),
    ]
    assert {e["window"]["start"] for e in function.events} == {iso(T0)}


def test_a_run_past_the_timeout_is_a_failure() -> None:
    clock, shard = Clock(), MemoryShard()
    shard.put(b"a", T0)

    def slow(event: dict[str, Any], n: int) -> Any:
        if n == 1:
            clock.now += 61
        return {}

    function = Function(slow)
    target = poller(function, shard, clock, batch_size=10)
    target.poll(clock.now)
    assert target.checkpoint is None and target.stats.errors == 1
