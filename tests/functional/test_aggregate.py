"""`aggregate` through Chalice: windows of raw records in, one summary per unicorn out."""

from __future__ import annotations

import base64
import json
import logging
import re
from datetime import UTC, datetime

import pytest
from chalice.test import Client

from chalicelib import bootstrap, names
from chalicelib.unicorns.records import encode_reading
from tests.faults import refuse_kinesis_entries
from tests.functional.conftest import Aws
from tests.lambda_events import kinesis_event, kinesis_record, window_event
from tests.readings import reading

START, END = "2026-11-22T14:05:00Z", "2026-11-22T14:06:00Z"
ARRIVAL = datetime(2026, 11, 22, 14, 5, tzinfo=UTC).timestamp()


def raw(seq: int, data: bytes, key: str = "Shadowfax") -> dict:
    return kinesis_record(data, str(seq), key, ARRIVAL + seq / 10)


def valid(seq: int, name: str = "Shadowfax", **fields: object) -> dict:
    second = f"{seq % 60:02d}"
    return raw(
        seq, encode_reading(reading(name, f"2026-11-22 14:05:{second}.000", **fields)), name
    )


def run_window(client: Client, batches: list[list[dict]]) -> list[dict]:
    """Invoke the window batch by batch, then its final invocation; returns every response."""
    state: dict = {}
    responses = []
    for records in batches:
        response = client.lambda_.invoke(
            "aggregate", window_event(records, start=START, end=END, state=state)
        ).payload
        responses.append(response)
        state = response["state"]
    final = client.lambda_.invoke(
        "aggregate", window_event([], start=START, end=END, state=state, final=True)
    ).payload
    responses.append(final)
    return responses


def summaries_on_stream(aws: Aws) -> list[dict]:
    return [
        {**json.loads(r["Data"]), "_key": r["PartitionKey"]}
        for r in aws.stream_records(names.SUMMARY_STREAM)
    ]


def test_a_window_over_several_batches_ends_in_one_summary_per_unicorn(
    client: Client, aws: Aws
) -> None:
    responses = run_window(
        client,
        [
            [valid(1, distance=30.0, health=120, magic=140), valid(2, "Rocinante", distance=29.0)],
            [valid(3, distance=31.0, health=118, magic=142)],
            [valid(4, distance=29.5, health=121, magic=139)],
        ],
    )

    assert all("state" in r for r in responses)
    assert responses[-1] == {"state": {}}
    assert summaries_on_stream(aws) == [
        {
            "Name": "Rocinante",
            "StatusTime": "2026-11-22 14:05:00.000",
            "Distance": 29.0,
            "MinMagicPoints": 150,
            "MaxMagicPoints": 150,
            "MinHealthPoints": 150,
            "MaxHealthPoints": 150,
            "SampleCount": 1,
            "WindowEnd": "2026-11-22 14:06:00.000",
            "FirstStatusTime": "2026-11-22 14:05:02.000",
            "LastStatusTime": "2026-11-22 14:05:02.000",
            "Latitude": 40.749167,
            "Longitude": -73.985184,
            "SummaryId": "shardId-000000000000:2",
            "_key": "Rocinante",
        },
        {
            "Name": "Shadowfax",
            "StatusTime": "2026-11-22 14:05:00.000",
            "Distance": 90.5,
            "MinMagicPoints": 139,
            "MaxMagicPoints": 142,
            "MinHealthPoints": 118,
            "MaxHealthPoints": 121,
            "SampleCount": 3,
            "WindowEnd": "2026-11-22 14:06:00.000",
            "FirstStatusTime": "2026-11-22 14:05:01.000",
            "LastStatusTime": "2026-11-22 14:05:04.000",
            "Latitude": 40.749167,
            "Longitude": -73.985184,
            "SummaryId": "shardId-000000000000:1",
            "_key": "Shadowfax",
        },
    ]


def test_nothing_is_emitted_before_the_final_invocation(client: Client, aws: Aws) -> None:
    client.lambda_.invoke("aggregate", window_event([valid(1)], start=START, end=END))
    assert summaries_on_stream(aws) == []


INVALID = [
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (b"{not json", "not JSON"),
    (json.dumps({"Name": "Shadowfax"}).encode(), "missing field StatusTime"),
    (
        encode_reading(reading(health=150)).replace(
            b'"HealthPoints":150', b'"HealthPoints":"150"'
        ),
        "HealthPoints must be an integer",
    ),
    (
        encode_reading(reading(latitude=40.0)).replace(b"40.0", b"400.0"),
        "Latitude must be a number",
    ),
]


def test_invalid_records_are_kept_byte_for_byte_and_never_fail_the_window(
    client: Client, aws: Aws, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bad = [raw(10 + n, data, key=f"bad-{n}") for n, (data, _) in enumerate(INVALID)]
    responses = run_window(client, [[valid(1), *bad[:2]], [*bad[2:], valid(20)]])

    assert [r["state"].get("invalid") for r in responses[:2]] == [2, 5]
    (summary,) = summaries_on_stream(aws)
    assert summary["SampleCount"] == 2
    kept = sorted(aws.dead_letters(), key=lambda d: int(d["sequenceNumber"]))
    for entry, (data, reason) in zip(kept, INVALID, strict=True):
        assert reason in entry["reason"]
        assert base64.b64decode(entry["data"]) == data
        assert entry["function"] == "aggregate"
        assert entry["key"].startswith("dead-letter/aggregate/2026/11/22/14/shardId-000000000000-")
    rejected_logs = [r for r in caplog.records if "rejected record" in r.getMessage()]
    assert len(rejected_logs) == len(INVALID)
    # What an operator reading the function's log sees when the window closes.
    assert [r.getMessage() for r in caplog.records if " closed: " in r.getMessage()] == [
        "window 2026-11-22 14:05:00.000 of shardId-000000000000 closed: "
        "1 summaries of 2 records, 5 rejected"
    ]


def test_a_retried_batch_with_invalid_records_keeps_them_once(client: Client, aws: Aws) -> None:
    event = window_event([valid(1), raw(2, b"oops")], start=START, end=END)
    client.lambda_.invoke("aggregate", event)
    client.lambda_.invoke("aggregate", event)
    assert len(aws.dead_letters()) == 1


def test_summaries_refused_by_kinesis_are_sent_again(client: Client, aws: Aws) -> None:
    kinesis = bootstrap.services().clients.get("kinesis")
    refused_once: set[str] = set()

    def refuse_rocinante_once(entry: dict) -> bool:
        if entry["PartitionKey"] == "Rocinante" and "Rocinante" not in refused_once:
            refused_once.add("Rocinante")
            return True
        return False

    log = refuse_kinesis_entries(kinesis, refuse_rocinante_once)
    run_window(client, [[valid(1), valid(2, "Rocinante"), valid(3, "Pegasus")]])

    assert log == [1, 0]
    assert sorted(s["Name"] for s in summaries_on_stream(aws)) == [
        "Pegasus",
        "Rocinante",
        "Shadowfax",
    ]


def test_a_final_invocation_that_cannot_emit_fails_so_lambda_retries_it(
    client: Client, aws: Aws
) -> None:
    kinesis = bootstrap.services().clients.get("kinesis")
    refuse_kinesis_entries(kinesis, lambda entry: True)
    state = client.lambda_.invoke(
        "aggregate", window_event([valid(1)], start=START, end=END)
    ).payload
    with pytest.raises(Exception, match="not accepted by stream 'wildrydes-summary'"):
        client.lambda_.invoke(
            "aggregate", window_event([], start=START, end=END, state=state["state"], final=True)
        )


def test_a_mapping_without_a_tumbling_window_is_reported_not_ignored(client: Client) -> None:
    message = (
        "aggregate needs a tumbling window on its event source mapping "
        "(TumblingWindowInSeconds); see infra/"
    )
    with pytest.raises(Exception, match=f"^{re.escape(message)}$"):
        client.lambda_.invoke("aggregate", kinesis_event([valid(1)]))
