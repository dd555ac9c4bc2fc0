"""Bad input, one class of defect per row: what the parsers make of it (no AWS).

The tables live in tests/bad_records.py; tests/functional/test_bad_input.py
sends the same rows through the real handlers.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.errors import InvalidParameter
from chalicelib.pipeline.events import read_batch
from chalicelib.pipeline.timestamps import format_status_time, parse_instant
from chalicelib.unicorns.params import summary_query
from chalicelib.unicorns.records import (
    MAX_AHEAD_SECONDS,
    ArrivalCheck,
    InvalidRecord,
    Reading,
    is_valid_name,
    parse_reading,
)
from chalicelib.unicorns.summaries import InvalidSummary, parse_row
from chalicelib.unicorns.windows import UNICORN_READINGS, WindowState
from tests.bad_records import (
    ACCEPTED,
    ARRIVAL,
    DEAD_LETTERED,
    NORMALISED,
    SUMMARY_TABLE,
    TABLE,
    Row,
    SummaryRow,
    dumps,
    fields,
)
from tests.lambda_events import kinesis_record, window_event

MAX_REASON = 200  # a reason is one readable line, however large the record


def process(data: bytes, arrival: float = ARRIVAL) -> Reading:
    """What `aggregate` and `vitals` do with a record: parse, then check it against its arrival."""
    reading = parse_reading(data)
    ArrivalCheck()(reading.status_time, arrival)
    return reading


@pytest.mark.parametrize("row", TABLE, ids=[row.id for row in TABLE])
def test_each_defect_class_of_a_raw_record_has_its_documented_outcome(row: Row) -> None:
    if row.outcome == DEAD_LETTERED:
        with pytest.raises(InvalidRecord) as caught:
            process(row.data)
        assert isinstance(row.expected, str)
        assert row.expected in caught.value.reason
        assert len(caught.value.reason) < MAX_REASON
        assert "\n" not in caught.value.reason
    else:
        assert row.outcome in (ACCEPTED, NORMALISED)
        parsed = process(row.data)
        assert parsed == row.expected
        assert all(type(v) is float for v in (parsed.latitude, parsed.longitude, parsed.distance))


def test_the_table_covers_every_outcome() -> None:
    outcomes = {row.outcome for row in TABLE}
    assert outcomes == {ACCEPTED, NORMALISED, DEAD_LETTERED}


@pytest.mark.parametrize(
    ("status_time", "arrival", "accepted"),
    [
        ("2026-11-22 14:10:10.000", ARRIVAL, True),  # exactly 5 minutes ahead
        ("2026-11-22 14:10:11.000", ARRIVAL, True),  # within the second of arrival
        ("2026-11-22 14:10:11.001", ARRIVAL, False),
        ("2026-11-22 14:10:11.001", ARRIVAL + 0.999, False),
        ("2026-11-22 14:10:11.001", ARRIVAL + 1.0, True),  # the next second's bound
        ("2026-11-22 14:05:09.123", ARRIVAL, True),
        ("1970-01-01 00:00:00.000", ARRIVAL, True),  # the past is never refused
    ],
)
def test_a_status_time_may_be_at_most_five_minutes_ahead_of_arrival(
    status_time: str, arrival: float, accepted: bool
) -> None:
    assert MAX_AHEAD_SECONDS == 300
    check = ArrivalCheck()
    reading = parse_reading(dumps(fields("Shadowfax", StatusTime=status_time)))
    if accepted:
        check(reading.status_time, arrival)
    else:
        with pytest.raises(InvalidRecord, match="more than 5 minutes ahead"):
            check(reading.status_time, arrival)


def test_one_check_serves_a_whole_batch_of_arrivals() -> None:
    check = ArrivalCheck()
    late = parse_reading(dumps(fields("Shadowfax", StatusTime="2026-11-22 14:20:00.000")))
    with pytest.raises(InvalidRecord):
        check(late.status_time, ARRIVAL)
    check(late.status_time, ARRIVAL + 600)  # arrived ten minutes later: fine now
    with pytest.raises(InvalidRecord):
        check(late.status_time, ARRIVAL)  # and the earlier bound is not kept by mistake


def test_aggregate_holds_each_record_of_a_batch_to_its_own_arrival() -> None:
    # The same StatusTime on two records: fine for the one that arrived ten minutes
    # later, too far ahead for the one that arrived first, though it comes second.
    late = dumps(fields("Shadowfax", StatusTime="2026-11-22 14:20:00.000"))
    event = window_event(
        [
            kinesis_record(late, "2", "Shadowfax", ARRIVAL + 600),
            kinesis_record(late, "3", "Shadowfax", ARRIVAL),
        ],
        start="2026-11-22 14:00:00.000",
        end="2026-11-22 14:30:00.000",
    )
    state = WindowState()

    rejected = UNICORN_READINGS.fold(state, read_batch(event))

    assert [r.sequence_number for r in rejected] == ["3"]
    assert "more than 5 minutes ahead" in rejected[0].reason
    assert state.unicorns["Shadowfax"][0] == 1  # one sample: the record that arrived late


@given(st.text(max_size=300))
def test_the_name_rule_is_the_one_the_parser_applies(name: str) -> None:
    try:
        parse_reading(dumps(fields(name)))
        parsed = True
    except InvalidRecord:
        parsed = False
    assert is_valid_name(name) == parsed


@pytest.mark.parametrize("row", SUMMARY_TABLE, ids=[row.id for row in SUMMARY_TABLE])
def test_each_defect_class_of_a_summary_row_has_its_documented_outcome(row: SummaryRow) -> None:
    if row.outcome == DEAD_LETTERED:
        with pytest.raises(InvalidSummary) as caught:
            parse_row(row.data)
        assert row.expected in caught.value.reason
        assert len(caught.value.reason) < MAX_REASON
    else:
        summary = parse_row(row.data)
        assert summary.name == row.expected
        assert type(summary.distance) is float and type(summary.latitude) is float


# --- the API's parameters: what the property tests found ---


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00+01:00",  # before year 1 once in UTC
        "9999-12-31T23:59:59-01:00",  # after 9999 once in UTC
    ],
)
def test_a_time_outside_the_years_1_to_9999_in_utc_is_not_a_time(text: str) -> None:
    with pytest.raises(ValueError, match="between the years 1 and 9999"):
        parse_instant(text)


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"from": "0001-01-01T00:00:00+01:00"}, "from"),
        ({"to": "9999-12-31T23:59:59-01:00"}, "to"),
        ({"next": base64.urlsafe_b64encode(b"[" * 100_000).decode()}, "next"),
        ({"next": base64.urlsafe_b64encode(b'{"n":' * 50_000).decode()}, "next"),
    ],
)
def test_parameters_that_used_to_be_a_500_are_a_400_naming_them(
    params: dict[str, str], parameter: str
) -> None:
    with pytest.raises(InvalidParameter) as caught:
        summary_query("Shadowfax", params)
    assert caught.value.parameter == parameter


def test_the_years_1_and_9999_themselves_are_times() -> None:
    assert parse_instant("0001-01-01T00:00:00Z") == datetime(1, 1, 1, tzinfo=UTC)
    assert format_status_time(parse_instant("9999-12-31T23:59:59.999+00:00")) == (
        "9999-12-31 23:59:59.999"
    )
    assert json.loads(json.dumps(summary_query("S", {"to": "9999-12-31"}).end)) == (
        "9999-12-30 23:59:59.999"
    )
