"""Every route's answer, field by field, from data the functions themselves wrote.

The OpenAPI test holds each answer to its shape (names, types, ranges, no
extra fields); these hold it to its values. A small fleet and a small taxi day
go through the handlers that write them (`vitals`, `persist`, `persist_insights`
with its fare watch; `POST /trips` is itself a route), then each route's whole
body is compared with the one a user should see, worked out by hand beside it:
a field dropped, renamed, swapped with another or computed wrong fails here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import bootstrap, names
from chalicelib.adapters.clients import Clients
from chalicelib.bootstrap import Services
from chalicelib.settings import load_settings
from chalicelib.taxi.summaries import ZoneWindow, encode_partial
from chalicelib.unicorns.records import encode_reading
from chalicelib.unicorns.summaries import Summary, encode_row
from tests.functional.conftest import Aws
from tests.lambda_events import kinesis_event, kinesis_record
from tests.readings import reading
from tests.taxi_events import day_trips

ARRIVAL = datetime(2026, 11, 22, 14, 10, tzinfo=UTC).timestamp()
# When the API answers: 4 min 58.5 s after Shadowfax's reading, 4 min 57 s after Rocinante's.
ANSWERED = datetime(2026, 11, 22, 14, 9, 59, 500_000, tzinfo=UTC).timestamp()
DAY = "2026-11-23"


def get(client: Client, path: str) -> tuple[int, Any]:
    response = client.http.get(path)
    return response.status_code, json.loads(response.body)


def invoke(client: Client, function: str, event: dict[str, Any]) -> None:
    assert client.lambda_.invoke(function, event).payload == {"batchItemFailures": []}


# --- the unicorns ---


def summary(name: str, minute: str, samples: int, health: tuple[int, int]) -> Summary:
    return Summary(
        name=name,
        status_time=f"2026-11-22 14:{minute}:00.000",
        distance=1234.5,
        min_magic=120,
        max_magic=140,
        min_health=health[0],
        max_health=health[1],
        samples=samples,
        window_end=f"2026-11-22 14:{int(minute) + 1:02d}:00.000",
        first_status_time=f"2026-11-22 14:{minute}:00.250",
        last_status_time=f"2026-11-22 14:{minute}:59.250",
        latitude=40.7,
        longitude=-73.9,
        summary_ids=frozenset({f"shardId-000000000000:{minute}"}),
    )


@pytest.fixture
def fleet(client: Client, aws: Aws) -> Client:
    readings = [
        reading("Shadowfax", "2026-11-22 14:05:01.000", health=150, magic=140),
        reading(
            "Rocinante",
            "2026-11-22 14:05:02.500",
            latitude=40.1,
            longitude=-73.2,
            distance=12.5,
            health=80,
            magic=97,
        ),
    ]
    invoke(
        client,
        "vitals",
        kinesis_event(
            [
                kinesis_record(encode_reading(r), str(n + 1), r.name, ARRIVAL + n)
                for n, r in enumerate(readings)
            ]
        ),
    )
    rows = [summary("Shadowfax", "03", 60, (130, 150)), summary("Shadowfax", "04", 59, (90, 99))]
    invoke(
        client,
        "persist",
        kinesis_event(
            [
                kinesis_record(
                    encode_row(s), str(n + 1), s.name, ARRIVAL, stream=names.SUMMARY_STREAM
                )
                for n, s in enumerate(rows)
            ]
        ),
    )
    aws.emails()
    bootstrap.install(
        Services(load_settings(), Clients(), clock=lambda: ANSWERED, sleep=lambda seconds: None)
    )
    return client


SHADOWFAX = {
    "Name": "Shadowfax",
    "StatusTime": "2026-11-22 14:05:01.000",
    "Latitude": 40.749167,
    "Longitude": -73.985184,
    "Distance": 30.0,
    "HealthPoints": 150,
    "MagicPoints": 140,
    "LowVitals": [],
    "AlertState": "ok",
    "Incident": None,
    "SeenAt": ARRIVAL,
    "AgeSeconds": 298.5,
}
ROCINANTE = {
    "Name": "Rocinante",
    "StatusTime": "2026-11-22 14:05:02.500",
    "Latitude": 40.1,
    "Longitude": -73.2,
    "Distance": 12.5,
    "HealthPoints": 80,
    "MagicPoints": 97,
    "LowVitals": ["HealthPoints", "MagicPoints"],
    "AlertState": "alert",
    "Incident": {
        "Id": "Rocinante@2026-11-22 14:05:02.500",
        "StartedAt": "2026-11-22 14:05:02.500",
        "Vitals": ["HealthPoints", "MagicPoints"],
    },
    "SeenAt": ARRIVAL + 1,
    "AgeSeconds": 297.0,
}


def test_the_fleet_is_every_unicorns_status(fleet: Client) -> None:
    assert get(fleet, "/unicorns") == (200, {"unicorns": [ROCINANTE, SHADOWFAX], "count": 2})


def test_one_unicorn_is_its_status(fleet: Client) -> None:
    assert get(fleet, "/unicorns/Rocinante") == (200, ROCINANTE)
    assert get(fleet, "/unicorns/Shadowfax") == (200, SHADOWFAX)


def test_the_alerts_are_the_statuses_in_an_incident(fleet: Client) -> None:
    assert get(fleet, "/alerts") == (200, {"alerts": [ROCINANTE], "count": 1})


def test_a_status_read_on_a_clock_behind_its_reading_is_no_age_rather_than_negative(
    fleet: Client,
) -> None:
    early = datetime(2026, 11, 22, 14, 5, 2, tzinfo=UTC).timestamp()  # between the two readings
    bootstrap.install(
        Services(load_settings(), Clients(), clock=lambda: early, sleep=lambda seconds: None)
    )
    _, body = get(fleet, "/unicorns")
    assert [(u["Name"], u["AgeSeconds"]) for u in body["unicorns"]] == [
        ("Rocinante", 0.0),
        ("Shadowfax", 1.0),
    ]


def test_a_unicorns_history_is_its_minutes_as_persisted(fleet: Client) -> None:
    minute = {
        "Name": "Shadowfax",
        "Distance": 1234.5,
        "MinMagicPoints": 120,
        "MaxMagicPoints": 140,
        "Latitude": 40.7,
        "Longitude": -73.9,
    }
    assert get(fleet, "/unicorns/Shadowfax/summaries") == (
        200,
        {
            "unicorn": "Shadowfax",
            "summaries": [
                minute
                | {
                    "StatusTime": "2026-11-22 14:03:00.000",
                    "MinHealthPoints": 130,
                    "MaxHealthPoints": 150,
                    "SampleCount": 60,
                    "WindowEnd": "2026-11-22 14:04:00.000",
                    "FirstStatusTime": "2026-11-22 14:03:00.250",
                    "LastStatusTime": "2026-11-22 14:03:59.250",
                },
                minute
                | {
                    "StatusTime": "2026-11-22 14:04:00.000",
                    "MinHealthPoints": 90,
                    "MaxHealthPoints": 99,
                    "SampleCount": 59,
                    "WindowEnd": "2026-11-22 14:05:00.000",
                    "FirstStatusTime": "2026-11-22 14:04:00.250",
                    "LastStatusTime": "2026-11-22 14:04:59.250",
                },
            ],
            "count": 2,
            "next": None,
        },
    )


def test_health_says_ok(client: Client) -> None:
    assert get(client, "/health") == (200, {"status": "ok"})


# --- the taxis ---


def zone_window(
    zone: int, start: str, trips: int, fares: int, milli_miles: int, tips: int
) -> ZoneWindow:
    """`fares` cents over `milli_miles`, half of it by card with `tips` cents of tips."""
    return ZoneWindow(
        zone=zone,
        window_start=f"{DAY} {start}:00.000",
        trips=trips,
        fares=fares,
        moving_fares=fares,
        milli_miles=milli_miles,
        card_fares=fares // 2,
        card_tips=tips,
        parts=frozenset({f"part-{zone}-{start}"}),
    )


@pytest.fixture
def taxi_day(client: Client, aws: Aws) -> Client:
    """JFK (132) at $4 a mile for an hour, then at $9; Midtown Center (161) steady."""
    current = bootstrap.services()
    noon = datetime(2026, 11, 23, 12, 0, tzinfo=UTC).timestamp
    bootstrap.install(Services(current.settings, current.clients, sleep=current.sleep, clock=noon))
    windows = [
        zone_window(132, "08:00", 10, 20000, 50_000, 1000),
        zone_window(132, "08:15", 10, 20000, 50_000, 1000),
        zone_window(132, "08:30", 10, 20000, 50_000, 1000),
        zone_window(132, "08:45", 10, 20000, 50_000, 1000),
        zone_window(161, "08:45", 40, 60000, 60_000, 6000),
        zone_window(132, "09:00", 20, 45000, 50_000, 4500),
    ]
    invoke(
        client,
        "persist_insights",
        kinesis_event(
            [
                kinesis_record(
                    encode_partial(w),
                    str(n + 1),
                    str(w.zone),
                    ARRIVAL,
                    stream=names.INSIGHT_STREAM,
                )
                for n, w in enumerate(windows)
            ]
        ),
    )
    aws.emails()
    return client


def window(start: str, end: str, trips: int, revenue: float) -> dict[str, Any]:
    return {
        "windowStart": f"{DAY} {start}:00.000",
        "windowEnd": f"{DAY} {end}:00.000",
        "trips": trips,
        "revenue": revenue,
    }


# 132: four windows of 10 trips, $200 over 50 miles, then 20 trips, $450 over 50 miles;
# tips $85 on the $625 paid by card. 161: 40 trips, $600 over 60 miles, $60 of tips on $300.
ZONES = [
    {
        "zone": 132,
        "name": "JFK Airport",
        "trips": 60,
        "revenue": 1250.0,
        "averageFare": 20.83,
        "farePerMile": 5.0,
        "tipPercent": 13.6,
        "peakWindow": f"{DAY} 09:00:00.000",
    },
    {
        "zone": 161,
        "name": "Midtown Center",
        "trips": 40,
        "revenue": 600.0,
        "averageFare": 15.0,
        "farePerMile": 10.0,
        "tipPercent": 20.0,
        "peakWindow": f"{DAY} 08:45:00.000",
    },
]


def test_peaks_are_the_days_demand_busiest_windows_and_zones(taxi_day: Client) -> None:
    assert get(taxi_day, f"/taxi/peaks?date={DAY}&top=2") == (
        200,
        {
            "date": DAY,
            "trips": 100,
            "revenue": 1850.0,
            "demand": [
                window("08:00", "08:15", 10, 200.0),
                window("08:15", "08:30", 10, 200.0),
                window("08:30", "08:45", 10, 200.0),
                window("08:45", "09:00", 50, 800.0),
                window("09:00", "09:15", 20, 450.0),
            ],
            "busiestWindows": [
                window("08:45", "09:00", 50, 800.0)
                | {"busiestZone": {"zone": 161, "name": "Midtown Center", "trips": 40}},
                window("09:00", "09:15", 20, 450.0)
                | {"busiestZone": {"zone": 132, "name": "JFK Airport", "trips": 20}},
            ],
            "busiestZones": ZONES,
        },
    )


def test_zones_are_each_zones_day(taxi_day: Client) -> None:
    assert get(taxi_day, f"/taxi/zones?date={DAY}") == (
        200,
        {"date": DAY, "zones": ZONES, "count": 2},
    )


def test_fares_are_a_zones_windows_and_their_moving_averages(taxi_day: Client) -> None:
    def point(start: str, end: str, trips: int, fare: float, per_mile: float) -> dict[str, Any]:
        return {
            "windowStart": f"{DAY} {start}:00.000",
            "windowEnd": f"{DAY} {end}:00.000",
            "trips": trips,
            "averageFare": fare,
            "farePerMile": per_mile,
            "tipPercent": 10.0 if per_mile == 4.0 else 20.0,
        }

    steady = {"movingAverageFare": 20.0, "movingAverageFarePerMile": 4.0}
    assert get(taxi_day, "/taxi/fares?zone=132&from=2026-11-23T08:30Z&average=2") == (
        200,
        {
            "zone": 132,
            "name": "JFK Airport",
            "from": f"{DAY} 08:30:00.000",
            "to": f"{DAY} 12:00:00.000",  # now
            "averageOver": 2,
            "points": [
                point("08:30", "08:45", 10, 20.0, 4.0) | steady,
                point("08:45", "09:00", 10, 20.0, 4.0) | steady,
                point("09:00", "09:15", 20, 22.5, 9.0)
                | {"movingAverageFare": 21.25, "movingAverageFarePerMile": 6.5},
            ],
        },
    )


def test_fare_alerts_are_the_zones_in_an_incident(taxi_day: Client) -> None:
    # The hour before 09:00 is the baseline: $4 a mile over 40 trips; 09:00 is $9.
    assert get(taxi_day, "/taxi/alerts") == (
        200,
        {
            "alerts": [
                {
                    "zone": 132,
                    "name": "JFK Airport",
                    "windowStart": f"{DAY} 09:00:00.000",
                    "trips": 20,
                    "farePerMile": 9.0,
                    "deviation": 1.25,
                    "incident": {
                        "id": f"zone-132@{DAY} 09:00:00.000",
                        "startedAt": f"{DAY} 09:00:00.000",
                        "baseline": 4.0,
                    },
                }
            ],
            "count": 1,
        },
    )


def test_posted_trips_are_answered_one_by_one(client: Client, aws: Aws) -> None:
    earlier, good = day_trips(8 * 3600, 9 * 3600)[:2]
    headers = {"Content-Type": "application/json"}
    client.http.post("/trips", headers=headers, body=json.dumps({"trips": [earlier.to_json()]}))
    crowded = {**good.to_json(), "TripId": "crowded-1", "Passengers": 12}

    response = client.http.post(
        "/trips",
        headers=headers,
        body=json.dumps({"trips": [good.to_json(), earlier.to_json(), crowded, [1]]}),
    )

    assert response.status_code == 200
    assert json.loads(response.body) == {
        "accepted": 1,
        "duplicate": 1,
        "rejected": 2,
        "failed": 0,
        "results": [
            {"index": 0, "tripId": good.trip_id, "status": "accepted"},
            {"index": 1, "tripId": earlier.trip_id, "status": "duplicate"},
            {
                "index": 2,
                "tripId": "crowded-1",
                "status": "rejected",
                "reason": "Passengers must be an integer from 0 to 9, got integer 12",
            },
            {
                "index": 3,
                "tripId": None,
                "status": "rejected",
                "reason": "a trip must be a JSON object, got array",
            },
        ],
    }
    assert len(aws.stream_records(names.TRIP_STREAM)) == 2
