"""Tumbling-window state: carried between invocations as JSON, ending in one row per unicorn."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from chalicelib.pipeline.timestamps import parse_status_time
from chalicelib.pipeline.windows import InvalidState, Window
from chalicelib.unicorns.records import Reading, encode_reading
from chalicelib.unicorns.windows import WindowState, fold_readings
from tests.lambda_events import kinesis_record
from tests.readings import reading

WINDOW = Window(
    datetime(2026, 11, 22, 14, 5, tzinfo=UTC), datetime(2026, 11, 22, 14, 6, tzinfo=UTC)
)


def fold(state: WindowState, *reports: tuple[Reading, str]) -> None:
    """Fold readings in as `aggregate` does, one batch, each arriving just after its StatusTime."""
    records = [
        kinesis_record(
            encode_reading(r), sequence, r.name, parse_status_time(r.status_time).timestamp() + 0.1
        )
        for r, sequence in reports
    ]
    assert fold_readings(state, records) == []


def carried(state: WindowState) -> WindowState:
    """The state as the next invocation sees it, after a trip through Lambda as JSON."""
    return WindowState.from_state(json.loads(json.dumps(state.to_state())))


def test_statistics_survive_being_carried_between_invocations() -> None:
    first = WindowState.from_state({})
    fold(
        first,
        (
            reading(status_time="2026-11-22 14:05:01.000", distance=30.5, health=120, magic=140),
            "10",
        ),
        (
            reading(status_time="2026-11-22 14:05:02.000", distance=29.5, health=118, magic=141),
            "11",
        ),
    )
    second = carried(first)
    fold(
        second,
        (
            reading(
                status_time="2026-11-22 14:05:03.000",
                distance=30.0,
                health=121,
                magic=139,
                latitude=40.8,
                longitude=-73.9,
            ),
            "12",
        ),
        (reading("Rocinante", "2026-11-22 14:05:03.500", distance=31.0), "13"),
    )

    rows = {s.name: s for s in carried(second).summaries(WINDOW, "shardId-000000000001")}

    shadowfax = rows["Shadowfax"]
    assert (shadowfax.samples, shadowfax.distance) == (3, 90.0)
    assert (shadowfax.min_health, shadowfax.max_health) == (118, 121)
    assert (shadowfax.min_magic, shadowfax.max_magic) == (139, 141)
    assert (shadowfax.first_status_time, shadowfax.last_status_time) == (
        "2026-11-22 14:05:01.000",
        "2026-11-22 14:05:03.000",
    )
    assert (shadowfax.latitude, shadowfax.longitude) == (40.8, -73.9)
    assert shadowfax.status_time == "2026-11-22 14:05:00.000"
    assert shadowfax.window_end == "2026-11-22 14:06:00.000"
    assert shadowfax.summary_ids == {"shardId-000000000001:10"}
    assert rows["Rocinante"].samples == 1
    assert rows["Rocinante"].summary_ids == {"shardId-000000000001:13"}


def test_the_last_position_is_the_latest_report_even_if_it_arrived_earlier() -> None:
    state = WindowState()
    fold(
        state,
        (reading(status_time="2026-11-22 14:05:05.000", latitude=41.0), "1"),
        (reading(status_time="2026-11-22 14:05:04.000", latitude=40.0), "2"),
    )
    (row,) = state.summaries(WINDOW, "s")
    assert row.latitude == 41.0
    assert row.first_status_time == "2026-11-22 14:05:04.000"


def test_rows_come_out_in_name_order_and_an_empty_window_has_none() -> None:
    state = WindowState()
    fold(state, *((reading(name), "1") for name in ("Pegasus", "Artax", "Epona")))
    assert [s.name for s in state.summaries(WINDOW, "s")] == ["Artax", "Epona", "Pegasus"]
    assert WindowState.from_state(None).summaries(WINDOW, "s") == []


@pytest.mark.parametrize(
    "state",
    [
        {"something": "else"},
        {"v": 2, "unicorns": {}},  # another version's, though shaped like this one's
        {"v": 2, "unicorns": {}, "invalid": 0},  # another version's, though shaped like this one's
        {"v": 1, "unicorns": ["Shadowfax"], "invalid": 0},  # this version, but not its shape
        {"v": 1, "unicorns": {}},  # without its count of invalid records
        {"v": 1, "unicorns": {}, "invalid": "3"},
    ],
)
def test_a_state_this_code_did_not_write_is_refused(state: dict[str, object]) -> None:
    """A window carried over from another version of aggregate must fail loudly, not be
    folded into wrong statistics."""
    with pytest.raises(InvalidState, match=r"^window state is not version 1: keys \['"):
        WindowState.from_state(state)


def test_of_two_reports_at_the_same_time_the_later_one_gives_the_position() -> None:
    state = WindowState()
    fold(
        state,
        (reading(status_time="2026-11-22 14:05:05.000", latitude=40.0), "1"),
        (reading(status_time="2026-11-22 14:05:05.000", latitude=41.0), "2"),
    )
    (row,) = state.summaries(WINDOW, "s")
    assert row.latitude == 41.0  # the one that arrived last, as the map would show it


def test_window_bounds_come_from_the_event() -> None:
    window = Window.from_event({"start": "2026-11-22T14:05:00Z", "end": "2026-11-22T14:06:00Z"})
    assert window == WINDOW
