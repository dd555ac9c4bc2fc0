"""What a local pipeline run left behind, and what it should have, computed from the stream.

Shared by the end-to-end tests: the records on the raw stream with their
arrival times are the ground truth; summaries, archive and emails are read
back from the endpoint and compared with what those records imply.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import email.utils
import gzip
import mailbox
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib import names
from chalicelib.adapters.dynamo import from_attributes
from chalicelib.pipeline.timestamps import format_status_time, from_epoch
from chalicelib.taxi.records import Trip, parse_trip
from chalicelib.taxi.store import from_item
from chalicelib.taxi.summaries import ZoneWindow
from chalicelib.unicorns.records import InvalidRecord, Reading, parse_reading
from tests.streams import read_stream


@dataclass
class Arrived:
    reading: Reading | None
    data: bytes
    arrival: float
    shard: str


def stream_records(session: Any) -> list[Arrived]:
    """Every record on the raw stream, parsed, with its arrival time and shard."""
    found = []
    for record in read_stream(session.client("kinesis"), names.RAW_STREAM):
        try:
            reading: Reading | None = parse_reading(record["Data"])
        except InvalidRecord:
            reading = None
        arrival = record["ApproximateArrivalTimestamp"].timestamp()
        found.append(Arrived(reading, record["Data"], arrival, record["ShardId"]))
    return found


def expected_windows(stream: list[Arrived], window: int) -> dict[tuple[str, str], list[Reading]]:
    """The valid readings grouped by unicorn and tumbling window of arrival time."""
    expected: dict[tuple[str, str], list[Reading]] = defaultdict(list)
    for arrived in stream:
        if arrived.reading is not None:
            start = math.floor(arrived.arrival / window) * window
            key = (arrived.reading.name, format_status_time(from_epoch(start)))
            expected[key].append(arrived.reading)
    return expected


def incident_changes(stream: list[Arrived], threshold: int = 100) -> dict[str, list[str]]:
    """Per unicorn, the alert/recovery changes the readings imply, in time order."""
    changes: dict[str, list[str]] = defaultdict(list)
    low: dict[str, bool] = defaultdict(bool)
    readings = [a.reading for a in stream if a.reading is not None]
    for reading in sorted(readings, key=lambda r: r.status_time):
        now_low = reading.health < threshold or reading.magic < threshold
        if now_low != low[reading.name]:
            changes[reading.name].append("alert" if now_low else "recovery")
            low[reading.name] = now_low
    return changes


def trips_on_stream(session: Any) -> tuple[list[Trip], int]:
    """The valid trips on `taxi-trips`, and how many records were not trips."""
    trips, invalid = [], 0
    for record in read_stream(session.client("kinesis"), names.TRIP_STREAM):
        try:
            trips.append(parse_trip(record["Data"]))
        except InvalidRecord:
            invalid += 1
    return trips, invalid


def zone_windows(session: Any) -> dict[tuple[int, str], ZoneWindow]:
    """The taxi insights table, by zone and window start."""
    return {w.key: w for w in (from_item(i) for i in _scan(session, names.INSIGHT_TABLE))}


def _scan(session: Any, table: str) -> list[dict[str, Any]]:
    dynamodb = session.client("dynamodb")
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        page = dynamodb.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def summaries(session: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """The summary table, by unicorn and window start."""
    rows = (from_attributes(item) for item in _scan(session, names.SUMMARY_TABLE))
    return {(row["Name"], row["StatusTime"]): row for row in rows}


def archive_objects(session: Any, bucket: str, prefix: str = names.ARCHIVE_PREFIX) -> list[bytes]:
    """What each object under `prefix` holds. Firehose's (`raw/`, `trips/`) are all gzipped
    (`.gz`); dead letters are kept as they are."""
    s3 = session.client("s3")
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    keys = [o["Key"] for o in listing]
    if prefix in (names.ARCHIVE_PREFIX, names.TRIP_ARCHIVE_PREFIX):
        assert all(key.endswith(".gz") for key in keys), keys
    bodies = [s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys]
    return [
        gzip.decompress(body) if key.endswith(".gz") else body
        for key, body in zip(keys, bodies, strict=True)
    ]


def emails(maildir: Path) -> list[email.message.EmailMessage]:
    """The Maildir's messages, oldest first."""
    messages = [
        email.message_from_bytes(bytes(m), policy=email.policy.default)
        for m in mailbox.Maildir(maildir, factory=None, create=False)
    ]
    return sorted(messages, key=lambda m: email.utils.parsedate_to_datetime(str(m["Date"])))


def email_kinds(messages: list[email.message.EmailMessage]) -> dict[str, list[str]]:
    """Per unicorn, the kinds (alert/recovery) of the emails about it, in order."""
    received: dict[str, list[str]] = defaultdict(list)
    for message in messages:
        received[str(message["X-SNS-Attribute-unicorn"])].append(
            str(message["X-SNS-Attribute-kind"])
        )
    return received
