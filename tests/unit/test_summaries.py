"""Summary rows: their wire format, and merging partial rows without double counting."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace

import pytest

from chalicelib.summaries import InvalidSummary, encode_row, merge, parse_row
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
        ({"SummaryId": None}, "SummaryId"),
        ({"Name": ""}, "Name"),
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
