"""Taxi trips through the windowed `aggregate` envelope under moto: partial insights per zone.

The same `Aggregator` as the unicorns', given the taxi data set: a window's
trips fold into sums per pickup zone and window of pickup time, a bad trip is
dead-lettered with its reason, and the partial rows on the summary stream
merge into the insights computed from all the trips at once.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.aggregator import Aggregator
from chalicelib.deadletter import DeadLetters
from chalicelib.insights import ZoneWindow, parse_partial, partials
from chalicelib.streams import KinesisWriter
from chalicelib.trip_windows import TAXI_TRIPS
from chalicelib.trips import encode_trip
from producer.taxi import TaxiDay
from tests.functional.conftest import ARCHIVE_BUCKET, Aws
from tests.lambda_events import kinesis_record, window_event

INSIGHTS = "taxi-insights-test"
ARRIVAL = 1_795_000_000.0
FIRST = ("2026-11-23T08:00:00Z", "2026-11-23T08:01:00Z")  # arrival windows
SECOND = ("2026-11-23T08:01:00Z", "2026-11-23T08:02:00Z")


def taxi_aggregate(aws: Aws) -> Aggregator:
    kinesis = aws.client("kinesis")
    kinesis.create_stream(StreamName=INSIGHTS, ShardCount=1)
    return Aggregator(
        KinesisWriter(kinesis, INSIGHTS),
        DeadLetters(aws.client("s3"), ARCHIVE_BUCKET),
        data_set=TAXI_TRIPS,
        function="taxi-aggregate",
    )


def records(data: list[bytes], first: int) -> list[dict[str, Any]]:
    return [
        kinesis_record(d, str(first + n), "161", ARRIVAL + n / 100, stream="taxi-trips")
        for n, d in enumerate(data)
    ]


def run_window(
    aggregate: Aggregator, batches: list[list[dict[str, Any]]], window: tuple[str, str]
) -> None:
    start, end = window
    state: dict[str, Any] = {}
    for batch in batches:
        event = window_event(batch, start=start, end=end, state=state, stream="taxi-trips")
        state = aggregate.handle(event)["state"]
    aggregate.handle(
        window_event([], start=start, end=end, state=state, final=True, stream="taxi-trips")
    )


def test_partials_from_two_arrival_windows_merge_into_the_insights_of_all_the_trips(
    aws: Aws,
) -> None:
    aggregate = taxi_aggregate(aws)
    trips = TaxiDay(date(2026, 11, 23), 40_000, seed=2).trips(8 * 3600, 8 * 3600 + 1800)
    data = [encode_trip(t) for t in trips]
    half = len(data) // 2
    first, second = records(data[:half], 1), records(data[half:], 1 + half)

    run_window(aggregate, [first[:100], first[100:]], FIRST)
    run_window(aggregate, [second], SECOND)
    # A retried closing invocation of the second window makes the same part again.
    run_window(aggregate, [second], SECOND)

    rows = aws.stream_records(INSIGHTS)
    merged: dict[tuple[int, str], ZoneWindow] = {}
    for row in rows:
        partial = parse_partial(row["Data"])
        assert row["PartitionKey"] == str(partial.zone)
        known = merged.get(partial.key)
        merged[partial.key] = partial if known is None else known.merge(partial)
    expected = partials(trips, "all")
    assert set(merged) == set(expected)
    for key, window in expected.items():
        assert merged[key].insight() == window.insight()
    assert {p for w in merged.values() for p in w.parts} == {
        "shardId-000000000000:2026-11-23 08:00:00.000",
        "shardId-000000000000:2026-11-23 08:01:00.000",
    }


def test_a_bad_trip_is_kept_aside_with_its_reason_and_the_rest_counted(aws: Aws) -> None:
    aggregate = taxi_aggregate(aws)
    trip = TaxiDay(date(2026, 11, 23), 40_000, seed=2).trips(8 * 3600, 8 * 3600 + 60)[0]
    bad = encode_trip(trip).replace(b'"Passengers":', b'"Passengers":12,"X":')

    run_window(aggregate, [records([encode_trip(trip), bad], 1)], FIRST)

    (row,) = aws.stream_records(INSIGHTS)
    assert parse_partial(row["Data"]).trips == 1
    (dead,) = aws.dead_letters()
    assert dead["function"] == "taxi-aggregate"
    assert "Passengers must be an integer from 0 to 9, got integer 12" in dead["reason"]
