"""Summary rows: their wire format, and merging partial rows without double counting."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import replace

import pytest

from chalicelib.unicorns.summaries import InvalidSummary, encode_row, merge, parse_row
from tests.readings import SUMMARY

PART_A = SUMMARY
PART_B = replace(
    PART_A,
    distance=1200.5,
    min_magic=130,
    max_magic=145,
    min_health=101,
    max_health=125,
    samples=40,
    first_status_time="2026-11-22 14:05:20.100",
    last_status_time="2026-11-22 14:05:59.100",
    latitude=40.76,
    longitude=-73.97,
    summary_ids=frozenset({"shardId-000000000002:7"}),
)
PART_C = replace(
    PART_A, samples=1, distance=1.0, summary_ids=frozenset({"shardId-000000000003:9"})
)


def test_a_row_survives_the_stream() -> None:
    data = encode_row(PART_A)
    assert json.loads(data)["SummaryId"] == "shardId-000000000000:100"
    assert parse_row(data) == PART_A


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"SummaryId": None}, "^SummaryId must be a non-empty string$"),
        ({"Name": ""}, "^Name must be a non-empty string$"),
        ({"StatusTime": "14:05"}, "StatusTime"),
        ({"SampleCount": 2.5}, "SampleCount"),
        ({"Distance": "far"}, "Distance"),
    ],
)
def test_malformed_rows_are_rejected(change: dict[str, object], reason: str) -> None:
    row = json.loads(encode_row(PART_A))
    row.update(change)
    with pytest.raises(InvalidSummary, match=reason):
        parse_row(json.dumps(row).encode())


def test_non_json_rows_are_rejected() -> None:
    with pytest.raises(InvalidSummary):
        parse_row(b"\xff")
    with pytest.raises(InvalidSummary):
        parse_row(b"[]")
    with pytest.raises(InvalidSummary, match="nested too deeply"):
        parse_row(b"[" * 100_000)


def test_two_parts_of_one_minute_combine_into_the_whole() -> None:
    merged = merge(None, [PART_A, PART_B])
    assert merged is not None
    assert merged.distance == 1800.75
    assert merged.samples == 60
    assert (merged.min_magic, merged.max_magic) == (130, 150)
    assert (merged.min_health, merged.max_health) == (98, 125)
    assert merged.first_status_time == PART_A.first_status_time
    assert (merged.last_status_time, merged.latitude) == (PART_B.last_status_time, 40.76)
    assert merged.summary_ids == PART_A.summary_ids | PART_B.summary_ids


def test_merging_does_not_depend_on_the_order_parts_arrive_in() -> None:
    results = {
        merge(None, list(order)) for order in itertools.permutations([PART_A, PART_B, PART_C])
    }
    assert len(results) == 1


def test_a_part_already_stored_changes_nothing() -> None:
    stored = merge(None, [PART_A, PART_B])
    assert merge(stored, [PART_A]) is None
    assert merge(stored, [PART_B, PART_A]) is None
    assert merge(PART_A, [PART_A]) is None


def test_a_new_part_is_added_to_what_is_stored() -> None:
    stored = merge(None, [PART_A])
    merged = merge(stored, [PART_A, PART_B])
    assert merged == merge(None, [PART_B, PART_A])


def row_with(**fields: object) -> bytes:
    row = json.loads(encode_row(PART_A))
    row.update(fields)
    return json.dumps(row).encode()


T = "2026-11-22 14:05:10.000"
# Each limit of a summary row: the row at it is stored, one step past it is kept aside
# with this reason (persist dead-letters it). Rows aggregate writes reach the limits:
# a unicorn at a pole or the antimeridian, standing still, or seen once in the minute.
LIMITS = [
    ({"SummaryId": "s" * 256}, {"SummaryId": "s" * 257}, "SummaryId must be at most 256"),
    ({"Name": "N" * 256}, {"Name": "N" * 257}, "Name must be 1 to 256 printable"),
    (
        {"FirstStatusTime": T, "LastStatusTime": T},
        {"FirstStatusTime": T, "LastStatusTime": "2026-11-22 14:05:09.999"},
        "FirstStatusTime must not be later than LastStatusTime",
    ),
    ({"SampleCount": 1, "Distance": 0.0}, {"SampleCount": 0}, "SampleCount must be from 1 to"),
    ({"SampleCount": 1_000_000}, {"SampleCount": 1_000_001}, "SampleCount must be from 1 to"),
    ({"MinMagicPoints": 0}, {"MinMagicPoints": -1}, "MinMagicPoints and MaxMagicPoints must"),
    (
        {"MinMagicPoints": 150, "MaxMagicPoints": 150},
        {"MinMagicPoints": 151, "MaxMagicPoints": 150},
        "MinMagicPoints and MaxMagicPoints must be from 0 to 1000, "
        "the minimum not above the maximum, got 151 and 150",
    ),
    ({"MaxMagicPoints": 1000}, {"MaxMagicPoints": 1001}, "MinMagicPoints and MaxMagicPoints"),
    ({"MinHealthPoints": 0}, {"MinHealthPoints": -1}, "MinHealthPoints and MaxHealthPoints"),
    ({"MaxHealthPoints": 1000}, {"MaxHealthPoints": 1001}, "MinHealthPoints and MaxHealth"),
    ({"Distance": 0.0}, {"Distance": -0.001}, "Distance must be from 0 to 5000 m a sample"),
    ({"Distance": 100_000.0}, {"Distance": 100_000.001}, "Distance must be from 0 to 5000 m"),
    ({"Latitude": -90.0}, {"Latitude": -90.000001}, "Latitude must be from -90 to 90"),
    ({"Latitude": 90.0}, {"Latitude": 90.000001}, "Latitude must be from -90 to 90"),
    ({"Longitude": -180.0}, {"Longitude": -180.000001}, "Longitude must be from -180 to 180"),
    ({"Longitude": 180.0}, {"Longitude": 180.000001}, "Longitude must be from -180 to 180"),
]


@pytest.mark.parametrize(("at", "past", "reason"), LIMITS)
def test_each_limit_of_a_summary_row_takes_the_limit_and_refuses_one_step_past_it(
    at: dict[str, object], past: dict[str, object], reason: str
) -> None:
    parse_row(row_with(**at))  # PART_A has 20 samples: at most 100 km
    with pytest.raises(InvalidSummary, match=f"^{re.escape(reason)}"):
        parse_row(row_with(**(at | past)))


@pytest.mark.parametrize(
    ("count", "shown"),
    [(10**19, str(10**19)), (10**20, "10000000000000000...")],
)
def test_a_huge_count_is_shown_whole_up_to_twenty_digits(count: int, shown: str) -> None:
    with pytest.raises(InvalidSummary, match=re.escape(f"got {shown}")):
        parse_row(row_with(SampleCount=count))


TOO_LARGE = "must be a number, got an integer too large for one"


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        # A float reaches about 2**1024; the rows refuse an integer from 2**1023 on.
        ("Distance", 2**1023, f"Distance {TOO_LARGE}"),
        ("Distance", 2**1023 - 1, "Distance must be from 0 to 5000 m a sample"),
        ("Latitude", -(2**1023), f"Latitude {TOO_LARGE}"),
        ("Latitude", -(2**1023) + 1, "Latitude must be from -90 to 90"),
        ("Longitude", 2**1023, f"Longitude {TOO_LARGE}"),
    ],
)
def test_an_integer_too_large_for_a_float_is_refused_as_such(
    field: str, value: int, reason: str
) -> None:
    with pytest.raises(InvalidSummary, match=f"^{re.escape(reason)}"):
        parse_row(row_with(**{field: value}))
