"""The whole pipeline for real on the embedded endpoint, every record accounted for.

One run (module fixture): moto server, resources provisioned from infra/, the
producer with a fixed seed on a two-shard stream, five-second windows, and
one invalid record put on the stream by hand. The tests then check what a
user would look at: summaries against the records as they arrived, the
archive against the stream, the mailbox against the incidents in the data,
and the four questions against answers computed here.
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from chalicelib import names
from chalicelib.pipeline.timestamps import (
    format_status_time,
    from_epoch,
    parse_instant,
    parse_status_time,
)
from chalicelib.taxi.records import Trip, encode_trip
from chalicelib.taxi.summaries import ZoneWindow, partials
from local.endpoint import client_environment, free_port
from local.sql import Sources, run_named
from local.stack import LocalStack, StackOptions
from tests import pipeline_results as results
from tests.pipeline_results import Arrived
from tests.stages import config_with_window

WINDOW = 5
SECONDS = 30
UNICORNS = 4
INVALID = b'{"Name": "Glitch", "StatusTime": "yesterday"}\n'
INVALID_TRIP = b'{"TripId": "glitch-1", "PickupZone": 0}\n'
# The taxi data set alongside: two hours of a morning in SECONDS, in which zone
# 161's meters charge double for half an hour.
TAXI_DAY = "2026-11-23"
SPIKED_ZONE = 161
TAXI = ["--dataset", "taxi", "--day", TAXI_DAY, "--start", "07:00", "--speed", "240"]
TAXI += [
    "--trips-per-day",
    "20000",
    "--progress",
    "0",
    "--fare-spike",
    f"{SPIKED_ZONE}@08:00-08:30",
]

pytestmark = pytest.mark.slow


@dataclass
class Run:
    stream: list[Arrived]
    summaries: dict[tuple[str, str], dict[str, Any]]
    archive: list[bytes]
    emails: list[email.message.EmailMessage]
    dead_letters: list[dict[str, Any]]
    answers: dict[str, list[tuple[Any, ...]]]
    stats: dict[str, dict[str, int]]
    errors: list[str]
    drained: bool
    alarms: list[dict[str, Any]]
    dashboards: list[str]
    trips: list[Trip]
    invalid_trips: int
    zone_windows: dict[tuple[int, str], ZoneWindow]
    fare_emails: list[email.message.EmailMessage]
    trip_archive: list[bytes]
    roles: int
    denied: list[dict[str, str]]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    tmp = tmp_path_factory.mktemp("e2e")
    options = StackOptions(
        stage="e2e",
        port=free_port(),
        work_dir=tmp,
        config_path=config_with_window(tmp, "e2e", WINDOW),
        parameters={"ShardCount": "2"},
    )
    stack = LocalStack(options)
    stack.start()
    try:
        environment = {**os.environ, **client_environment(stack.url)}
        taxi = subprocess.Popen(
            [sys.executable, "-m", "producer", *TAXI, "--duration", str(SECONDS), "--seed", "7"],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        producer = subprocess.run(
            [
                sys.executable,
                "-m",
                "producer",
                "--unicorns",
                str(UNICORNS),
                "--unwell",
                "2",
                "--decline",
                "10",
                "--duration",
                str(SECONDS),
                "--seed",
                "7",
                "--progress",
                "0",
            ],
            env=environment,
            capture_output=True,
            text=True,
            timeout=SECONDS + 60,
            check=False,
        )
        assert producer.returncode == 0, producer.stderr
        _, taxi_errors = taxi.communicate(timeout=60)
        assert taxi.returncode == 0, taxi_errors
        session = stack.session()
        session.client("kinesis").put_record(
            StreamName=names.RAW_STREAM, Data=INVALID, PartitionKey="Glitch"
        )
        session.client("kinesis").put_record(
            StreamName=names.TRIP_STREAM, Data=INVALID_TRIP, PartitionKey="0"
        )
        drained = stack.drain(WINDOW + 30)
        s3 = session.client("s3")
        bucket = stack.provisioned.outputs["ArchiveBucketName"] if stack.provisioned else ""
        archive = results.archive_objects(session, bucket)
        dead = [
            json.loads(line)
            for body in results.archive_objects(session, bucket, names.DEAD_LETTER_PREFIX)
            for line in body.splitlines()
        ]
        emails = results.emails(stack.mail / options.alert_email)
        stream = results.stream_records(session)
        trips, invalid_trips = results.trips_on_stream(session)
        cloudwatch = session.client("cloudwatch")
        alarms = cloudwatch.describe_alarms()["MetricAlarms"]
        dashboards = [d["DashboardName"] for d in cloudwatch.list_dashboards()["DashboardEntries"]]
        sources = Sources(tables=stack.archive_tables(), cache_dir=tmp / "archive", s3=s3)
        unwell = sorted({str(m["X-SNS-Attribute-unicorn"]) for m in emails})
        after = format_status_time(from_epoch(min(a.arrival for a in stream) + SECONDS / 2))[:19]
        answers = {
            "trip_positions": run_named("trip_positions", [unwell[0]], sources=sources).rows,
            "points_after": run_named("points_after", [after], sources=sources).rows,
            "distance_per_unicorn": run_named("distance_per_unicorn", sources=sources).rows,
            "low_vitals": run_named("low_vitals", sources=sources).rows,
            "peak_hours": run_named("peak_hours", [TAXI_DAY], sources=sources).rows,
            "fare_trends": run_named("fare_trends", [SPIKED_ZONE], sources=sources).rows,
            "_params": [(unwell[0], after)],
        }
        yield Run(
            stream,
            results.summaries(session),
            archive,
            emails,
            dead,
            answers,
            stack.stats(),
            stack.errors(),
            drained,
            alarms,
            dashboards,
            trips,
            invalid_trips,
            results.zone_windows(session),
            results.emails(stack.mail / options.fare_email),
            results.archive_objects(session, bucket, names.TRIP_ARCHIVE_PREFIX),
            stack.role_sessions,
            stack.denials(),
        )
    finally:
        stack.stop()


def valid(run: Run) -> list[Arrived]:
    return [a for a in run.stream if a.reading is not None]


def test_the_run_drained_cleanly_on_two_shards(run: Run) -> None:
    assert run.drained
    assert run.errors == []
    # Each function, its mapping and destination, and the Firehose emulation, acted as its
    # own role with IAM enforced, and stayed within its policy.
    assert run.roles == 8 and run.denied == []
    assert len(valid(run)) == UNICORNS * SECONDS
    assert len({a.shard for a in run.stream}) == 2
    assert all(stats.get("errors", 0) == 0 for stats in run.stats.values())


def test_summaries_match_the_records_grouped_by_unicorn_and_arrival_window(run: Run) -> None:
    expected = results.expected_windows(run.stream, WINDOW)
    assert sorted(run.summaries) == sorted(expected)
    for key, readings in expected.items():
        row = run.summaries[key]
        assert row["SampleCount"] == len(readings), key
        assert row["Distance"] == pytest.approx(sum(r.distance for r in readings), rel=1e-9), key
        assert row["MinHealthPoints"] == min(r.health for r in readings), key
        assert row["MaxMagicPoints"] == max(r.magic for r in readings), key


def test_the_invalid_record_is_kept_aside_not_counted(run: Run) -> None:
    (kept,) = [d for d in run.dead_letters if d["function"] == "aggregate"]
    assert base64.b64decode(kept["data"]) == INVALID
    assert kept["reason"] == "missing field Latitude"
    assert sum(row["SampleCount"] for row in run.summaries.values()) == len(valid(run))


def test_the_archive_holds_every_record_exactly_once(run: Run) -> None:
    archived = sorted(line + b"\n" for body in run.archive for line in body.splitlines() if line)
    assert archived == sorted(a.data for a in run.stream)


def test_the_mailbox_holds_one_email_per_incident_change_and_one_alert_per_unwell_unicorn(
    run: Run,
) -> None:
    incidents = results.incident_changes(run.stream)
    received = results.email_kinds(run.emails)
    # Exactly the incidents in the data (a recovery near the end of the run may
    # or may not be in it), and one alert per unwell unicorn.
    assert received == incidents
    assert len(received) == 2
    assert all(kinds.count("alert") == 1 for kinds in received.values())
    subjects = [str(m["Subject"]) for m in run.emails]
    assert all(s.startswith("[Wild Rydes] ") for s in subjects)


def test_the_four_questions_return_the_expected_rows(run: Run) -> None:
    readings = [a.reading for a in valid(run) if a.reading is not None]
    ((unicorn, after),) = run.answers["_params"]

    trip = [r for r in sorted(readings, key=lambda r: r.status_time) if r.name == unicorn]
    assert [
        (row[0].strftime("%Y-%m-%d %H:%M:%S.%f")[:23]) for row in run.answers["trip_positions"]
    ] == [r.status_time for r in trip]
    cutoff = parse_instant(after)
    later = [r for r in readings if parse_status_time(r.status_time) > cutoff]
    assert len(run.answers["points_after"]) == len(later)
    totals = {
        n: sum(r.distance for r in readings if r.name == n) for n in {r.name for r in readings}
    }
    answered = {row[0]: row[1] for row in run.answers["distance_per_unicorn"]}
    # The archive is raw: the record the pipeline rejected is there too, its bad
    # fields NULL, as an analyst querying it would see.
    assert answered.pop("Glitch") is None
    assert answered == pytest.approx(totals, rel=1e-5)
    low = [r for r in readings if r.health < 100 or r.magic < 100]
    assert len(run.answers["low_vitals"]) == len(low) > 0
    assert {row[0] for row in run.answers["low_vitals"]} == {r.name for r in low}


def test_the_alarms_and_the_dashboard_exist_on_the_endpoint_notifying_the_operations_topic(
    run: Run,
) -> None:
    # moto keeps alarms and dashboards but evaluates nothing: what is checked
    # here is that the template's alarms are accepted by CloudWatch's API.
    assert len(run.alarms) == 21  # 5 iterator ages, errors and throttles of 7 functions, 2
    topics = {a for alarm in run.alarms for a in alarm["AlarmActions"] + alarm["OKActions"]}
    assert topics == {"arn:aws:sns:us-east-1:123456789012:wildrydes-e2e-operations"}
    ages = sorted(a["AlarmName"] for a in run.alarms if a.get("MetricName") == "IteratorAge")
    assert ages == [
        f"wildrydes-e2e-{f}-iterator-age"
        for f in ("aggregate", "aggregate_trips", "persist", "persist_insights", "vitals")
    ]
    (dead,) = [a for a in run.alarms if a["AlarmName"].endswith("dead-lettered-records")]
    assert [m["Id"] for m in dead["Metrics"]] == ["m0", "m1", "m2", "m3", "deadlettered"]
    assert run.dashboards == ["wildrydes-e2e"]


def test_every_trip_is_counted_once_in_the_taxi_insights(run: Run) -> None:
    assert len(run.trips) > 100
    assert run.invalid_trips == 1
    expected = partials(run.trips, "all")
    assert set(run.zone_windows) == set(expected)
    for key, window in expected.items():
        assert run.zone_windows[key].insight() == window.insight(), key
    assert sum(w.trips for w in run.zone_windows.values()) == len(run.trips)


def test_the_invalid_trip_is_dead_lettered_once_with_its_reason(run: Run) -> None:
    (kept,) = [d for d in run.dead_letters if d["function"] == "aggregate_trips"]
    assert base64.b64decode(kept["data"]) == INVALID_TRIP
    assert kept["reason"] == "missing field PickupTime"


def test_the_fare_spike_is_one_alert_and_one_recovery_email(run: Run) -> None:
    spiked = [m for m in run.fare_emails if m["X-SNS-Attribute-zone"] == "161"]
    assert [m["X-SNS-Attribute-kind"] for m in spiked] == ["alert", "recovery"]
    assert str(spiked[0]["Subject"]).startswith(
        "[Wild Rydes taxi] Midtown Center (zone 161): fare per mile"
    )
    assert "from 2026-11-23 08:00 to 08:15 UTC" in spiked[0].get_content()


def test_the_taxi_archive_holds_every_trip_exactly_once(run: Run) -> None:
    archived = sorted(line for body in run.trip_archive for line in body.splitlines(keepends=True))
    # The archive is raw: the trip the pipeline rejected is there too.
    assert archived == sorted([*(encode_trip(t) for t in run.trips), INVALID_TRIP])
    assert run.stats["firehose taxi-trips"]["records"] == len(run.trips) + run.invalid_trips


def pickup_hours(trips: list[Trip]) -> dict[datetime, list[Trip]]:
    hours: dict[datetime, list[Trip]] = defaultdict(list)
    for trip in trips:
        hours[datetime.fromisoformat(trip.pickup_time[:13] + ":00")].append(trip)
    return dict(sorted(hours.items()))


def test_the_taxi_questions_return_the_expected_rows(run: Run) -> None:
    # peak_hours: the day's trips and fares per hour of pickup, busiest first.
    day = pickup_hours([t for t in run.trips if t.pickup_time.startswith(TAXI_DAY)])
    peaks = sorted(
        ((h.hour, len(ts), sum(t.fare for t in ts)) for h, ts in day.items()),
        key=lambda row: (-row[1], row[0]),
    )
    answered = run.answers["peak_hours"]
    assert [row[:2] for row in answered] == [row[:2] for row in peaks]
    assert [row[2] for row in answered] == pytest.approx([row[2] for row in peaks], abs=0.006)
    # fare_trends: the spiked zone hour by hour; fare per mile over trips with a distance.
    zone = pickup_hours([t for t in run.trips if t.pickup_zone == SPIKED_ZONE])
    trends = run.answers["fare_trends"]
    assert [row[:2] for row in trends] == [(h, len(ts)) for h, ts in zone.items()]
    for row, trips in zip(trends, zone.values(), strict=True):
        moving = [t for t in trips if t.distance > 0]
        per_mile = sum(t.fare for t in moving) / sum(t.distance for t in moving)
        average = sum(t.fare for t in trips) / len(trips)
        assert row[2:] == pytest.approx((average, per_mile), abs=0.006), row
    # Its meters charged double from 08:00 to 08:30: the 08:00 hour's fare per mile shows it.
    per_mile_at = {row[0].hour: row[3] for row in trends}
    assert per_mile_at[8] > 1.2 * per_mile_at[7]
