"""`aggregate`'s fold checks most records inline and the rest the reference way: the same answers.

`fold_readings` settles a record as the producer writes it with inline checks,
and sends anything else through `parse_reading` and `ArrivalCheck`. Here a
model folds each record the plain way, one at a time, and the two must agree
on every state and every refusal, for each defect class of tests/bad_records.py
placed where the inline checks see it, and for generated batches.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.pipeline.timestamps import format_status_time, from_epoch
from chalicelib.unicorns.records import (
    MAX_AHEAD_SECONDS,
    ArrivalCheck,
    InvalidRecord,
    Reading,
    is_valid_name,
    parse_reading,
)
from chalicelib.unicorns.windows import WindowState, fold_readings
from tests.bad_records import ARRIVAL, DEAD_LETTERED, STATUS_TIME, TABLE, Row, dumps, fields
from tests.lambda_events import kinesis_record

Sent = tuple[bytes, float]  # a record's data and its arrival


def model(sent: list[Sent], unicorns: dict[str, list[Any]]) -> list[tuple[str, str]]:
    """Fold each record the plain way into `unicorns`; the refusals as (sequence, reason)."""
    refused = []
    for number, (data, arrival) in enumerate(sent):
        sequence = str(number)
        try:
            r = parse_reading(data)
            ArrivalCheck()(r.status_time, arrival)
        except InvalidRecord as err:
            refused.append((sequence, err.reason))
            continue
        e = unicorns.get(r.name)
        if e is None:
            unicorns[r.name] = [
                *(1, r.distance, r.magic, r.magic, r.health, r.health),
                *(sequence, r.status_time, r.status_time, r.latitude, r.longitude),
            ]
            continue
        e[0] += 1
        e[1] += r.distance
        e[2], e[3] = min(e[2], r.magic), max(e[3], r.magic)
        e[4], e[5] = min(e[4], r.health), max(e[5], r.health)
        e[7] = min(e[7], r.status_time)
        if r.status_time >= e[8]:
            e[8], e[9], e[10] = r.status_time, r.latitude, r.longitude
    return refused


def folded(batches: list[list[Sent]]) -> tuple[str, list[tuple[str, str]]]:
    """The batches through `fold_readings`, the state carried between them as Lambda does."""
    state, refused, number = WindowState(), [], 0
    for batch in batches:
        records = []
        for data, arrival in batch:
            records.append(kinesis_record(data, str(number), "p", arrival))
            number += 1
        refused += [(r.sequence_number, r.reason) for r in fold_readings(state, records)]
        state = WindowState.from_state(json.loads(json.dumps(state.to_state())))
    return exact(state.unicorns), refused


def modelled(batches: list[list[Sent]]) -> tuple[str, list[tuple[str, str]]]:
    unicorns: dict[str, list[Any]] = {}
    refused = model([s for batch in batches for s in batch], unicorns)
    return exact(unicorns), refused


def exact(unicorns: dict[str, list[Any]]) -> str:
    """The state as text: tells 5 from 5.0 and 0.0 from -0.0, which == does not."""
    return json.dumps(unicorns, sort_keys=True)


def prime(row: Row) -> bytes:
    """A valid record of the row's unicorn at the row's StatusTime, to come first.

    The unicorn is the one the row's first JSON object names, if any: then the
    row's record finds its unicorn in the window, as the inline checks need.
    """
    name = row.expected.name if isinstance(row.expected, Reading) else row.id
    try:
        first, _ = json.JSONDecoder().raw_decode(row.data.decode().lstrip())
    except (UnicodeDecodeError, ValueError, RecursionError):
        first = None
    if isinstance(first, dict) and is_valid_name(first.get("Name")):
        name = first["Name"]
    return dumps(fields(name))


@pytest.mark.parametrize("row", TABLE, ids=[row.id for row in TABLE])
def test_each_defect_class_after_a_valid_record_of_its_unicorn_is_judged_as_alone(
    row: Row,
) -> None:
    batch = [(prime(row), ARRIVAL), (row.data, ARRIVAL)]
    assert folded([batch]) == modelled([batch])


def test_records_of_a_unicorn_the_window_already_has_are_judged_as_alone() -> None:
    batches = [[(prime(row), ARRIVAL) for row in TABLE], [(row.data, ARRIVAL) for row in TABLE]]
    state, refused = folded(batches)
    assert (state, refused) == modelled(batches)
    assert len(refused) == sum(row.outcome == DEAD_LETTERED for row in TABLE)


def at(second: float) -> str:
    return format_status_time(from_epoch(second))


def timed(status_time: str, arrival: float) -> Sent:
    return dumps(fields("Shadowfax", StatusTime=status_time)), arrival


VALID = dumps(fields("Shadowfax")), ARRIVAL
BEYOND = at(ARRIVAL + MAX_AHEAD_SECONDS + 1.5)  # too far ahead for ARRIVAL's second, not the next


@pytest.mark.parametrize(
    ("batch", "refused"),
    [
        pytest.param(
            [
                timed(at(ARRIVAL + MAX_AHEAD_SECONDS + 0.5), ARRIVAL),
                timed(at(ARRIVAL + MAX_AHEAD_SECONDS + 0.5), ARRIVAL - 1),
                timed(at(ARRIVAL + MAX_AHEAD_SECONDS + 0.5), ARRIVAL + 0.9),
            ],
            ["1"],
            id="a record that arrived before the batch's first is held to its own arrival",
        ),
        pytest.param(
            [VALID, timed(BEYOND, ARRIVAL + 1.2), timed(BEYOND, ARRIVAL + 0.5)],
            ["2"],
            id="a StatusTime first seen on a later arrival is held to each record's own",
        ),
        pytest.param(
            [(VALID[0], ARRIVAL + 0.5), timed(BEYOND, ARRIVAL + 0.6)],
            ["1"],
            id="the bound is the end of the first record's second, not the next",
        ),
        pytest.param(
            [timed(at(0), -0.5), timed(at(MAX_AHEAD_SECONDS + 0.5), -1.0)],
            ["1"],
            id="an arrival before 1970 is cut to its second as the reference cuts it",
        ),
        pytest.param(
            [VALID, timed("2026-11-22 14:05:09", ARRIVAL), timed("2026-11-22 14:05:09", ARRIVAL)],
            ["1", "2"],
            id="a StatusTime refused once is refused again",
        ),
        pytest.param(
            [(b"not JSON", float("nan")), VALID, timed(BEYOND, ARRIVAL)],
            ["0", "2"],
            id="a first arrival that is no time sends every record the reference way",
        ),
    ],
)
def test_each_record_is_held_to_its_own_arrival(batch: list[Sent], refused: list[str]) -> None:
    state, refusals = folded([batch])
    assert [sequence for sequence, _ in refusals] == refused
    assert (state, refusals) == modelled([batch])


# Each field's values at and just past its edges, and of the wrong JSON type.
EDGES: dict[str, list[Any]] = {
    "Latitude": [-90.0, 90.0, -90.0001, 90.0001, 41, True, "40.7", None],
    "Longitude": [-180.0, 180.0, -180.0001, 180.0001, -74, False, "-73.9"],
    "Distance": [0.0, -0.0, 5000.0, -0.5, 5000.0001, 30, True, "30", {"m": 30}],
    "HealthPoints": [0, 1000, -1, 1001, True, 150.0, 149.5, "150"],
    "MagicPoints": [0, 1000, -1, 1001, False, 150.0, "150"],
    "Name": ["", " ", 7, None, "x" * 257, "Sch\u00f6n", "tab\tname"],
    "StatusTime": [
        "2026-11-22T14:05:09Z",
        "2026-11-22 14:05:09",
        "2026-02-30 14:05:09.000",
        1795000000,
        at(ARRIVAL + MAX_AHEAD_SECONDS + 1),  # as far ahead as the second of arrival allows
        at(ARRIVAL + MAX_AHEAD_SECONDS + 1.001),  # a millisecond more
    ],
}
ENDS = {
    "nothing": "",
    "a newline": "\n",
    "CRLF": "\r\n",
    "a space": " ",
    "two newlines": "\n\n",
    "a letter": "x",
    "an object": "{}",
    "a number": ", 1",
}


@pytest.mark.parametrize(
    ("field", "value"),
    [(f, v) for f, values in EDGES.items() for v in values],
    ids=[f"{f}-{n}" for f, values in EDGES.items() for n in range(len(values))],
)
def test_a_value_at_or_past_an_edge_after_a_valid_record_is_judged_as_alone(
    field: str, value: Any
) -> None:
    batch = [
        (dumps(fields("Shadowfax")), ARRIVAL),
        (dumps(fields("Shadowfax", **{field: value})), ARRIVAL),
    ]
    assert folded([batch]) == modelled([batch])


@pytest.mark.parametrize("end", ENDS.values(), ids=ENDS.keys())
def test_what_follows_the_json_after_a_valid_record_is_judged_as_alone(end: str) -> None:
    record = json.dumps(fields("Shadowfax"), separators=(",", ":")) + end
    batch = [(dumps(fields("Shadowfax")), ARRIVAL), (record.encode(), ARRIVAL)]
    assert folded([batch]) == modelled([batch])


NAMES = ["Shadowfax", "Rocinante", "Bucephalus"]
TIMES = [
    STATUS_TIME,
    "2026-11-22 14:05:08.000",
    "2026-11-22 14:05:10.500",
    at(ARRIVAL + MAX_AHEAD_SECONDS + 0.5),  # within the bound of any arrival here but ARRIVAL - 1
    BEYOND,  # within the bound of an arrival in the second after ARRIVAL only
]
ARRIVALS = [
    ARRIVAL,
    ARRIVAL,
    ARRIVAL + 0.5,
    ARRIVAL + 0.7,
    ARRIVAL + 1.2,
    ARRIVAL - 0.5,
    ARRIVAL - 1,
]


@st.composite
def record(draw: st.DrawFn) -> bytes:
    """A valid record of a few unicorns and times, or one with a field or two changed."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(TABLE)).data
    obj = fields(draw(st.sampled_from(NAMES)), StatusTime=draw(st.sampled_from(TIMES)))
    obj["Latitude"] = draw(st.floats(-90.0, 90.0))
    obj["Distance"] = draw(st.floats(0.0, 5000.0))
    obj["HealthPoints"] = draw(st.integers(0, 1000))
    for key in draw(st.lists(st.sampled_from(sorted(EDGES)), max_size=2)):
        obj[key] = draw(st.sampled_from([*EDGES[key], ...]))
    obj = {key: value for key, value in obj.items() if value is not ...}
    spaced = draw(st.integers(0, 4)) == 0
    text = json.dumps(obj, separators=(", ", ": ") if spaced else (",", ":"))
    return (text + draw(st.sampled_from(sorted(ENDS.values())))).encode()


SENT = st.tuples(record(), st.sampled_from(ARRIVALS))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(SENT, max_size=25), min_size=1, max_size=3))
def test_any_batches_fold_to_the_state_and_refusals_of_one_record_at_a_time(
    batches: list[list[Sent]],
) -> None:
    assert folded(batches) == modelled(batches)
