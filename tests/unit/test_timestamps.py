"""StatusTime and ISO 8601: the formats users and records use for time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.timestamps import (
    format_status_time,
    is_status_time,
    parse_instant,
    parse_status_time,
    to_iso,
)

MOMENT = datetime(2026, 11, 22, 14, 5, 9, 123456, tzinfo=UTC)


def test_status_time_has_milliseconds_and_sorts_as_time() -> None:
    assert format_status_time(MOMENT) == "2026-11-22 14:05:09.123"
    assert format_status_time(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02 03:04:05.000"
    assert format_status_time(datetime(5, 1, 1)) == "0005-01-01 00:00:00.000"
    assert parse_status_time("2026-11-22 14:05:09.123") == MOMENT.replace(microsecond=123000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-22 14:05:09.123", True),
        ("2026-11-22 14:05:09", False),
        ("2026-11-22T14:05:09.123", False),
        ("2026-02-30 14:05:09.123", False),
        ("2026-11-22 14:05:09.1234", False),
        ("2026-11-22 14:05:09.12Z", False),
        ("", False),
    ],
)
def test_is_status_time(text: str, expected: bool) -> None:
    assert is_status_time(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-22 14:05:09.123", "2026-11-22 14:05:09.123"),
        ("2026-11-22T14:05:09Z", "2026-11-22 14:05:09.000"),
        ("2026-11-22T15:05:09+01:00", "2026-11-22 14:05:09.000"),
        ("2026-11-22T14:05", "2026-11-22 14:05:00.000"),
        ("2026-11-22", "2026-11-22 00:00:00.000"),
        (" 2026-11-22T14:05:09.5z ", "2026-11-22 14:05:09.500"),
    ],
)
def test_parse_instant_accepts_status_time_and_iso_8601(text: str, expected: str) -> None:
    assert format_status_time(parse_instant(text)) == expected


@pytest.mark.parametrize("text", ["yesterday", "22/11/2026", "2026-11-22 25:00", ""])
def test_parse_instant_names_the_accepted_formats(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_instant(text)


def test_to_iso_is_utc_with_z() -> None:
    assert to_iso(MOMENT) == "2026-11-22T14:05:09.123Z"
