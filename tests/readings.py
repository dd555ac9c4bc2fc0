"""Sensor readings for tests, with sensible defaults for the fields a test does not care about."""

from __future__ import annotations

from typing import Any

from chalicelib.records import Reading


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
