"""The embedded endpoint's Kinesis shard methods give what moto's own give, in constant time."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.kinesis.models import Shard

from local import moto_server
from local.endpoint import Endpoint, client_environment, free_port


def shard_with(count: int) -> Shard:
    shard = Shard(0, 0, 2**128)
    for n in range(count):
        shard.put_record(f"unicorn-{n % 7}", f"data-{n}", "")
    return shard


def outcome(result: tuple[list[Any], int, int]) -> tuple[list[int], int, int]:
    records, last, behind = result
    return [r.sequence_number for r in records], last, behind


@pytest.mark.parametrize("count", [0, 1, 50])
@pytest.mark.parametrize("after", ["0", "1", "25", "49", "50", "60"])
@pytest.mark.parametrize("limit", [None, 1, 10, 100])
def test_get_records_returns_what_motos_returns(count: int, after: str, limit: int | None) -> None:
    shard = shard_with(count)
    assert outcome(moto_server.get_records(shard, after, limit)) == outcome(
        Shard.get_records(shard, after, limit)
    )


def test_the_first_and_last_sequence_numbers_are_motos() -> None:
    for count in (0, 1, 50):
        shard = shard_with(count)
        assert moto_server.get_max_sequence_number(shard) == Shard.get_max_sequence_number(shard)
        assert moto_server.get_min_sequence_number(shard) == Shard.get_min_sequence_number(shard)


def test_a_shard_whose_numbers_have_gaps_is_read_by_motos_own_method() -> None:
    shard = shard_with(20)
    del shard.records[7]  # as if records had been moved or trimmed
    for after in ("0", "5", "7", "15"):
        assert outcome(moto_server.get_records(shard, after, 5)) == outcome(
            Shard.get_records(shard, after, 5)
        )


def test_records_put_after_a_read_are_found_by_the_next_one() -> None:
    shard = shard_with(3)
    first, last, _ = moto_server.get_records(shard, "0", None)
    shard.put_record("unicorn-9", "late", "")
    second, _, _ = moto_server.get_records(shard, str(last), None)
    assert [r.sequence_number for r in first] == [1, 2, 3]
    assert [(r.sequence_number, r.data) for r in second] == [(4, "late")]


def aged_shard(ages: list[float]) -> Shard:
    """A shard whose records were put `ages` seconds after its first."""
    shard = shard_with(len(ages))
    for record, age in zip(shard.records.values(), ages, strict=True):
        record.created_at = 1_795_000_000.0 + age
    return shard


def test_a_shard_drops_the_records_its_retention_no_longer_covers() -> None:
    shard = aged_shard([0, 1, 2, 5, 6, 9])

    moto_server.trim(shard, 3)  # 3 s before the newest, at 9: 6 and later stay

    assert list(shard.records) == [5, 6]
    assert outcome(moto_server.get_records(shard, "0", None))[0] == [5, 6]  # the trim horizon


def test_the_newest_record_always_stays_so_sequence_numbers_go_on_growing() -> None:
    shard = aged_shard([0, 1, 2])

    moto_server.trim(shard, 0)
    assert list(shard.records) == [3]
    shard.put_record("unicorn-1", "next", "")

    assert list(shard.records) == [3, 4]
    assert outcome(moto_server.get_records(shard, "3", None))[0] == [4]


def test_an_empty_shard_has_nothing_to_drop() -> None:
    shard = shard_with(0)
    moto_server.trim(shard, 0)
    assert not shard.records


@pytest.fixture
def short_lived(tmp_path: Path) -> Iterator[str]:
    """The embedded endpoint's URL, keeping records for one second."""
    server = Endpoint(free_port(), log_path=tmp_path / "endpoint.log", record_retention=1)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def client(url: str, service: str) -> Any:
    settings = client_environment(url)
    return boto3.client(
        service,
        endpoint_url=url,
        aws_access_key_id=settings["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=settings["AWS_SECRET_ACCESS_KEY"],
        region_name=settings["AWS_DEFAULT_REGION"],
    )


def test_the_endpoint_keeps_a_streams_records_for_the_retention_it_was_given(
    short_lived: str,
) -> None:
    kinesis = client(short_lived, "kinesis")
    kinesis.create_stream(StreamName="s", ShardCount=1)
    for n in range(3):
        kinesis.put_record(StreamName="s", Data=b"old %d" % n, PartitionKey="u")
    time.sleep(1.5)
    kinesis.put_record(StreamName="s", Data=b"new", PartitionKey="u")
    shard = kinesis.list_shards(StreamName="s")["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(
        StreamName="s", ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]

    records = kinesis.get_records(ShardIterator=iterator)["Records"]

    assert [(r["Data"], r["SequenceNumber"]) for r in records] == [(b"new", "4")]


def test_the_endpoint_lists_no_model_object_but_s3s(short_lived: str) -> None:
    # moto lists every object it makes, for its dashboard, so none is ever freed: a
    # status item overwritten every second, every record and datapoint. Only S3's
    # objects stay listed (its reset releases their files through the list).
    kinesis = client(short_lived, "kinesis")
    kinesis.create_stream(StreamName="s", ShardCount=1)
    kinesis.put_record(StreamName="s", Data=b"x", PartitionKey="u")
    s3 = client(short_lived, "s3")
    s3.create_bucket(Bucket="kept-objects")
    s3.put_object(Bucket="kept-objects", Key="k", Body=b"kept")

    with urllib.request.urlopen(f"{short_lived}/moto-api/data.json", timeout=5) as answer:
        listed = json.load(answer)

    assert listed["kinesis"]["Record"] == []
    assert listed["cloudwatch"].get("MetricDatum", []) == []  # no datapoint per put either
    assert [key["name"] for key in listed["s3"]["FakeKey"]] == ["k"]
