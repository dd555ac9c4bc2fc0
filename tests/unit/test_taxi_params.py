"""The taxi API's query parameters: defaults from `now`, accepted forms, a 400 naming the rest."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from chalicelib.errors import InvalidParameter
from chalicelib.taxi.params import (
    FaresQuery,
    PeaksQuery,
    fares_query,
    peaks_query,
    zones_day,
)

NOW = datetime(2026, 11, 23, 9, 10, 11, 123000, tzinfo=UTC)
TODAY = date(2026, 11, 23)


def test_defaults() -> None:
    assert peaks_query(None, TODAY) == PeaksQuery("2026-11-23", 5)
    assert zones_day({}, TODAY) == "2026-11-23"
    assert fares_query({"zone": "161"}, NOW) == FaresQuery(
        zone=161,
        start="2026-11-22 09:10:11.123",
        end="2026-11-23 09:10:11.123",
        last="2026-11-23 09:10:11.122",
        average=4,
    )


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"date": "2026-02-28", "top": "96"}, PeaksQuery("2026-02-28", 96)),
        ({"top": " 1 "}, PeaksQuery("2026-11-23", 1)),  # as int() reads it
        ({"date": "0001-01-01"}, PeaksQuery("0001-01-01", 5)),
    ],
)
def test_peaks_query(params: dict[str, str], expected: PeaksQuery) -> None:
    assert peaks_query(params, TODAY) == expected


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        (
            {"zone": "1", "from": "2026-11-23T08:00:00Z", "to": "2026-11-23 09:00:00.000"},
            {"zone": 1, "start": "2026-11-23 08:00:00.000", "last": "2026-11-23 08:59:59.999"},
        ),
        (
            {"zone": "265", "from": "2026-11-23T09:00+01:00", "average": "96"},
            {"zone": 265, "start": "2026-11-23 08:00:00.000", "average": 96},
        ),
        (  # exactly 7 days
            {"zone": "7", "from": "2026-11-16", "to": "2026-11-23"},
            {"start": "2026-11-16 00:00:00.000", "end": "2026-11-23 00:00:00.000"},
        ),
        (  # exactly 7 days before now, `to` left out
            {"zone": "7", "from": "2026-11-16 09:10:11.123"},
            {"start": "2026-11-16 09:10:11.123", "end": "2026-11-23 09:10:11.123"},
        ),
        (  # a day before year 1 is year 1
            {"zone": "7", "to": "0001-01-01T00:00:00.001"},
            {"start": "0001-01-01 00:00:00.000", "last": "0001-01-01 00:00:00.000"},
        ),
    ],
)
def test_fares_query(params: dict[str, str], fields: dict[str, Any]) -> None:
    query = fares_query(params, NOW)
    assert {name: getattr(query, name) for name in fields} == fields


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"zone": "0"}, "zone"),
        ({"zone": "266"}, "zone"),
        ({"zone": "abc"}, "zone"),
        ({"zone": "161.0"}, "zone"),
        ({"zone": ""}, "zone"),
        ({"from": "2026-11-23"}, "zone"),  # zone is required
        ({"zone": "161", "average": "0"}, "average"),
        ({"zone": "161", "average": "97"}, "average"),
        ({"zone": "161", "from": "yesterday"}, "from"),
        ({"zone": "161", "to": "2026-13-01"}, "to"),
        ({"zone": "161", "to": "0001-01-01"}, "to"),
        ({"zone": "161", "from": "2026-11-15T23:59Z", "to": "2026-11-23"}, "to"),
        ({"zone": "161", "from": "2026-11-01"}, "from"),  # `to` is now, by default
        ({"zone": "161", "from": "2026-11-23T10:00Z"}, "from"),  # after now
        ({"zone": "161", "from": "2026-11-23 09:10:11.123"}, "from"),  # now: nothing between
        ({"zone": "161", "from": "2026-11-23T09:00Z", "to": "2026-11-23T09:00Z"}, "to"),
        ({"zone": "161", "Zone": "162"}, "Zone"),
    ],
)
def test_bad_fares_parameters_name_the_parameter(params: dict[str, str], parameter: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        fares_query(params, NOW)
    assert caught.value.parameter == parameter
    assert str(caught.value).startswith(f"{parameter}: ")


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"date": "2026-13-01"}, "date"),
        ({"date": "2026-02-29"}, "date"),
        ({"date": "20261123"}, "date"),
        ({"date": "2026-W48-1"}, "date"),
        ({"date": "2026-11-23T00:00Z"}, "date"),
        ({"date": "٢٠٢٦-11-23"}, "date"),  # digits, but not ASCII ones
        ({"date": ""}, "date"),
        ({"top": "0"}, "top"),
        ({"top": "97"}, "top"),
        ({"top": "five"}, "top"),
        ({"day": "2026-11-23"}, "day"),
    ],
)
def test_bad_peaks_parameters_name_the_parameter(params: dict[str, str], parameter: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        peaks_query(params, TODAY)
    assert caught.value.parameter == parameter


def test_zones_take_a_date_and_nothing_else() -> None:
    assert zones_day({"date": "2026-11-22"}, TODAY) == "2026-11-22"
    for params, parameter in (({"date": "2026-11-31"}, "date"), ({"top": "5"}, "top")):
        with pytest.raises(InvalidParameter) as caught:
            zones_day(params, TODAY)
        assert caught.value.parameter == parameter


def test_a_from_not_before_now_says_so_naming_the_default() -> None:
    with pytest.raises(InvalidParameter) as caught:
        fares_query({"zone": "161", "from": "2026-11-23T10:00Z"}, NOW)
    assert str(caught.value) == "from: must be earlier than 'to' (by default now)"
