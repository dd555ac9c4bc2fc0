"""The fare watch in `persist_insights` under moto: a spike is one alert and one recovery email."""

from __future__ import annotations

import json
from typing import Any

from chalice.test import Client

from chalicelib import names
from chalicelib.adapters.dynamo import from_attributes
from chalicelib.taxi.records import Trip
from producer.taxi import FareSpike, TaxiDay
from tests.functional.conftest import Aws
from tests.lambda_events import kinesis_event, window_event
from tests.taxi_events import DAY, as_delivered, trip_records

ARRIVAL = 1_795_000_000.0
SPIKE = FareSpike(zone=161, start=11.0, end=12.0)


class Replay:
    """Trips through aggregate_trips, a quarter of an hour an arrival window, then persist."""

    def __init__(self, client: Client, aws: Aws) -> None:
        self.client = client
        self.aws = aws
        self.windows = 0
        self.persisted = 0
        self.batches: list[dict[str, Any]] = []

    def quarter(self, trips: list[Trip]) -> None:
        start = f"2026-11-23T12:{self.windows:02d}:00Z"
        end = f"2026-11-23T12:{self.windows + 1:02d}:00Z"
        first = 1 + 100_000 * self.windows
        records = trip_records(trips, first=first, arrival=ARRIVAL + 60 * self.windows)
        self.windows += 1
        trips_stream = {"start": start, "end": end, "stream": names.TRIP_STREAM}
        state = self.invoke("aggregate_trips", window_event(records, **trips_stream))
        self.invoke(
            "aggregate_trips", window_event([], state=state["state"], final=True, **trips_stream)
        )
        rows = self.aws.stream_records(names.INSIGHT_STREAM)[self.persisted :]
        self.persisted += len(rows)
        batch = kinesis_event(as_delivered(rows, ARRIVAL))
        self.batches.append(batch)
        assert self.invoke("persist_insights", batch) == {"batchItemFailures": []}

    def invoke(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        payload: dict[str, Any] = self.client.lambda_.invoke(function, event).payload
        return payload


def replay(run: Replay, spikes: tuple[FareSpike, ...], hours: tuple[float, float]) -> None:
    """The trips that ended between the two hours of the day, a quarter of an hour at a time."""
    day = TaxiDay(DAY, 20_000, seed=7, spikes=spikes)
    first, last = (round(h * 4) for h in hours)
    for quarter in range(first, last):
        run.quarter(day.trips(quarter * 900, (quarter + 1) * 900))


def open_alerts(client: Client) -> dict[str, Any]:
    response = client.http.get("/taxi/alerts")
    assert response.status_code == 200
    answer: dict[str, Any] = json.loads(response.body)
    return answer


def test_a_spike_in_one_zone_is_one_alert_then_one_recovery(client: Client, aws: Aws) -> None:
    run = Replay(client, aws)
    replay(run, (SPIKE,), (10.0, 11.5))
    (alert,) = open_alerts(client)["alerts"]
    assert (alert["zone"], alert["name"]) == (161, "Midtown Center")
    assert alert["incident"]["startedAt"] == "2026-11-23 11:00:00.000"
    assert alert["deviation"] > 0.5
    replay(run, (SPIKE,), (11.5, 13.0))
    assert open_alerts(client) == {"alerts": [], "count": 0}

    emails = aws.fare_emails()
    assert [e["Subject"] for e in emails] == [
        "[Wild Rydes taxi] Midtown Center (zone 161): fare per mile 105% above its last hour",
        "[Wild Rydes taxi] Midtown Center (zone 161): fares back in line",
    ]
    assert [e["MessageAttributes"]["kind"]["Value"] for e in emails] == ["alert", "recovery"]
    assert emails[0]["MessageAttributes"]["zone"]["Value"] == "161"
    assert aws.emails() == []  # the unicorns' topic hears nothing of it

    # Lambda handing persist_insights the same batches again sends nothing more.
    for batch in run.batches:
        assert run.invoke("persist_insights", batch) == {"batchItemFailures": []}
    assert aws.fare_emails() == []

    states = {
        row["Zone"]: row
        for row in (from_attributes(i) for i in aws.table_items(names.FARE_ALERT_TABLE))
    }
    assert states[161]["AlertState"] == "ok"
    assert states[161]["Outbox"] == {}
    assert all(row["AlertState"] == "ok" for row in states.values())


def test_an_ordinary_morning_sends_nothing(client: Client, aws: Aws) -> None:
    replay(Replay(client, aws), (), (10.0, 13.0))

    assert aws.fare_emails() == []
