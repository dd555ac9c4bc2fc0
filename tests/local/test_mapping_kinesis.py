"""The event-source runtime against Kinesis and SQS on moto: positions, shards, destinations."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.checkpoints import CheckpointStore
from local.invoke import FunctionSpec, Invoker
from local.mapping import DISCOVERY_INTERVAL, EventSourceMapping, MappingSettings, SqsDestination
from local.shards import Shard, ready_shards, stream_arn
from tests.local.test_mapping import MemoryShard


@pytest.fixture
def aws(aws_env: None) -> Iterator[boto3.session.Session]:
    with mock_aws():
        yield boto3.session.Session()


class Collect:
    def __init__(self, fail_on: bytes | None = None) -> None:
        self.seen: list[tuple[str, bytes]] = []
        self.fail_on = fail_on

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        batch = [
            (r["eventID"].split(":")[0], base64.b64decode(r["kinesis"]["data"]))
            for r in event["Records"]
        ]
        if self.fail_on is not None and any(data == self.fail_on for _, data in batch):
            raise ValueError("poison")
        self.seen.extend(batch)
        return {}


def mapping(
    session: boto3.session.Session,
    handler: Collect,
    checkpoints: CheckpointStore | None = None,
    **settings: Any,
) -> EventSourceMapping:
    kinesis = session.client("kinesis")
    spec = FunctionSpec(
        "f", "wildrydes-local-f", "arn:aws:lambda:us-east-1:123456789012:function:f", handler
    )
    return EventSourceMapping(
        MappingSettings(function="f", stream="wildrydes", **settings),
        spec,
        kinesis,
        Invoker(),
        stream_arn=stream_arn(kinesis, "wildrydes"),
        region="us-east-1",
        destination=settings.get("on_failure")
        and SqsDestination(session.client("sqs"), settings["on_failure"]),
        checkpoints=checkpoints,
    )


def put(session: boto3.session.Session, *items: str) -> None:
    kinesis = session.client("kinesis")
    for n, item in enumerate(items):
        kinesis.put_record(StreamName="wildrydes", Data=item.encode(), PartitionKey=f"key-{n}")


def settle(target: EventSourceMapping) -> None:
    """Poll until the mapping has nothing left (no test here waits on a retry)."""
    for _ in range(30):
        target.poll(time.time() + 3600)


@pytest.mark.parametrize(
    ("position", "expected"), [("LATEST", [b"after"]), ("TRIM_HORIZON", [b"before", b"after"])]
)
def test_the_starting_position_decides_where_reading_begins(
    aws: boto3.session.Session, position: str, expected: list[bytes]
) -> None:
    aws.client("kinesis").create_stream(StreamName="wildrydes", ShardCount=1)
    put(aws, "before")
    handler = Collect()
    target = mapping(aws, handler, starting_position=position)
    target.start(0.0)
    put(aws, "after")
    settle(target)
    assert [data for _, data in handler.seen] == expected


def test_every_shard_is_read_in_order(aws: boto3.session.Session) -> None:
    aws.client("kinesis").create_stream(StreamName="wildrydes", ShardCount=3)
    items = [f"item-{n:03d}" for n in range(90)]
    put(aws, *items)
    handler = Collect()
    target = mapping(aws, handler, starting_position="TRIM_HORIZON", batch_size=7)
    target.start(0.0)
    settle(target)

    assert sorted(data.decode() for _, data in handler.seen) == items
    shards = {shard for shard, _ in handler.seen}
    assert len(shards) == 3
    for shard in shards:  # within a shard, in the order they were put
        in_shard = [data.decode() for s, data in handler.seen if s == shard]
        assert in_shard == sorted(in_shard)
    assert target.stats()["records"] == 90


def test_a_discarded_batch_is_described_on_the_sqs_queue(aws: boto3.session.Session) -> None:
    aws.client("kinesis").create_stream(StreamName="wildrydes", ShardCount=1)
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="wildrydes-stream-failures")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    put(aws, "ok-1", "poison", "ok-2")
    handler = Collect(fail_on=b"poison")
    target = mapping(
        aws, handler, starting_position="TRIM_HORIZON", bisect=True, max_retries=0, on_failure=arn
    )
    target.start(0.0)
    settle(target)

    assert sorted(data for _, data in handler.seen) == [b"ok-1", b"ok-2"]
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    info = json.loads(message["Body"])["KinesisBatchInfo"]
    assert info["batchSize"] == 1
    assert info["streamArn"].endswith(":stream/wildrydes")
    (record,) = aws.client("kinesis").get_records(
        ShardIterator=aws.client("kinesis").get_shard_iterator(
            StreamName="wildrydes",
            ShardId=info["shardId"],
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            StartingSequenceNumber=info["startSequenceNumber"],
        )["ShardIterator"],
        Limit=1,
    )["Records"]
    assert record["Data"] == b"poison"  # the record points at the poison, as Lambda's does


def test_child_shards_wait_for_their_parents() -> None:
    shards = [
        Shard("shardId-0", ()),
        Shard("shardId-1", ("shardId-0",)),
        Shard("shardId-2", ("shardId-0",)),
        Shard("shardId-3", ("shardId-1", "shardId-2")),
    ]
    known = {s.shard_id for s in shards}
    assert [s.shard_id for s in ready_shards(shards, set(), known)] == ["shardId-0"]
    assert [s.shard_id for s in ready_shards(shards, {"shardId-0"}, known)] == [
        "shardId-1",
        "shardId-2",
    ]
    done = {"shardId-0", "shardId-1"}
    assert [s.shard_id for s in ready_shards(shards, done, known)] == ["shardId-2"]
    # A parent that has aged out of the stream no longer holds its children back.
    assert [s.shard_id for s in ready_shards(shards[1:], set(), known - {"shardId-0"})] == [
        "shardId-1",
        "shardId-2",
    ]


def test_drain_reads_what_arrived_since_the_last_read_before_saying_done(
    aws: boto3.session.Session,
) -> None:
    # The stop of `make demo`: aggregate's last window puts summaries on the
    # stream persist reads just after persist's last (empty) read.
    aws.client("kinesis").create_stream(StreamName="wildrydes", ShardCount=1)
    handler = Collect()
    target = mapping(aws, handler, starting_position="TRIM_HORIZON")
    now = time.time()
    target.start(now)
    target.poll(now)  # an empty read: the next is a read interval away
    put(aws, "last summary")

    passes = 0
    while not target.drain(now + 0.01):
        passes += 1
        assert passes < 10
    assert [data for _, data in handler.seen] == [b"last summary"]


@pytest.mark.parametrize("position", ["LATEST", "TRIM_HORIZON"])
def test_a_mapping_started_again_carries_on_after_its_checkpoint(
    aws: boto3.session.Session, tmp_path: Any, position: str
) -> None:
    aws.client("kinesis").create_stream(StreamName="wildrydes", ShardCount=2)
    store = CheckpointStore(tmp_path)
    put(aws, "before the start")
    first = Collect()
    target = mapping(aws, first, starting_position=position, checkpoints=store)
    target.start(time.time())
    put(aws, "one", "two")
    settle(target)
    # The runtime dies here; these arrive while nothing reads the stream.
    put(aws, "three", "four")

    second = Collect()
    again = mapping(aws, second, starting_position=position, checkpoints=store)
    again.start(time.time())
    settle(again)

    seen = [data for _, data in first.seen + second.seen]
    expected = [b"one", b"two", b"three", b"four"]
    if position == "TRIM_HORIZON":
        expected.insert(0, b"before the start")
    assert sorted(seen) == sorted(expected)  # each record once, none lost
    assert sorted(data for _, data in second.seen) == [b"four", b"three"]


def test_with_latest_a_shard_nothing_was_read_from_resumes_from_the_first_start(
    aws: boto3.session.Session, tmp_path: Any
) -> None:
    aws.client("kinesis").create_stream(StreamName="wildrydes", ShardCount=1)
    store = CheckpointStore(tmp_path)
    put(aws, "before the start")
    target = mapping(aws, Collect(), starting_position="LATEST", checkpoints=store)
    target.start(time.time())
    time.sleep(0.01)  # moto keeps arrival times to the millisecond
    put(aws, "while down")  # the first runtime died before reading anything

    handler = Collect()
    again = mapping(aws, handler, starting_position="LATEST", checkpoints=store)
    again.start(time.time() + 60)
    settle(again)
    assert [data for _, data in handler.seen] == [b"while down"]


def test_after_a_split_the_children_wait_until_the_parent_is_read_to_its_end(
    aws: boto3.session.Session,
) -> None:
    """Lambda reads a child shard only once its parent is done: a unicorn's readings
    from before the split must reach the function before those from after it.

    The shards are listed by moto; their records are lists (`MemoryShard`), since moto
    keeps writing to a split shard's parent and so never fills the children."""
    kinesis = aws.client("kinesis")
    kinesis.create_stream(StreamName="wildrydes", ShardCount=1)
    (parent,) = kinesis.list_shards(StreamName="wildrydes")["Shards"]
    kinesis.split_shard(
        StreamName="wildrydes", ShardToSplit=parent["ShardId"], NewStartingHashKey=str(2**127)
    )
    sources = {}
    for listed in kinesis.list_shards(StreamName="wildrydes")["Shards"]:
        shard = MemoryShard(listed["ShardId"], ended=listed["ShardId"] == parent["ShardId"])
        for n in range(3):
            shard.put(f"{'before' if shard.ended else 'after'}-{n}".encode(), 1.0)
        sources[shard.shard_id] = shard
    handler = Collect()
    spec = FunctionSpec("f", "wildrydes-local-f", "arn:aws:lambda:us-east-1:1:function:f", handler)
    target = EventSourceMapping(
        MappingSettings(
            function="f", stream="wildrydes", starting_position="TRIM_HORIZON", batch_size=1
        ),
        spec,
        kinesis,
        Invoker(),
        stream_arn=stream_arn(kinesis, "wildrydes"),
        region="us-east-1",
        reader=lambda shard: sources[shard.shard_id],
    )
    target.start(0.0)
    # One record a batch, and the shards listed again before every poll: the parent is
    # still being read when the children are listed.
    for step in range(1, 20):
        target.poll(step * (DISCOVERY_INTERVAL + 1))

    order = [data.decode() for _, data in handler.seen]
    assert order[:3] == ["before-0", "before-1", "before-2"]
    assert sorted(order[3:]) == ["after-0", "after-0", "after-1", "after-1", "after-2", "after-2"]
