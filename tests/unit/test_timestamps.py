"""StatusTime and ISO 8601: the formats users and records use for time."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.pipeline.timestamps import (
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
        ("2026-W47-7 14:05:09.123", False),
        pytest.param("2026-11-22 14:05:09.\u0661\u0662\u0663", False, id="Arabic-Indic digits"),
        ("", False),
    ],
)
def test_is_status_time(text: str, expected: bool) -> None:
    assert is_status_time(text) is expected


STATUS_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}")
TEMPLATES = (
    "2026-11-22 14:05:09.123",
    "2024-02-29 23:59:59.999",
    "2026-W47-7 14:05:09.123",  # an ISO week date, which fromisoformat accepts
    "2026-11-22T14:05:09.123+00:00",
)


def _reference(text: str) -> bool:
    """The rule spelled out: the exact layout in ASCII digits, and a real instant."""
    if not STATUS_TIME.fullmatch(text):
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


@st.composite
def near_status_times(draw: st.DrawFn) -> str:
    """A StatusTime-like text with a few characters replaced, inserted or removed."""
    text = list(draw(st.sampled_from(TEMPLATES)))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text)))
        character = draw(st.sampled_from("0123456789-:. TWZ+,x\u0663\u00a0\n"))
        change = draw(st.sampled_from(("replace", "insert", "delete")))
        if change == "insert" or position == len(text):
            text.insert(position, character)
        elif change == "replace":
            text[position] = character
        else:
            del text[position]
    return "".join(text)


@settings(max_examples=2000)
@given(near_status_times())
def test_is_status_time_takes_exactly_the_layout_and_real_instants(text: str) -> None:
    # is_status_time leaves most of the checking to fromisoformat, for speed.
    assert is_status_time(text) is _reference(text)


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


@pytest.mark.parametrize("text", ["2026-11-22T14:05:09.123", "2026-11-22 14:05", ""])
def test_a_text_that_is_not_a_status_time_is_refused_showing_the_layout(text: str) -> None:
    with pytest.raises(ValueError, match=r"not a StatusTime \(YYYY-MM-DD HH:MM:SS.mmm\): '"):
        parse_status_time(text)


def test_to_iso_is_utc_with_z() -> None:
    assert to_iso(MOMENT) == "2026-11-22T14:05:09.123Z"


@pytest.fixture
def machine_in_new_york() -> Iterator[None]:
    """The machine five hours behind UTC (Lambda runs in UTC; a laptop may not)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "EST5"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.mark.usefixtures("machine_in_new_york")
def test_times_are_utc_whatever_the_machines_time_zone() -> None:
    paris = timezone(timedelta(hours=1))
    assert format_status_time(datetime(2026, 11, 22, 15, 5, 9, tzinfo=paris)) == (
        "2026-11-22 14:05:09.000"
    )
    assert format_status_time(datetime(2026, 11, 22, 14, 5, 9)) == "2026-11-22 14:05:09.000"
    assert to_iso(datetime(2026, 11, 22, 15, 5, 9, tzinfo=paris)) == "2026-11-22T14:05:09.000Z"
    epoch = MOMENT.replace(microsecond=123000).timestamp()
    for parsed in (
        parse_status_time("2026-11-22 14:05:09.123"),
        parse_instant("2026-11-22 14:05:09.123"),
        parse_instant("2026-11-22T14:05:09.123Z"),
    ):
        # An answer without its zone would be read as New York time: five hours off.
        assert (parsed.utcoffset(), parsed.timestamp()) == (timedelta(0), epoch)
