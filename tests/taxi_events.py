"""Taxi trips as the records Lambda hands `aggregate_trips`, from the producer's model of a day."""

from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib import names
from chalicelib.taxi.records import Trip, encode_trip
from producer.taxi import TaxiDay
from tests.lambda_events import kinesis_record

DAY = date(2026, 11, 23)


def day_trips(start_s: int, end_s: int, *, per_day: int = 40_000, seed: int = 2) -> list[Trip]:
    """The model's trips ending from `start_s` to `end_s` seconds into DAY."""
    return TaxiDay(DAY, per_day, seed=seed).trips(start_s, end_s)


def trip_records(
    trips: list[Trip], *, first: int = 1, arrival: float, garbage: int = 0
) -> list[dict[str, Any]]:
    """Kinesis records of the trips (then `garbage` records that are not trips), keyed by zone."""
    data = [(encode_trip(t), str(t.pickup_zone)) for t in trips]
    data += [(b"not a trip", "0")] * garbage
    return [
        kinesis_record(d, str(first + n), key, arrival + n / 1000, stream=names.TRIP_STREAM)
        for n, (d, key) in enumerate(data)
    ]


def as_delivered(rows: list[dict[str, Any]], arrival: float) -> list[dict[str, Any]]:
    """Records read back from `taxi-insights` as its mapping hands them to `persist_insights`."""
    return [
        kinesis_record(
            r["Data"], r["SequenceNumber"], r["PartitionKey"], arrival, stream=names.INSIGHT_STREAM
        )
        for r in rows
    ]
