"""Sensor readings for tests, with sensible defaults for the fields a test does not care about."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.pipeline.timestamps import format_status_time
from chalicelib.unicorns.records import Reading
from chalicelib.unicorns.summaries import Summary

# One unicorn's first 20 s of the 14:05 window, as one partial summary.
SUMMARY = Summary(
    name="Shadowfax",
    status_time="2026-11-22 14:05:00.000",
    distance=600.25,
    min_magic=140,
    max_magic=150,
    min_health=98,
    max_health=120,
    samples=20,
    window_end="2026-11-22 14:06:00.000",
    first_status_time="2026-11-22 14:05:00.100",
    last_status_time="2026-11-22 14:05:19.100",
    latitude=40.75,
    longitude=-73.98,
    summary_ids=frozenset({"shardId-000000000000:100"}),
)


def minute_summary(name: str, start: datetime, number: int, distance: float = 1800.0) -> Summary:
    """A whole minute of one healthy unicorn from `start`, its `number`-th, as one summary."""
    return Summary(
        name=name,
        status_time=format_status_time(start),
        distance=distance,
        min_magic=140,
        max_magic=150,
        min_health=130,
        max_health=150,
        samples=60,
        window_end=format_status_time(start + timedelta(minutes=1)),
        first_status_time=format_status_time(start),
        last_status_time=format_status_time(start + timedelta(seconds=59)),
        latitude=40.75,
        longitude=-73.98,
        summary_ids=frozenset({f"s:{name}:{number}"}),
    )


def reading(
    name: str = "Shadowfax",
    status_time: str = "2026-11-22 14:05:09.123",
    *,
    latitude: float = 40.749167,
    longitude: float = -73.985184,
    distance: float = 30.0,
    health: int = 150,
    magic: int = 150,
) -> Reading:
    return Reading(name, status_time, latitude, longitude, distance, health, magic)


def record_json(**overrides: Any) -> dict[str, Any]:
    """A valid raw record as a dict, with fields replaced or (value None) removed."""
    row = reading().to_json()
    for key, value in overrides.items():
        if value is None:
            row.pop(key, None)
        else:
            row[key] = value
    return row
