"""End-to-end correctness of aggregate → persist (and vitals) under Lambda's delivery patterns.

A generated fleet is cut into the invocations Lambda would make: several
shards, tumbling windows by arrival time, several batches per window, a window
ended early (the 1 MB state limit) and a reshard in the middle of a minute.
The stored summaries must equal a straightforward group-by of the records,
replaying any invocation must leave DynamoDB unchanged, and every incident
must give exactly one alert and one recovery.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import names
from chalicelib.adapters.dynamo import from_attributes
from chalicelib.pipeline.timestamps import format_status_time, from_epoch, to_iso
from chalicelib.unicorns.records import Reading, encode_reading
from tests.functional.conftest import Aws
from tests.lambda_events import kinesis_event, kinesis_record, window_event

WINDOW = 60
START = datetime(2026, 11, 22, 14, 0, tzinfo=UTC).timestamp()
MINUTES = 4
SHARDS = 3
RESHARD_AT = START + 150  # 14:02:30: the shard carrying RESHARDED is split
RESHARDED = "Pegasus"
EARLY_END = (0, START + 60 + 35)  # shard 0's 14:01 window ends early at 14:01:35
NAMES = ["Shadowfax", "Rocinante", "Bucephalus", "Pegasus", "Silver", "Epona", "Artax", "Binky"]


@dataclass
class Sent:
    """A record as it sits on a shard of `wildrydes`."""

    reading: Reading
    data: bytes
    arrival: float
    shard: str
    sequence: int = 0


@dataclass
class Invocations:
    """Every invocation made, so that any of them can be replayed."""

    aggregate: list[dict[str, Any]] = field(default_factory=list)
    persist: list[dict[str, Any]] = field(default_factory=list)
    vitals: list[dict[str, Any]] = field(default_factory=list)


def generate_fleet(rng: random.Random) -> list[Sent]:
    """One report a second per unicorn; two of them fall ill and recover, twice."""
    sent = []
    for index, name in enumerate(NAMES):
        health = magic = 150
        lat, lon, bearing = 40.749167, -73.985184, rng.uniform(0, 2 * math.pi)
        for second in range(MINUTES * WINDOW):
            moment = START + second + rng.uniform(0, 0.2)
            distance = rng.uniform(29, 31)
            lat += distance * math.sin(bearing) / 110540
            lon += distance * math.cos(bearing) / (111320 * math.cos(math.radians(lat)))
            if index < 2:  # unwell: dips below 100 twice
                target = 90 if (second // 45) % 2 == 1 else 130
                health += (target > health) - (target < health)
            else:
                health = min(160, max(140, health + rng.choice((-1, 0, 1))))
            magic = min(1000, max(0, magic + rng.choice((-1, 0, 1))))
            reading = Reading(
                name, format_status_time(from_epoch(moment)), lat, lon, distance, health, magic
            )
            arrival = moment + rng.uniform(0.01, 0.6)
            sent.append(Sent(reading, encode_reading(reading), arrival, shard_of(name, arrival)))
    return sent


def shard_of(name: str, arrival: float) -> str:
    number = int(hashlib.md5(name.encode()).hexdigest(), 16) % SHARDS
    if name == RESHARDED and arrival >= RESHARD_AT:
        return f"shardId-{SHARDS:012d}"  # the child shard
    return f"shardId-{number:012d}"


def by_shard(sent: list[Sent]) -> dict[str, list[Sent]]:
    shards: dict[str, list[Sent]] = defaultdict(list)
    for record in sorted(sent, key=lambda r: r.arrival):
        record.sequence = len(shards[record.shard]) + 1 + 1000 * int(record.shard[-3:])
        shards[record.shard].append(record)
    return shards


def lambda_record(record: Sent) -> dict[str, Any]:
    return kinesis_record(
        record.data,
        str(record.sequence),
        record.reading.name,
        record.arrival,
        shard_id=record.shard,
    )


def batches(records: list[Any], rng: random.Random) -> list[list[Any]]:
    cut, index = [], 0
    while index < len(records):
        size = rng.randint(1, 40)
        cut.append(records[index : index + size])
        index += size
    return cut


def run_aggregate(
    client: Client, shards: dict[str, list[Sent]], rng: random.Random, calls: Invocations
) -> None:
    """Invoke `aggregate` as Lambda would: per shard, per window, batch by batch, then final."""
    for shard, records in shards.items():
        windows: dict[float, list[Sent]] = defaultdict(list)
        for record in records:
            windows[record.arrival // WINDOW * WINDOW].append(record)
        for start, in_window in sorted(windows.items()):
            bounds = {
                "start": to_iso(from_epoch(start)),
                "end": to_iso(from_epoch(start + WINDOW)),
            }
            early = (
                shard == f"shardId-{EARLY_END[0]:012d}"
                and start == EARLY_END[1] // WINDOW * WINDOW
            )
            parts = [in_window]
            if early:  # the state hit its limit: the window closes and a new one carries on
                parts = [
                    [r for r in in_window if r.arrival < EARLY_END[1]],
                    [r for r in in_window if r.arrival >= EARLY_END[1]],
                ]
            for number, part in enumerate(parts):
                state: dict[str, Any] = {}
                for batch in batches(part, rng):
                    event = window_event(
                        [lambda_record(r) for r in batch], shard_id=shard, state=state, **bounds
                    )
                    calls.aggregate.append(event)
                    state = client.lambda_.invoke("aggregate", event).payload["state"]
                final = window_event(
                    [],
                    shard_id=shard,
                    state=state,
                    final=True,
                    early=early and number == 0,
                    **bounds,
                )
                calls.aggregate.append(final)
                assert client.lambda_.invoke("aggregate", final).payload == {"state": {}}


class SummaryFeed:
    """Feeds `persist` from the real summary stream, continuing where it left off."""

    def __init__(self, aws: Aws) -> None:
        self.aws = aws
        self.done = 0

    def run(self, client: Client, rng: random.Random, calls: Invocations | None) -> int:
        records = self.aws.stream_records(names.SUMMARY_STREAM)[self.done :]
        self.done += len(records)
        for batch in batches(records, rng):
            event = kinesis_event(
                [
                    kinesis_record(
                        r["Data"],
                        r["SequenceNumber"],
                        r["PartitionKey"],
                        r["ApproximateArrivalTimestamp"].timestamp(),
                        shard_id=r["ShardId"],
                        stream=names.SUMMARY_STREAM,
                    )
                    for r in batch
                ]
            )
            if calls is not None:
                calls.persist.append(event)
            assert client.lambda_.invoke("persist", event).payload == {"batchItemFailures": []}
        return len(records)


def expected_summaries(sent: list[Sent]) -> dict[tuple[str, str], dict[str, Any]]:
    """The per-unicorn, per-arrival-minute statistics, computed the obvious way."""
    groups: dict[tuple[str, str], list[Reading]] = defaultdict(list)
    for record in sent:
        minute = format_status_time(from_epoch(record.arrival // WINDOW * WINDOW))
        groups[(record.reading.name, minute)].append(record.reading)
    return {
        key: {
            "SampleCount": len(readings),
            "Distance": sum(r.distance for r in readings),
            "MinHealthPoints": min(r.health for r in readings),
            "MaxHealthPoints": max(r.health for r in readings),
            "MinMagicPoints": min(r.magic for r in readings),
            "MaxMagicPoints": max(r.magic for r in readings),
            "FirstStatusTime": min(r.status_time for r in readings),
            "LastStatusTime": max(r.status_time for r in readings),
        }
        for key, readings in groups.items()
    }


def stored_summaries(aws: Aws) -> dict[tuple[str, str], dict[str, Any]]:
    rows = [from_attributes(item) for item in aws.table_items(names.SUMMARY_TABLE)]
    return {(row["Name"], row["StatusTime"]): row for row in rows}


def expected_incidents(sent: list[Sent]) -> dict[str, list[str]]:
    kinds: dict[str, list[str]] = defaultdict(list)
    low: dict[str, bool] = defaultdict(bool)
    for record in sorted(sent, key=lambda r: r.reading.status_time):
        reading = record.reading
        now_low = reading.health < 100 or reading.magic < 100
        if now_low != low[reading.name]:
            kinds[reading.name].append("alert" if now_low else "recovery")
            low[reading.name] = now_low
    return dict(kinds)


@pytest.fixture
def pipeline_run(client: Client, aws: Aws) -> tuple[list[Sent], Invocations]:
    rng = random.Random(20261122)
    sent = generate_fleet(rng)
    shards = by_shard(sent)
    calls = Invocations()
    run_aggregate(client, shards, rng, calls)
    SummaryFeed(aws).run(client, rng, calls)
    return sent, calls


def test_stored_summaries_equal_a_straightforward_group_by(
    pipeline_run: tuple[list[Sent], Invocations], aws: Aws
) -> None:
    sent, _ = pipeline_run
    expected = expected_summaries(sent)
    stored = stored_summaries(aws)

    assert sorted(stored) == sorted(expected)
    for key, numbers in expected.items():
        row = stored[key]
        assert row["Distance"] == pytest.approx(numbers.pop("Distance"), rel=1e-12), key
        assert {k: row[k] for k in numbers} == numbers, key
    # The scenario really did produce partial summaries that had to be merged.
    merged = [key for key, row in stored.items() if len(row["SummaryIds"]) > 1]
    assert (RESHARDED, "2026-11-22 14:02:00.000") in merged
    assert any(minute == "2026-11-22 14:01:00.000" for _, minute in merged)
    assert sum(row["SampleCount"] for row in stored.values()) == len(sent)


def test_replaying_any_invocation_leaves_dynamodb_unchanged(
    pipeline_run: tuple[list[Sent], Invocations], client: Client, aws: Aws
) -> None:
    _, calls = pipeline_run
    before = aws.table_items(names.SUMMARY_TABLE)
    feed = SummaryFeed(aws)
    feed.done = len(aws.stream_records(names.SUMMARY_STREAM))
    rng = random.Random(7)

    for event in calls.aggregate:  # re-emits every summary row once more
        client.lambda_.invoke("aggregate", event)
    assert feed.run(client, rng, None) > 0
    for event in calls.persist:
        client.lambda_.invoke("persist", event)

    assert aws.table_items(names.SUMMARY_TABLE) == before


def test_every_incident_gives_one_alert_and_one_recovery_even_when_batches_repeat(
    pipeline_run: tuple[list[Sent], Invocations], client: Client, aws: Aws
) -> None:
    sent, _ = pipeline_run
    rng = random.Random(11)
    events = [
        kinesis_event([lambda_record(r) for r in batch])
        for records in by_shard(sent).values()
        for batch in batches(records, rng)
    ]
    for event in events:
        assert client.lambda_.invoke("vitals", event).payload == {"batchItemFailures": []}
    statuses_after_first_pass = aws.table_items(names.STATUS_TABLE)
    for event in events[::3]:  # Lambda retries some batches
        client.lambda_.invoke("vitals", event)

    emails: dict[str, list[str]] = defaultdict(list)
    for message in aws.emails():
        attributes = message["MessageAttributes"]
        emails[attributes["unicorn"]["Value"]].append(attributes["kind"]["Value"])
    expected = expected_incidents(sent)
    assert emails == expected
    assert all(kinds == ["alert", "recovery", "alert", "recovery"] for kinds in expected.values())
    assert aws.table_items(names.STATUS_TABLE) == statuses_after_first_pass
