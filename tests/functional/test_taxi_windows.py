"""Taxi trips through `aggregate_trips` and `persist_insights` under moto, into `TaxiZoneWindows`.

The same envelopes as the unicorns' (`Aggregator`, `Persister`), given the
taxi data set: a window's trips fold into sums per pickup zone and window of
pickup time, the partial rows on `taxi-insights` merge into the table, and
what the table holds equals the insights computed from all the trips at once,
however the trips were split, retried or redelivered.
"""

from __future__ import annotations

from typing import Any

from chalice.test import Client

from chalicelib import bootstrap, names
from chalicelib.taxi.records import encode_trip
from chalicelib.taxi.summaries import ZoneWindow, parse_partial, partials
from tests.functional.conftest import Aws
from tests.lambda_events import kinesis_event, kinesis_record, window_event
from tests.taxi_events import as_delivered, day_trips, trip_records

ARRIVAL = 1_795_000_000.0
FIRST = ("2026-11-23T08:00:00Z", "2026-11-23T08:01:00Z")  # arrival windows
SECOND = ("2026-11-23T08:01:00Z", "2026-11-23T08:02:00Z")


def run_window(
    client: Client, batches: list[list[dict[str, Any]]], window: tuple[str, str]
) -> None:
    start, end = window
    state: dict[str, Any] = {}
    for batch in batches:
        event = window_event(batch, start=start, end=end, state=state, stream=names.TRIP_STREAM)
        state = client.lambda_.invoke("aggregate_trips", event).payload["state"]
    final = window_event(
        [], start=start, end=end, state=state, final=True, stream=names.TRIP_STREAM
    )
    assert client.lambda_.invoke("aggregate_trips", final).payload == {"state": {}}


def persist_all(client: Client, aws: Aws) -> list[dict[str, Any]]:
    """Hand every partial on `taxi-insights` to `persist_insights`, as its mapping would."""
    records = as_delivered(aws.stream_records(names.INSIGHT_STREAM), ARRIVAL)
    response = client.lambda_.invoke("persist_insights", kinesis_event(records))
    assert response.payload == {"batchItemFailures": []}
    return records


def stored(day: str = "2026-11-23") -> dict[tuple[int, str], ZoneWindow]:
    return {w.key: w for w in bootstrap.services().insight_store.day(day)}


def test_the_table_holds_the_insights_of_all_the_trips_however_they_arrived(
    client: Client, aws: Aws
) -> None:
    trips = day_trips(8 * 3600, 8 * 3600 + 1800)
    half = len(trips) // 2
    first = trip_records(trips[:half], arrival=ARRIVAL)
    second = trip_records(trips[half:], first=1 + half, arrival=ARRIVAL + 60)

    run_window(client, [first[:100], first[100:]], FIRST)
    run_window(client, [second], SECOND)
    # A retried closing invocation of the second window makes the same parts again.
    run_window(client, [second], SECOND)
    records = persist_all(client, aws)
    # And Lambda may hand persist the same batch twice.
    client.lambda_.invoke("persist_insights", kinesis_event(records))

    expected = partials(trips, "all")
    table = stored()
    assert set(table) == set(expected)
    for key, window in expected.items():
        assert table[key].insight() == window.insight()
        assert table[key].parts <= {
            "shardId-000000000000:2026-11-23 08:00:00.000",
            "shardId-000000000000:2026-11-23 08:01:00.000",
        }
    assert sum(w.trips for w in table.values()) == len(trips)


def test_partial_rows_are_keyed_by_zone_and_named_after_shard_and_arrival_window(
    client: Client, aws: Aws
) -> None:
    trips = day_trips(8 * 3600, 8 * 3600 + 300)
    run_window(client, [trip_records(trips, arrival=ARRIVAL)], FIRST)

    for row in aws.stream_records(names.INSIGHT_STREAM):
        partial = parse_partial(row["Data"])
        assert row["PartitionKey"] == str(partial.zone)
        assert partial.parts == {"shardId-000000000000:2026-11-23 08:00:00.000"}


def test_a_bad_trip_is_kept_aside_with_its_reason_and_the_rest_counted(
    client: Client, aws: Aws
) -> None:
    first, *rest = day_trips(8 * 3600, 8 * 3600 + 60)[:3]
    bad = encode_trip(first).replace(b'"Passengers":', b'"Passengers":12,"X":')
    # The bad trip first: the ones after it in the batch still count.
    records = [kinesis_record(bad, "1", "161", ARRIVAL, stream=names.TRIP_STREAM)]
    records += trip_records(rest, first=2, arrival=ARRIVAL)

    run_window(client, [records], FIRST)

    rows = [parse_partial(r["Data"]) for r in aws.stream_records(names.INSIGHT_STREAM)]
    assert sum(row.trips for row in rows) == 2
    (dead,) = aws.dead_letters()
    assert dead["function"] == "aggregate_trips"
    assert "Passengers must be an integer from 0 to 9, got integer 12" in dead["reason"]


def test_a_row_that_is_not_a_partial_is_kept_aside_and_the_good_ones_stored(
    client: Client, aws: Aws
) -> None:
    run_window(client, [trip_records(day_trips(8 * 3600, 8 * 3600 + 60), arrival=ARRIVAL)], FIRST)
    good = persist_all(client, aws)
    bad = kinesis_record(b'{"Zone":999}', "99", "999", ARRIVAL, stream=names.INSIGHT_STREAM)

    response = client.lambda_.invoke("persist_insights", kinesis_event([*good, bad]))

    assert response.payload == {"batchItemFailures": []}
    (dead,) = aws.dead_letters()
    assert dead["function"] == "persist_insights"
    assert len(stored()) == len(good)
