"""The Firehose emulation against moto: records from every shard into buffered S3 objects.

Most tests run one emulator on a two-shard raw stream; the last ones
provision the whole supporting template on moto and run every delivery
stream it defines, the taxi trips' included.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from chalicelib import names
from chalicelib.taxi.records import encode_trip
from chalicelib.unicorns.records import Reading, encode_reading
from infra import names as infra_names
from infra.resources import ARCHIVE_BUCKET_ID, supporting_resources
from infra.system import ARCHIVED_STREAMS, ArchivedStream
from local.checkpoints import CheckpointStore
from local.firehose import DeliverySettings, FirehoseEmulator
from local.provision import provision
from local.stack import delivery_streams
from tests.faults import fail_calls
from tests.lambda_events import ACCOUNT
from tests.taxi_events import day_trips

BUCKET = "wildrydes-archive-123456789012-us-east-1"
START = 1_800_000_000.0  # the injected clock; moto stamps arrivals with the real one
SETTINGS = DeliverySettings(
    name="wildrydes",
    stream=names.RAW_STREAM,
    bucket=BUCKET,
    prefix="raw/",
    error_prefix="firehose-errors/",
    buffer_seconds=60,
    buffer_bytes=5 * 1024 * 1024,
)
KEY = re.compile(
    r"raw/(\d{4})/(\d{2})/(\d{2})/(\d{2})/wildrydes-1-"
    r"(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-"
    r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
)
# Explicit hash keys that land in the first and the second of two shards.
SHARD_HASH_KEYS = ("1", str(2**127 + 1))


@dataclass
class Sent:
    data: bytes
    shard_id: str
    arrival: float


@dataclass
class Aws:
    kinesis: Any
    s3: Any

    def put(self, count: int, *, start: int = 0, size: int = 0) -> list[Sent]:
        """`count` newline-terminated JSON records, alternating between the two shards."""
        sent = []
        for n in range(start, start + count):
            data = (json.dumps({"Name": f"unicorn-{n}", "pad": "x" * size}) + "\n").encode()
            response = self.kinesis.put_record(
                StreamName=names.RAW_STREAM,
                Data=data,
                PartitionKey=f"unicorn-{n}",
                ExplicitHashKey=SHARD_HASH_KEYS[n % 2],
            )
            sent.append(Sent(data, response["ShardId"], 0.0))
        arrivals = self.arrivals()
        return [replace(s, arrival=arrivals[s.data]) for s in sent]

    def arrivals(self) -> dict[bytes, float]:
        found = {}
        for shard in self.kinesis.list_shards(StreamName=names.RAW_STREAM)["Shards"]:
            iterator = self.kinesis.get_shard_iterator(
                StreamName=names.RAW_STREAM,
                ShardId=shard["ShardId"],
                ShardIteratorType="TRIM_HORIZON",
            )["ShardIterator"]
            page = self.kinesis.get_records(ShardIterator=iterator)
            for record in page["Records"]:
                found[record["Data"]] = record["ApproximateArrivalTimestamp"].timestamp()
        return found

    def objects(self) -> dict[str, bytes]:
        listing = self.s3.list_objects_v2(Bucket=BUCKET)
        return {
            obj["Key"]: self.s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
            for obj in listing.get("Contents", [])
        }


@pytest.fixture
def aws(aws_env: None) -> Iterator[Aws]:
    """A moto account with a two-shard raw stream and an empty archive bucket."""
    with mock_aws():
        kinesis = boto3.client("kinesis")
        kinesis.create_stream(StreamName=names.RAW_STREAM, ShardCount=2)
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        yield Aws(kinesis, s3)


def emulator(aws: Aws, **changes: Any) -> FirehoseEmulator:
    return FirehoseEmulator(replace(SETTINGS, **changes), aws.kinesis, aws.s3)


def records_of(body: bytes) -> list[bytes]:
    return body.splitlines(keepends=True)


def test_every_record_lands_once_in_a_keyed_object_in_shard_order(aws: Aws) -> None:
    sent = aws.put(20)
    firehose = emulator(aws)

    firehose.poll(START)
    firehose.poll(START + 60)

    objects = aws.objects()
    assert len(objects) == 1
    [(key, body)] = objects.items()
    assert sorted(records_of(body)) == sorted(s.data for s in sent)
    assert len(body) == sum(len(s.data) for s in sent)
    for shard_id in {s.shard_id for s in sent}:
        in_shard = [s.data for s in sent if s.shard_id == shard_id]
        assert [r for r in records_of(body) if r in in_shard] == in_shard
    # The key's time is the arrival of the object's first record, in UTC.
    match = KEY.fullmatch(key)
    assert match, key
    first = next(s for s in sent if s.data == records_of(body)[0])
    at = datetime.fromtimestamp(first.arrival, UTC)
    assert match.groups()[:4] == tuple(at.strftime("%Y %m %d %H").split())
    assert match.groups()[4:] == tuple(at.strftime("%Y %m %d %H %M %S").split())
    assert firehose.stats() == {
        "records": 20,
        "objects": 1,
        "bytes": len(body),
        "record bytes": len(body),  # not compressed
        "failed puts": 0,
    }


def test_an_object_is_written_once_the_interval_has_passed(aws: Aws) -> None:
    aws.put(4)
    firehose = emulator(aws)

    firehose.poll(START)
    aws.put(2, start=4)  # joins the buffer: the interval runs from its first record
    firehose.poll(START + 30)
    firehose.poll(START + 59.9)
    assert aws.objects() == {}

    firehose.poll(START + 60)
    [body] = aws.objects().values()
    assert len(records_of(body)) == 6


def test_an_object_is_written_as_soon_as_the_buffer_is_full(aws: Aws) -> None:
    sent = aws.put(10, size=30)
    record_size = len(sent[0].data)
    firehose = emulator(aws, buffer_bytes=3 * record_size + 5)

    firehose.poll(START)

    bodies = list(aws.objects().values())
    # Three records fill an object; a fourth would overflow it, so it starts the next.
    assert sorted(len(records_of(b)) for b in bodies) == [3, 3, 3]
    assert all(len(b) <= 3 * record_size + 5 for b in bodies)
    firehose.poll(START + 60)
    assert sorted(r for b in aws.objects().values() for r in records_of(b)) == sorted(
        s.data for s in sent
    )


def test_drain_reads_the_rest_and_flushes_the_buffer(aws: Aws) -> None:
    sent = aws.put(6)
    firehose = emulator(aws)
    firehose.poll(START)
    sent += aws.put(6, start=6)  # not yet read when the runtime stops

    assert firehose.drain(START + 1) is True

    records = [r for b in aws.objects().values() for r in records_of(b)]
    assert sorted(records) == sorted(s.data for s in sent)
    assert firehose.drain(START + 2) is True
    assert len(aws.objects()) == 1


def test_a_refused_put_is_retried_without_loss(aws: Aws) -> None:
    sent = aws.put(6)
    firehose = emulator(aws)
    calls = fail_calls(aws.s3, "s3.PutObject", "InternalError", times=1)

    firehose.poll(START)
    retry_at = firehose.poll(START + 60)
    assert aws.objects() == {}
    assert retry_at <= START + 61

    firehose.poll(retry_at)
    [body] = aws.objects().values()
    assert sorted(records_of(body)) == sorted(s.data for s in sent)
    assert len(calls) == 2
    assert firehose.stats()["failed puts"] == 1


def test_a_put_whose_answer_is_lost_is_not_written_twice(aws: Aws) -> None:
    # S3 stores the object but the answer never arrives: the retry must not add a copy.
    lost = []

    def lose_the_answer(**_: Any) -> None:
        if not lost:
            lost.append(1)
            error = {"Error": {"Code": "RequestTimeout", "Message": "lost"}}
            raise ClientError(error, "PutObject")

    aws.s3.meta.events.register("after-call.s3.PutObject", lose_the_answer)
    sent = aws.put(4)
    firehose = emulator(aws)

    firehose.poll(START)
    firehose.poll(START + 60)
    assert firehose.drain(START + 61) is True

    assert lost
    [body] = aws.objects().values()
    assert sorted(records_of(body)) == sorted(s.data for s in sent)


def test_records_arriving_during_an_outage_are_archived_once_it_ends(aws: Aws) -> None:
    sent = aws.put(4)
    firehose = emulator(aws, buffer_seconds=0)
    fail_calls(aws.s3, "s3.PutObject", "ServiceUnavailable", times=5)

    for second in range(5):
        firehose.poll(START + second)
        sent += aws.put(1, start=100 + second)
    assert aws.objects() == {}
    assert firehose.drain(START + 5) is True

    records = [r for b in aws.objects().values() for r in records_of(b)]
    assert sorted(records) == sorted(s.data for s in sent)


@pytest.mark.parametrize(
    ("archived", "name", "stream", "prefix"),
    [
        (ARCHIVED_STREAMS[0], "wildrydes", "wildrydes", "raw/"),
        (ARCHIVED_STREAMS[1], "taxi-trips", "taxi-trips", "trips/"),
    ],
    ids=["raw", "trips"],
)
def test_the_emulation_and_the_deployed_delivery_stream_come_from_one_description(
    archived: ArchivedStream, name: str, stream: str, prefix: str
) -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/delivery"
    settings = DeliverySettings.of(archived, BUCKET, role)

    # The same buffer and error output for every archived stream; a prefix each.
    assert settings == DeliverySettings(
        name=name,
        stream=stream,
        bucket=BUCKET,
        prefix=prefix,
        error_prefix=infra_names.FIREHOSE_ERROR_PREFIX,
        buffer_seconds=60,
        buffer_bytes=5 * 1024 * 1024,
        role_arn=role,
        compression="GZIP",
    )
    # What AWS is given says the same.
    resources = supporting_resources("dev")["Resources"]
    deployed = resources[archived.delivery_id]["Properties"]
    destination = deployed["ExtendedS3DestinationConfiguration"]
    assert deployed["DeliveryStreamName"] == settings.name
    (source_id, _) = deployed["KinesisStreamSourceConfiguration"]["KinesisStreamARN"]["Fn::GetAtt"]
    assert resources[source_id]["Properties"]["Name"] == settings.stream
    assert destination["BucketARN"] == {"Fn::GetAtt": [ARCHIVE_BUCKET_ID, "Arn"]}
    assert (destination["Prefix"], destination["ErrorOutputPrefix"]) == (
        settings.prefix,
        settings.error_prefix,
    )
    assert destination["CompressionFormat"] == settings.compression
    hints = destination["BufferingHints"]
    assert (hints["IntervalInSeconds"], hints["SizeInMBs"] * 1024 * 1024) == (
        settings.buffer_seconds,
        settings.buffer_bytes,
    )


def test_a_gzip_delivery_stream_writes_gz_objects_of_the_same_records(aws: Aws) -> None:
    sent = aws.put(30)
    firehose = emulator(aws, compression="GZIP")
    firehose.poll(START)
    assert firehose.drain(START + 60) is True

    objects = aws.objects()
    assert objects and all(KEY.fullmatch(key.removesuffix(".gz")) for key in objects)
    assert all(key.endswith(".gz") for key in objects)
    records = [r for body in objects.values() for r in records_of(gzip.decompress(body))]
    assert sorted(records) == sorted(s.data for s in sent)
    # The stats say what was written and what the records came to before gzip.
    stats = firehose.stats()
    assert stats["records"] == 30
    assert stats["record bytes"] == sum(len(s.data) for s in sent)
    assert stats["bytes"] == sum(len(body) for body in objects.values()) < stats["record bytes"]


def test_a_compression_the_emulation_does_not_know_is_refused() -> None:
    with pytest.raises(ValueError, match="compression 'Snappy' is not emulated; one of"):
        replace(SETTINGS, compression="Snappy")


def test_started_again_it_rereads_only_what_was_not_yet_written(aws: Aws, tmp_path: Any) -> None:
    store = CheckpointStore(tmp_path)
    written = aws.put(10)
    firehose = FirehoseEmulator(SETTINGS, aws.kinesis, aws.s3, checkpoints=store)
    firehose.poll(START)
    firehose.poll(START + 60)  # one object written
    buffered = aws.put(6, start=10)
    firehose.poll(START + 61)  # read into the buffer; then the runtime dies

    again = FirehoseEmulator(SETTINGS, aws.kinesis, aws.s3, checkpoints=store)
    later = aws.put(4, start=16)
    assert again.drain(START + 62)

    archived = [r for body in aws.objects().values() for r in records_of(body)]
    assert sorted(archived) == sorted(s.data for s in written + buffered + later)
    assert len(aws.objects()) == 2


# --- Every archived stream's delivery stream, provisioned on moto ---------------------

TRIP_KEY = re.compile(
    r"trips/(\d{4})/(\d{2})/(\d{2})/(\d{2})/taxi-trips-1-"
    r"\1-\2-\3-\4-\d{2}-\d{2}-[0-9a-f-]{36}\.gz"
)


# moto's CloudFormation warns of every type it skips; provisioning creates them.
skipped_types = pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")


@pytest.fixture
def provisioned(aws_env: None) -> Iterator[Any]:
    """The dev stage's supporting stack on moto, as `make up` provisions it."""
    with mock_aws():
        session = boto3.session.Session()
        yield session, provision(session, "dev", {})


@skipped_types
def test_the_template_has_a_delivery_stream_per_archived_stream(provisioned: Any) -> None:
    _, stack = provisioned

    found = {(d.name, d.stream, d.prefix) for d in delivery_streams(stack)}

    assert found == {
        (infra_names.DELIVERY_STREAM, names.RAW_STREAM, names.ARCHIVE_PREFIX),
        (infra_names.TRIP_DELIVERY_STREAM, names.TRIP_STREAM, names.TRIP_ARCHIVE_PREFIX),
    }


@skipped_types
def test_trips_on_taxi_trips_land_once_under_the_trip_prefix(provisioned: Any) -> None:
    session, stack = provisioned
    kinesis, s3 = session.client("kinesis"), session.client("s3")
    trips = day_trips(8 * 3600, 8 * 3600 + 900, per_day=20_000)
    sent = [encode_trip(t) for t in trips]
    for start in range(0, len(trips), 500):
        kinesis.put_records(
            StreamName=names.TRIP_STREAM,
            Records=[
                {"Data": encode_trip(t), "PartitionKey": str(t.pickup_zone)}
                for t in trips[start : start + 500]
            ],
        )
    reading = Reading("Shadowfax", "2026-11-23 08:00:00.000", 40.7, -73.9, 30.0, 150, 150)
    kinesis.put_record(
        StreamName=names.RAW_STREAM, Data=encode_reading(reading), PartitionKey="Shadowfax"
    )
    firehoses = [FirehoseEmulator(d, kinesis, s3) for d in delivery_streams(stack)]

    for firehose in firehoses:
        firehose.poll(START)
        assert firehose.drain(START + 1) is True

    bucket = stack.outputs["ArchiveBucketName"]
    listing = s3.list_objects_v2(Bucket=bucket)["Contents"]
    # The deployed streams say GZIP: every object is gzipped, as Firehose writes it.
    bodies = {
        o["Key"]: gzip.decompress(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read())
        for o in listing
    }
    archived = [r for k, b in bodies.items() if k.startswith("trips/") for r in records_of(b)]
    assert len(trips) > 50
    assert sorted(archived) == sorted(sent)  # every trip, once
    assert all(TRIP_KEY.fullmatch(k) for k in bodies if k.startswith("trips/")), list(bodies)
    raw = [r for k, b in bodies.items() if k.startswith("raw/") for r in records_of(b)]
    assert raw == [encode_reading(reading)]
    assert {k.split("/")[0] for k in bodies} == {"trips", "raw"}
    stats = {f.name: f.stats()["records"] for f in firehoses}
    assert stats == {"firehose wildrydes": 1, "firehose taxi-trips": len(trips)}
