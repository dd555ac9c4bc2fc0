"""The taxi window state Lambda carries between batches, and partial rows read back."""

from __future__ import annotations

import json
import re

import pytest

from chalicelib.pipeline.jsonrecords import InvalidRecord
from chalicelib.pipeline.windows import InvalidState
from chalicelib.taxi.summaries import ZoneWindow, encode_partial, parse_partial
from chalicelib.taxi.windows import TripWindowState

WINDOW = ZoneWindow(161, "2026-11-23 08:00:00.000", 3, 3600, 3000, 7500, 1600, 300)


def test_the_state_survives_the_round_trip_through_json() -> None:
    state = TripWindowState({WINDOW.key: WINDOW}, invalid=2)
    again = TripWindowState.from_state(json.loads(json.dumps(state.to_state())))
    assert again.windows == {WINDOW.key: WINDOW}
    assert again.invalid == 2
    assert TripWindowState.from_state({}).windows == {}


ROW = [161, "2026-11-23 08:00:00.000", 3, 3600, 3000, 7500, 1600, 300]


@pytest.mark.parametrize(
    "state",
    [
        {"v": 0, "zones": [], "invalid": 0},  # another version's
        {"v": 1, "zones": {}, "invalid": 0},
        {"v": 1, "zones": []},  # without its count of invalid trips
        {"v": 1, "zones": [], "invalid": "0"},
        {"v": 1, "zones": [ROW[:-1]], "invalid": 0},  # a sum short
        {"v": 1, "zones": [[*ROW, 5]], "invalid": 0},  # a sum too many
        {"v": 1, "zones": ["161"], "invalid": 0},
    ],
)
def test_a_state_this_code_did_not_write_is_refused(state: dict[str, object]) -> None:
    """Folded in, it would give the zone's window wrong sums: aggregate_trips fails instead."""
    with pytest.raises(InvalidState, match=r"^trip window state is not version 1: \['"):
        TripWindowState.from_state(state)


def test_the_state_of_a_window_without_bad_trips_counts_none() -> None:
    assert TripWindowState.from_state({}).to_state() == {"v": 1, "zones": [], "invalid": 0}
    written = TripWindowState.from_state({"v": 1, "zones": [ROW], "invalid": 0})
    assert written.windows == {WINDOW.key: WINDOW}


def test_a_partial_row_reads_back_as_written() -> None:
    partial = ZoneWindow(161, "2026-11-23 08:00:00.000", 3, 3600, parts=frozenset({"s:w"}))
    assert parse_partial(encode_partial(partial)) == partial
    # One compact line on the stream: Kinesis bills and limits by the byte.
    assert encode_partial(partial) == (
        b'{"Zone":161,"WindowStart":"2026-11-23 08:00:00.000","Trips":3,"Fares":3600,'
        b'"MovingFares":0,"MilliMiles":0,"CardFares":0,"CardTips":0,"Parts":["s:w"]}\n'
    )


def test_a_sum_may_be_up_to_a_million_billion() -> None:
    largest = ZoneWindow(161, "2026-11-23 08:00:00.000", fares=10**15, parts=frozenset({"p"}))
    assert parse_partial(encode_partial(largest)) == largest
    row = json.loads(encode_partial(largest))
    row["Fares"] = 10**15 + 1
    with pytest.raises(
        InvalidRecord,
        match=r"^Fares must be an integer from 0 to 1000000000000000, got integer 10{14}1$",
    ):
        parse_partial(json.dumps(row).encode())


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        (
            {"WindowStart": "2026-11-23 08:07:00.000"},
            "WindowStart must be the start of a 15-minute window as a StatusTime, "
            "got string '2026-11-23 08:07:00.000'",
        ),
        (
            {"WindowStart": 1_795_420_800},
            "WindowStart must be the start of a 15-minute window as a StatusTime",
        ),
        ({"Parts": []}, "Parts must be a list of 1 or more ids"),
        ({"Parts": ["p", 7]}, "Parts must be a list of 1 or more ids, got array ['p', 7]"),
        ({"Parts": ["p", ""]}, "Parts must be a list of 1 or more ids"),
        ({"Parts": ["p" * 257]}, "Parts must be a list of 1 or more ids"),
        ({"Zone": 0}, "Zone must be an integer from 1 to 265"),
        ({"Trips": -1}, "Trips must be an integer from 0"),
        ({"Fares": 1.5}, "Fares must be an integer"),
    ],
)
def test_a_bad_partial_row_is_refused_with_its_reason(
    changes: dict[str, object], reason: str
) -> None:
    good = ZoneWindow(161, "2026-11-23 08:00:00.000", parts=frozenset({"p"}))
    row = json.loads(encode_partial(good))
    row.update(changes)
    with pytest.raises(InvalidRecord, match=f"^{re.escape(reason)}"):
        parse_partial(json.dumps(row).encode())


def test_a_part_id_may_be_256_characters() -> None:
    longest = ZoneWindow(161, "2026-11-23 08:00:00.000", parts=frozenset({"p" * 256}))
    assert parse_partial(encode_partial(longest)) == longest
