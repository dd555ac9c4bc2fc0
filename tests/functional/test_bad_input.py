"""Bad input through the real handlers: every defect class at once, and duplicates.

The raw-record table (tests/bad_records.py) goes to `aggregate` and `vitals`
as Lambda would deliver it, mixed with good records; the summary-row table
goes to `persist`. Each invocation must succeed (a failed one would block the
shard), every record must be accounted for (a summary or status, or a dead
letter with its reason and a counter), and nothing else may change.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import names
from chalicelib.adapters.dynamo import from_attributes
from chalicelib.unicorns.records import Reading, encode_reading
from tests.bad_records import (
    ARRIVAL,
    DEAD_LETTERED,
    SUMMARY_TABLE,
    TABLE,
    Row,
    dumps,
    fields,
)
from tests.functional.conftest import Aws
from tests.lambda_events import kinesis_event, kinesis_record, window_event

START, END = "2026-11-22T14:05:00Z", "2026-11-22T14:06:00Z"
WINDOW_START, WINDOW_END = "2026-11-22 14:05:00.000", "2026-11-22 14:06:00.000"
SHARD = "shardId-000000000000"

ACCEPTED_ROWS = [row for row in TABLE if row.outcome != DEAD_LETTERED]
REJECTED_ROWS = [row for row in TABLE if row.outcome == DEAD_LETTERED]


def records(rows: list[Row], first_seq: int = 1) -> list[dict[str, Any]]:
    return [
        kinesis_record(row.data, str(first_seq + n), row.partition_key, ARRIVAL + n / 1000)
        for n, row in enumerate(rows)
    ]


def expected_summary(reading: Reading, sequence: int) -> dict[str, Any]:
    """The summary row of a window in which `reading` is its unicorn's only report."""
    return {
        "Name": reading.name,
        "StatusTime": WINDOW_START,  # the window, cut by arrival: never the report's own time
        "Distance": reading.distance,
        "MinMagicPoints": reading.magic,
        "MaxMagicPoints": reading.magic,
        "MinHealthPoints": reading.health,
        "MaxHealthPoints": reading.health,
        "SampleCount": 1,
        "WindowEnd": WINDOW_END,
        "FirstStatusTime": reading.status_time,
        "LastStatusTime": reading.status_time,
        "Latitude": reading.latitude,
        "Longitude": reading.longitude,
        "SummaryId": f"{SHARD}:{sequence}",
    }


def invoke_window(client: Client, batches: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One tumbling window, batch by batch, then its final invocation: every response."""
    state: dict[str, Any] = {}
    responses = []
    for batch in [*batches, None]:
        event = window_event(batch or [], start=START, end=END, state=state, final=batch is None)
        response = client.lambda_.invoke("aggregate", event).payload
        responses.append(response)
        state = response["state"]
    return responses


def summaries_on_stream(aws: Aws) -> dict[str, dict[str, Any]]:
    found = {}
    for record in aws.stream_records(names.SUMMARY_STREAM):
        row = json.loads(record["Data"])
        assert record["PartitionKey"] == row["Name"][:256]
        assert row["Name"] not in found, "one summary per unicorn and window"
        found[row["Name"]] = row
    return found


def test_aggregate_accounts_for_every_defect_class_and_never_fails_the_window(
    client: Client, aws: Aws, caplog: pytest.LogCaptureFixture, subtests: pytest.Subtests
) -> None:
    all_records = records(TABLE)
    half = len(all_records) // 2
    responses = invoke_window(client, [all_records[:half], all_records[half:]])

    # Every invocation succeeded, the window's counter holds every rejected record.
    assert [set(r) for r in responses] == [{"state"}] * 3
    assert responses[1]["state"]["invalid"] == len(REJECTED_ROWS)
    assert responses[-1] == {"state": {}}

    # Accepted rows: one summary each, with the values as accepted (or normalised).
    sequence_of = {row.id: n for n, row in enumerate(TABLE, 1)}
    expected = {
        row.expected.name: expected_summary(row.expected, sequence_of[row.id])
        for row in ACCEPTED_ROWS
        if isinstance(row.expected, Reading)
    }
    summaries = summaries_on_stream(aws)
    assert sorted(summaries) == sorted(expected)
    for name, summary in expected.items():
        with subtests.test(msg=name[:60]):
            assert summaries[name] == summary

    # Rejected rows: kept byte for byte, with their reason, one line each.
    kept = {entry["partitionKey"]: entry for entry in aws.dead_letters()}
    assert sorted(kept) == sorted(row.partition_key for row in REJECTED_ROWS)
    for row in REJECTED_ROWS:
        with subtests.test(msg=row.id):
            entry = kept[row.partition_key]
            assert row.expected in entry["reason"]
            assert base64.b64decode(entry["data"]) == row.data
            assert entry["sequenceNumber"] == str(sequence_of[row.id])
    assert {e["key"].rsplit("/", 1)[0] for e in kept.values()} == {
        "dead-letter/aggregate/2026/11/22/14"
    }
    logged = [r for r in caplog.records if "rejected record" in r.getMessage()]
    assert len(logged) == len(REJECTED_ROWS)
    assert all(len(r.getMessage()) < 1000 for r in logged)  # even for a 1 MB record


def test_vitals_keeps_a_status_for_every_accepted_row_and_skips_the_rest(
    client: Client, aws: Aws, caplog: pytest.LogCaptureFixture, subtests: pytest.Subtests
) -> None:
    caplog.set_level("INFO")
    response = client.lambda_.invoke("vitals", kinesis_event(records(TABLE))).payload

    assert response == {"batchItemFailures": []}
    statuses = {
        row["Name"]: row
        for row in (from_attributes(item) for item in aws.table_items(names.STATUS_TABLE))
    }
    expected = {row.expected.name: row.expected for row in ACCEPTED_ROWS}
    assert sorted(statuses) == sorted(expected)
    for name, reading in expected.items():
        assert isinstance(reading, Reading)
        with subtests.test(msg=name[:60]):
            status = statuses[name]
            assert (
                status["StatusTime"],
                status["HealthPoints"],
                status["MagicPoints"],
                status["Latitude"],
                status["Longitude"],
                status["Distance"],
            ) == (
                reading.status_time,
                reading.health,
                reading.magic,
                reading.latitude,
                reading.longitude,
                reading.distance,
            )
    # The only unwell row is the one with no points left; a repeated key
    # ({"HealthPoints": 1, ..., "HealthPoints": 150}) counts with its last value.
    assert [m["Subject"] for m in aws.emails()] == [
        "[Wild Rydes] no points left: HealthPoints and MagicPoints below 100"
    ]
    assert f"vitals skipped {len(REJECTED_ROWS)} invalid records of {SHARD}" in caplog.messages


# --- duplicates: a record sent twice is two Kinesis records (two sequence numbers) ---


def report(name: str = "Shadowfax", second: int = 9, health: int = 150) -> bytes:
    return encode_reading(
        Reading(name, f"2026-11-22 14:05:{second:02d}.123", 40.75, -73.98, 30.0, health, 150)
    )


def test_aggregate_counts_a_record_sent_twice_twice_in_a_batch_and_across_batches(
    client: Client, aws: Aws
) -> None:
    twice = report()
    in_one_batch = [
        kinesis_record(twice, "1", "Shadowfax", ARRIVAL),
        kinesis_record(twice, "2", "Shadowfax", ARRIVAL),
    ]
    again = report("Pegasus")
    across = [
        [kinesis_record(again, "3", "Pegasus", ARRIVAL)],
        [kinesis_record(again, "4", "Pegasus", ARRIVAL + 1)],
    ]
    invoke_window(client, [in_one_batch, *across])
    rows = summaries_on_stream(aws)
    assert (rows["Shadowfax"]["SampleCount"], rows["Shadowfax"]["Distance"]) == (2, 60.0)
    assert (rows["Pegasus"]["SampleCount"], rows["Pegasus"]["Distance"]) == (2, 60.0)
    assert aws.dead_letters() == []


def test_aggregate_counts_a_redelivered_batch_once(client: Client, aws: Aws) -> None:
    # Lambda retries a batch with the state from before it, and only a
    # successful invocation's state goes forward: the retry replaces, not adds.
    batch = [kinesis_record(report(), "1", "Shadowfax", ARRIVAL)]
    first = client.lambda_.invoke("aggregate", window_event(batch, start=START, end=END)).payload
    retried = client.lambda_.invoke("aggregate", window_event(batch, start=START, end=END)).payload
    assert retried == first
    client.lambda_.invoke(
        "aggregate", window_event([], start=START, end=END, state=retried["state"], final=True)
    )
    assert summaries_on_stream(aws)["Shadowfax"]["SampleCount"] == 1


def test_vitals_ignores_a_repeated_or_older_report_and_alerts_once(
    client: Client, aws: Aws
) -> None:
    low = report(health=99)

    def batch(*items: tuple[bytes, int]) -> dict[str, Any]:
        return kinesis_event(
            [kinesis_record(data, str(seq), "Shadowfax", ARRIVAL) for data, seq in items]
        )

    client.lambda_.invoke("vitals", batch((low, 1), (low, 2)))
    item = aws.table_items(names.STATUS_TABLE)
    client.lambda_.invoke("vitals", batch((low, 3)))  # the same report in a later batch
    client.lambda_.invoke("vitals", batch((report(second=1, health=150), 4)))  # an older one
    assert aws.table_items(names.STATUS_TABLE) == item
    assert from_attributes(item[0])["StatusTime"] == "2026-11-22 14:05:09.123"
    assert [m["Subject"] for m in aws.emails()] == [
        "[Wild Rydes] Shadowfax: HealthPoints below 100"
    ]


def test_a_report_far_ahead_of_its_arrival_cannot_silence_a_unicorn(
    client: Client, aws: Aws
) -> None:
    # Before the rule, one report stamped 9999 made every later genuine report
    # "older", so the status froze and no alert could ever open.
    future = dumps(fields("Shadowfax", StatusTime="9999-12-31 23:59:59.999"))
    client.lambda_.invoke("vitals", kinesis_event([kinesis_record(future, "1", "S", ARRIVAL)]))
    client.lambda_.invoke(
        "vitals", kinesis_event([kinesis_record(report(health=99), "2", "S", ARRIVAL)])
    )
    (item,) = aws.table_items(names.STATUS_TABLE)
    assert from_attributes(item)["StatusTime"] == "2026-11-22 14:05:09.123"
    assert [m["Subject"] for m in aws.emails()] == [
        "[Wild Rydes] Shadowfax: HealthPoints below 100"
    ]


# --- the summary stream ---


def test_persist_writes_the_good_rows_and_keeps_each_malformed_one_with_its_reason(
    client: Client, aws: Aws, caplog: pytest.LogCaptureFixture, subtests: pytest.Subtests
) -> None:
    caplog.set_level("INFO")
    event = kinesis_event(
        [
            kinesis_record(row.data, str(n), row.id[:256], ARRIVAL, stream=names.SUMMARY_STREAM)
            for n, row in enumerate(SUMMARY_TABLE, 1)
        ]
    )
    response = client.lambda_.invoke("persist", event).payload

    assert response == {"batchItemFailures": []}
    stored = sorted(from_attributes(i)["Name"] for i in aws.table_items(names.SUMMARY_TABLE))
    assert stored == sorted(r.expected for r in SUMMARY_TABLE if r.outcome != DEAD_LETTERED)
    kept = {entry["partitionKey"]: entry for entry in aws.dead_letters()}
    rejected = [row for row in SUMMARY_TABLE if row.outcome == DEAD_LETTERED]
    assert sorted(kept) == sorted(row.id for row in rejected)
    for row in rejected:
        with subtests.test(msg=row.id):
            assert row.expected in kept[row.id]["reason"]
            assert base64.b64decode(kept[row.id]["data"]) == row.data
    assert {e["function"] for e in kept.values()} == {"persist"}
    good = len(SUMMARY_TABLE) - len(rejected)
    assert (
        f"persisted {good} of {good} summaries (0 unchanged, 0 failed, {len(rejected)} rejected)"
        in caplog.messages
    )
