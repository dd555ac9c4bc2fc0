"""`persist` through Chalice: summaries into UnicornSensorData, idempotent and merging."""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import replace

import pytest
from chalice.test import Client

from chalicelib import bootstrap, names
from chalicelib.adapters.dynamo import from_attributes
from chalicelib.unicorns.summaries import Summary, encode_row
from tests.faults import leave_items_unprocessed
from tests.functional.conftest import Aws
from tests.lambda_events import kinesis_event, kinesis_record
from tests.readings import SUMMARY

BASE = SUMMARY
SECOND_PART = replace(
    BASE,
    distance=1200.5,
    min_health=101,
    max_health=125,
    samples=40,
    first_status_time="2026-11-22 14:05:20.100",
    last_status_time="2026-11-22 14:05:59.100",
    latitude=40.76,
    summary_ids=frozenset({"shardId-000000000001:7"}),
)


def summary_event(*rows: Summary | bytes, first_seq: int = 1) -> dict:
    records = []
    for n, row in enumerate(rows):
        data = row if isinstance(row, bytes) else encode_row(row)
        key = "x" if isinstance(row, bytes) else row.name
        records.append(
            kinesis_record(data, str(first_seq + n), key, 1.0, stream=names.SUMMARY_STREAM)
        )
    return kinesis_event(records)


def stored(aws: Aws) -> dict[tuple[str, str], dict]:
    """The table's items as plain rows, by key."""
    rows = {}
    for item in aws.table_items(names.SUMMARY_TABLE):
        row = from_attributes(item)
        rows[(row["Name"], row["StatusTime"])] = row | {"SummaryIds": sorted(row["SummaryIds"])}
    return rows


def test_a_summary_becomes_an_item_keyed_by_name_and_minute(client: Client, aws: Aws) -> None:
    response = client.lambda_.invoke("persist", summary_event(BASE)).payload
    assert response == {"batchItemFailures": []}
    (item,) = aws.table_items(names.SUMMARY_TABLE)
    assert item["Name"] == {"S": "Shadowfax"}
    assert item["StatusTime"] == {"S": "2026-11-22 14:05:00.000"}
    assert item["Distance"] == {"N": "600.25"}
    assert item["MinHealthPoints"] == {"N": "98"}
    assert item["SampleCount"] == {"N": "20"}
    assert item["SummaryIds"] == {"SS": ["shardId-000000000000:100"]}


def test_delivering_the_same_summary_again_leaves_the_item_unchanged(
    client: Client, aws: Aws
) -> None:
    client.lambda_.invoke("persist", summary_event(BASE, SECOND_PART))
    before = aws.table_items(names.SUMMARY_TABLE)
    client.lambda_.invoke("persist", summary_event(BASE))
    client.lambda_.invoke("persist", summary_event(SECOND_PART, BASE, SECOND_PART))
    assert aws.table_items(names.SUMMARY_TABLE) == before


def test_two_partial_summaries_of_one_minute_merge_in_either_order(
    client: Client, aws: Aws
) -> None:
    client.lambda_.invoke("persist", summary_event(BASE))
    client.lambda_.invoke("persist", summary_event(SECOND_PART))
    merged_across_batches = stored(aws)

    (row,) = merged_across_batches.values()
    assert row["Distance"] == 1800.75
    assert row["SampleCount"] == 60
    assert (row["MinHealthPoints"], row["MaxHealthPoints"]) == (98, 125)
    assert row["LastStatusTime"] == "2026-11-22 14:05:59.100" and row["Latitude"] == 40.76
    assert row["SummaryIds"] == ["shardId-000000000000:100", "shardId-000000000001:7"]

    aws.client("dynamodb").delete_item(
        TableName=names.SUMMARY_TABLE,
        Key={"Name": {"S": "Shadowfax"}, "StatusTime": {"S": "2026-11-22 14:05:00.000"}},
    )
    client.lambda_.invoke("persist", summary_event(SECOND_PART, BASE))
    assert stored(aws) == merged_across_batches


def test_a_malformed_row_is_kept_aside_and_the_rest_is_written(client: Client, aws: Aws) -> None:
    other = replace(BASE, name="Rocinante", summary_ids=frozenset({"shardId-000000000000:5"}))
    response = client.lambda_.invoke(
        "persist", summary_event(BASE, b'{"Name": "?"}', other)
    ).payload
    assert response == {"batchItemFailures": []}
    assert sorted(name for name, _ in stored(aws)) == ["Rocinante", "Shadowfax"]
    (kept,) = aws.dead_letters()
    assert kept["function"] == "persist"
    assert json.loads(base64.b64decode(kept["data"])) == {"Name": "?"}


def test_only_the_rows_that_could_not_be_written_are_reported_for_retry(
    client: Client, aws: Aws, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    dynamodb = bootstrap.services().clients.get("dynamodb")
    leave_items_unprocessed(
        dynamodb, names.SUMMARY_TABLE, lambda item: item["Name"]["S"] == "Rocinante"
    )
    rows = [
        BASE,
        replace(BASE, name="Rocinante", summary_ids=frozenset({"s:1"})),
        replace(BASE, name="Pegasus", summary_ids=frozenset({"s:2"})),
    ]
    response = client.lambda_.invoke("persist", summary_event(*rows, first_seq=40)).payload

    assert response == {"batchItemFailures": [{"itemIdentifier": "41"}]}
    assert sorted(name for name, _ in stored(aws)) == ["Pegasus", "Shadowfax"]
    assert [r.getMessage() for r in caplog.records if r.getMessage().startswith("persisted")] == [
        "persisted 2 of 3 summaries (0 unchanged, 1 failed, 0 rejected)"
    ]
    # Six attempts, so five retries, each logged; none promised after the last.
    retries = [r.getMessage() for r in caplog.records if r.getMessage().endswith("retrying")]
    assert retries == [f"1 items unprocessed by {names.SUMMARY_TABLE}; retrying"] * 5
