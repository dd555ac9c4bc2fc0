"""The functions' EMF lines on stdout: what Lambda turns into CloudWatch metrics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import bootstrap, names
from chalicelib.bootstrap import Services
from chalicelib.settings import load_settings
from chalicelib.unicorns.records import encode_reading
from chalicelib.unicorns.summaries import encode_row
from infra import monitoring
from infra.stages import load_stage
from tests.faults import leave_items_unprocessed
from tests.functional.conftest import Aws
from tests.lambda_events import kinesis_event, kinesis_record, window_event
from tests.readings import SUMMARY, reading
from tests.taxi_events import day_trips, trip_records

ARRIVAL = datetime(2026, 11, 22, 14, 10, tzinfo=UTC).timestamp()
NOW = ARRIVAL + 10  # the functions' clock: 10 s after the first record arrived
START, END = "2026-11-22T14:05:00Z", "2026-11-22T14:06:00Z"


@pytest.fixture
def metrics_on(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("METRICS", "on")
    previous = bootstrap.services()
    bootstrap.install(
        Services(load_settings(), previous.clients, sleep=previous.sleep, clock=lambda: NOW)
    )
    yield


def emf_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The EMF documents written since last asked, metrics only (no `_aws` metadata)."""
    found = []
    for line in capsys.readouterr().out.splitlines():
        document = json.loads(line) if line.startswith("{") else {}
        if "_aws" in document:
            (directive,) = document["_aws"]["CloudWatchMetrics"]
            assert directive["Namespace"] == "WildRydes"
            assert directive["Dimensions"] == [["Function"]]
            names = [m["Name"] for m in directive["Metrics"]]
            assert sorted(names) == sorted(set(document) - {"_aws", "Function"})
            found.append({k: v for k, v in document.items() if k != "_aws"})
    return found


def unicorn_reports(*healths: int, second: int = 0, garbage: int = 0) -> list[dict[str, Any]]:
    """Shadowfax's reports, then `garbage` records that are not readings, arriving 1 s apart."""
    records = []
    for n, health in enumerate(healths):
        data = encode_reading(
            reading("Shadowfax", f"2026-11-22 14:05:{second + n:02d}.000", health=health)
        )
        records.append(kinesis_record(data, str(100 + second + n), "Shadowfax", ARRIVAL + n))
    for n in range(garbage):
        arrival = ARRIVAL + len(healths) + n
        records.append(kinesis_record(b"not a reading", str(200 + second + n), "x", arrival))
    return records


def test_aggregate_counts_each_batch_then_the_closed_window(
    client: Client, metrics_on: None, capsys: pytest.CaptureFixture[str]
) -> None:
    rocinante = encode_reading(reading("Rocinante", "2026-11-22 14:05:00.500"))
    batch = [kinesis_record(rocinante, "99", "Rocinante", ARRIVAL)]
    batch += unicorn_reports(150, 150, 150, garbage=2)  # the newest arrived at ARRIVAL + 4

    state = client.lambda_.invoke("aggregate", window_event(batch, start=START, end=END))
    client.lambda_.invoke(
        "aggregate",
        window_event([], start=START, end=END, state=state.payload["state"], final=True),
    )

    assert emf_lines(capsys) == [
        {"Function": "aggregate", "RecordsIn": 6, "InvalidRecords": 2, "IteratorLagMs": 6000},
        {
            "Function": "aggregate",
            "RecordsIn": 0,
            "InvalidRecords": 0,
            "SummariesEmitted": 2,
            "WindowsClosed": 1,
        },
    ]


def test_vitals_counts_writes_and_each_alert_and_recovery_it_sends(
    client: Client, aws: Aws, metrics_on: None, capsys: pytest.CaptureFixture[str]
) -> None:
    client.lambda_.invoke("vitals", kinesis_event(unicorn_reports(101, 99, garbage=1)))
    client.lambda_.invoke("vitals", kinesis_event(unicorn_reports(150, second=10)))

    first, second = emf_lines(capsys)
    assert first == {
        "Function": "vitals",
        "RecordsIn": 3,
        "InvalidRecords": 1,
        "IteratorLagMs": 8000,  # the newest, the garbage record, arrived at ARRIVAL + 2
        "StatusReads": 1,  # the unicorn, not yet known
        "StatusWrites": 1,
        "AlertsSent": 1,
        "RecoveriesSent": 0,
    }
    assert (second["AlertsSent"], second["RecoveriesSent"], second["StatusWrites"]) == (0, 1, 1)
    assert second["StatusReads"] == 0  # remembered from the first batch
    assert len(aws.emails()) == 2  # the counts are of messages that really went out


def test_persist_counts_written_unchanged_and_rejected_summaries(
    client: Client, metrics_on: None, capsys: pytest.CaptureFixture[str]
) -> None:
    def summaries(*rows: bytes, first: int) -> dict[str, Any]:
        return kinesis_event(
            [
                kinesis_record(row, str(first + n), "k", ARRIVAL, stream=names.SUMMARY_STREAM)
                for n, row in enumerate(rows)
            ]
        )

    client.lambda_.invoke("persist", summaries(encode_row(SUMMARY), b"{not json", first=1))
    client.lambda_.invoke("persist", summaries(encode_row(SUMMARY), first=3))  # a retry

    assert emf_lines(capsys) == [
        {
            "Function": "persist",
            "SummariesIn": 2,
            "SummariesWritten": 1,
            "SummariesUnchanged": 0,
            "SummariesFailed": 0,
            "SummariesRejected": 1,
            "IteratorLagMs": 10000,
        },
        {
            "Function": "persist",
            "SummariesIn": 1,
            "SummariesWritten": 0,
            "SummariesUnchanged": 1,
            "SummariesFailed": 0,
            "SummariesRejected": 0,
            "IteratorLagMs": 10000,
        },
    ]


def test_persist_counts_a_summary_it_could_not_write_as_failed_not_written(
    client: Client, metrics_on: None, capsys: pytest.CaptureFixture[str]
) -> None:
    dynamodb = bootstrap.services().clients.get("dynamodb")
    leave_items_unprocessed(
        dynamodb, names.SUMMARY_TABLE, lambda item: item["Name"]["S"] == "Rocinante"
    )
    rows = [SUMMARY, replace(SUMMARY, name="Rocinante"), replace(SUMMARY, name="Pegasus")]
    records = [
        kinesis_record(encode_row(row), str(n + 1), row.name, ARRIVAL, stream=names.SUMMARY_STREAM)
        for n, row in enumerate(rows)
    ]

    client.lambda_.invoke("persist", kinesis_event(records))

    (line,) = emf_lines(capsys)
    assert (line["SummariesWritten"], line["SummariesFailed"]) == (2, 1)


def test_the_report_counts_its_unicorns_incidents_and_size(
    client: Client, metrics_on: None, capsys: pytest.CaptureFixture[str]
) -> None:
    client.lambda_.invoke("vitals", kinesis_event(unicorn_reports(99)))
    capsys.readouterr()
    event = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )
    event["time"] = "2026-11-22T14:30:00Z"

    result = client.lambda_.invoke("report", event).payload

    assert emf_lines(capsys) == [
        {
            "Function": "report",
            "ReportBytes": result["bytes"],
            "Unicorns": result["unicorns"],
            "Incidents": result["incidents"],
        }
    ]
    assert result["incidents"] == 1  # Shadowfax's open one


def test_with_metrics_off_nothing_is_written(
    client: Client, aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    client.lambda_.invoke("vitals", kinesis_event(unicorn_reports(150)))
    assert emf_lines(capsys) == []


def test_every_metric_the_alarms_and_the_dashboard_read_is_one_the_functions_emit(
    client: Client, metrics_on: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # Each function once, with something to reject, as in the tests above.
    state = client.lambda_.invoke(
        "aggregate", window_event(unicorn_reports(150, garbage=1), start=START, end=END)
    )
    client.lambda_.invoke(
        "aggregate",
        window_event([], start=START, end=END, state=state.payload["state"], final=True),
    )
    client.lambda_.invoke("vitals", kinesis_event(unicorn_reports(99, garbage=1)))
    bad_summary = kinesis_record(b"{not json", "1", "k", ARRIVAL, stream=names.SUMMARY_STREAM)
    client.lambda_.invoke("persist", kinesis_event([bad_summary]))
    trips = trip_records(day_trips(8 * 3600, 8 * 3600 + 60), arrival=ARRIVAL, garbage=1)
    state = client.lambda_.invoke(
        "aggregate_trips", window_event(trips, start=START, end=END, stream=names.TRIP_STREAM)
    )
    client.lambda_.invoke(
        "aggregate_trips",
        window_event(
            [],
            start=START,
            end=END,
            state=state.payload["state"],
            final=True,
            stream=names.TRIP_STREAM,
        ),
    )
    bad_partial = kinesis_record(b"[]", "1", "161", ARRIVAL, stream=names.INSIGHT_STREAM)
    client.lambda_.invoke("persist_insights", kinesis_event([bad_partial]))
    emitted = {
        (document["Function"], metric)
        for document in emf_lines(capsys)
        for metric in document
        if metric != "Function"
    }
    # Each data set's metrics name its own rows: the taxi functions count no "summaries".
    taxi = {metric for function, metric in emitted if function.endswith(("_trips", "_insights"))}
    assert {"PartialsEmitted", "ZoneWindowsIn", "ZoneWindowsRejected"} <= taxi
    assert not any(metric.startswith("Summaries") for metric in taxi)

    stage = load_stage("dev")
    prefix = f"{stage.app_name}-{stage.name}-"
    read = set()
    for alarm in monitoring.alarms(stage):
        for query in alarm.metrics:
            if "MetricStat" in query:
                metric = query["MetricStat"]["Metric"]
                read.add((metric["Dimensions"][0]["Value"], metric["MetricName"]))
    for widget in monitoring.dashboard_body(stage)["widgets"]:
        for line in widget["properties"].get("metrics", []):
            if line[2] == "Function":
                read.add((line[3], line[1]))
    assert read, "the alarms and dashboard read none of the functions' metrics"
    assert {(function.removeprefix(prefix), metric) for function, metric in read} <= emitted
