"""The taxi read API through Chalice: a day's peaks, a zone's fare trend, every zone's day, errors.

The table is seeded with the producer's model of 2026-11-23 (its morning and
evening peaks, by pickup window) or with hand-made windows whose figures are
known; the clock is fixed, so the defaults (today, the last 24 hours) are too.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import bootstrap, names
from chalicelib.bootstrap import Services
from chalicelib.taxi.records import Trip
from chalicelib.taxi.summaries import ZoneWindow, partials, window_end, window_start
from tests.functional.conftest import Aws
from tests.taxi_events import day_trips

DAY = "2026-11-23"
NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
HOUR = 3600


@cache
def model_trips() -> list[Trip]:
    """The model's morning and evening rush: trips ending 06:00–10:30 and 15:30–20:00."""
    per_day = 8000  # small enough to stay fast, large enough for clear peaks
    return day_trips(6 * HOUR, 10 * HOUR + 1800, per_day=per_day) + day_trips(
        15 * HOUR + 1800, 20 * HOUR, per_day=per_day
    )


def on_the_day() -> list[Trip]:
    return [t for t in model_trips() if t.pickup_time.startswith(DAY)]


def get(client: Client, path: str) -> tuple[int, dict[str, Any]]:
    response = client.http.get(path)
    return response.status_code, json.loads(response.body)


def seed(windows: list[ZoneWindow]) -> None:
    assert bootstrap.services().insight_store.put_many(windows) == []


def set_clock(moment: datetime) -> None:
    current = bootstrap.services()
    clock: Callable[[], float] = moment.timestamp
    bootstrap.install(
        Services(current.settings, current.clients, sleep=current.sleep, clock=clock)
    )


@pytest.fixture
def taxi(client: Client, aws: Aws) -> Client:
    set_clock(NOON)
    return client


@pytest.fixture
def rush_hours(taxi: Client) -> Client:
    seed(list(partials(model_trips(), "part-1").values()))
    return taxi


# --- GET /taxi/peaks ---


def test_peaks_finds_the_evening_and_morning_rush_and_the_busiest_zone(
    rush_hours: Client,
) -> None:
    status, body = get(rush_hours, f"/taxi/peaks?date={DAY}&top=3")
    assert status == 200
    assert body["date"] == DAY
    busiest = body["busiestWindows"]
    # The evening rush (by pickup time: trips are long then, the peak is at 18:00 by dropoff).
    assert all("16:30" <= w["windowStart"][11:16] <= "18:00" for w in busiest), busiest
    assert busiest[0]["windowEnd"] == window_end(busiest[0]["windowStart"])
    assert [w["trips"] for w in busiest] == sorted((w["trips"] for w in busiest), reverse=True)
    assert busiest[0]["busiestZone"]["name"] == "Midtown Center"
    morning = max(
        (w for w in body["demand"] if w["windowStart"] < f"{DAY} 12"), key=lambda w: w["trips"]
    )
    assert "07:45" <= morning["windowStart"][11:16] <= "08:45"
    zones = body["busiestZones"]
    assert len(zones) == 3 and (zones[0]["zone"], zones[0]["name"]) == (161, "Midtown Center")


def test_peaks_totals_are_the_trips_picked_up_that_day(rush_hours: Client) -> None:
    status, body = get(rush_hours, "/taxi/peaks")  # today, by the clock
    assert status == 200 and body["date"] == DAY
    trips = on_the_day()
    assert body["trips"] == len(trips) == sum(w["trips"] for w in body["demand"])
    assert body["revenue"] == pytest.approx(sum(t.fare for t in trips))
    starts = [w["windowStart"] for w in body["demand"]]
    assert starts == sorted(starts) and all(s.startswith(DAY) for s in starts)
    assert len(body["busiestWindows"]) == len(body["busiestZones"]) == 5  # the default top


def test_a_day_without_data_has_no_peaks(taxi: Client) -> None:
    assert get(taxi, "/taxi/peaks?date=2026-11-24") == (
        200,
        {
            "date": "2026-11-24",
            "trips": 0,
            "revenue": 0,
            "demand": [],
            "busiestWindows": [],
            "busiestZones": [],
        },
    )
    assert get(taxi, "/taxi/zones?date=2026-11-24") == (
        200,
        {"date": "2026-11-24", "zones": [], "count": 0},
    )


# --- GET /taxi/zones ---


def test_zones_sum_each_zones_trips_of_the_day(rush_hours: Client) -> None:
    status, body = get(rush_hours, f"/taxi/zones?date={DAY}")
    assert status == 200
    by_zone: dict[int, list[Trip]] = defaultdict(list)
    for trip in on_the_day():
        by_zone[trip.pickup_zone].append(trip)
    assert body["count"] == len(body["zones"]) == len(by_zone) == 12
    assert [z["trips"] for z in body["zones"]] == sorted(
        (len(trips) for trips in by_zone.values()), reverse=True
    )
    for row in body["zones"]:
        trips = by_zone[row["zone"]]
        revenue = sum(t.fare for t in trips)
        card = [t for t in trips if t.payment_type == "card"]
        assert row["trips"] == len(trips)
        assert row["revenue"] == pytest.approx(revenue)
        assert row["averageFare"] == pytest.approx(revenue / len(trips), abs=0.005)
        assert row["tipPercent"] == pytest.approx(
            100 * sum(t.tip for t in card) / sum(t.fare for t in card), abs=0.05
        )
        windows = Counter(window_start(t.pickup_time) for t in trips)
        assert row["peakWindow"] == min(windows, key=lambda start: (-windows[start], start))
    assert body["zones"][0]["name"] == "Midtown Center"


# --- GET /taxi/fares ---


def window(start: str, trips: int, fares: int, milli_miles: int, zone: int = 132) -> ZoneWindow:
    """A zone's window with `fares` cents over `milli_miles`, all paid by card with a 20 % tip."""
    return ZoneWindow(
        zone=zone,
        window_start=f"{DAY} {start}:00.000",
        trips=trips,
        fares=fares,
        moving_fares=fares,
        milli_miles=milli_miles,
        card_fares=fares,
        card_tips=fares // 5,
        parts=frozenset({"hand-made"}),
    )


@pytest.fixture
def airport(taxi: Client) -> Client:
    seed(
        [
            window("07:45", 1, 9900, 20_000),  # before `from`
            window("08:00", 2, 2000, 2_000),  # $10 a trip, $10 a mile
            window("08:15", 1, 2000, 4_000),  # $20, $5
            # 08:30: no trips, so not a point and not in the averages
            window("08:45", 4, 12000, 10_000),  # $30, $12
            window("09:00", 1, 4000, 4_000),  # $40, $10
            window("09:15", 1, 9900, 1_000),  # at `to`: after the range
            window("08:30", 7, 7000, 7_000, zone=161),  # another zone
        ]
    )
    return taxi


def test_fares_are_a_zones_windows_with_moving_averages_over_the_last_k(airport: Client) -> None:
    status, body = get(
        airport, "/taxi/fares?zone=132&from=2026-11-23T08:00:00Z&to=2026-11-23%2009:15:00.000"
    )
    assert status == 200
    assert {k: v for k, v in body.items() if k != "points"} == {
        "zone": 132,
        "name": "JFK Airport",
        "from": f"{DAY} 08:00:00.000",
        "to": f"{DAY} 09:15:00.000",
        "averageOver": 4,
    }
    assert [
        (p["windowStart"][11:16], p["trips"], p["averageFare"], p["farePerMile"], p["tipPercent"])
        for p in body["points"]
    ] == [
        ("08:00", 2, 10.0, 10.0, 20.0),
        ("08:15", 1, 20.0, 5.0, 20.0),
        ("08:45", 4, 30.0, 12.0, 20.0),
        ("09:00", 1, 40.0, 10.0, 20.0),
    ]
    assert [p["movingAverageFare"] for p in body["points"]] == [10.0, 15.0, 20.0, 25.0]
    assert body["points"][2]["windowEnd"] == f"{DAY} 09:00:00.000"

    status, body = get(airport, "/taxi/fares?zone=132&from=2026-11-23T08:00Z&average=2")
    assert status == 200 and body["averageOver"] == 2
    assert [p["movingAverageFare"] for p in body["points"]] == [10.0, 15.0, 25.0, 35.0, 69.5]
    assert [p["movingAverageFarePerMile"] for p in body["points"]] == [10.0, 7.5, 8.5, 11.0, 54.5]


def test_fares_default_to_the_last_24_hours(airport: Client) -> None:
    set_clock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    status, body = get(airport, "/taxi/fares?zone=132")
    assert status == 200
    assert (body["from"], body["to"]) == ("2026-11-22 09:00:00.000", f"{DAY} 09:00:00.000")
    assert [p["windowStart"][11:16] for p in body["points"]] == [
        "07:45",
        "08:00",
        "08:15",
        "08:45",
    ]
    assert get(airport, "/taxi/fares?zone=7")[1]["points"] == []


# --- errors ---


# One request per parameter and route; the forms each check accepts are in
# tests/unit/test_taxi_params.py.
BAD_REQUESTS = [
    ("/taxi/fares?zone=0", "zone"),
    ("/taxi/fares?zone=abc", "zone"),
    ("/taxi/fares", "zone"),
    ("/taxi/fares?zone=161&average=97", "average"),
    ("/taxi/fares?zone=161&from=yesterday", "from"),
    ("/taxi/fares?zone=161&from=2026-11-14T00:00Z&to=2026-11-23T00:00Z", "to"),
    ("/taxi/fares?zone=161&from=2026-11-23T10:00Z&to=2026-11-23T09:00Z", "to"),
    ("/taxi/fares?zone=161&zones=162", "zones"),
    ("/taxi/peaks?date=2026-13-01", "date"),
    ("/taxi/peaks?top=0", "top"),
    ("/taxi/peaks?day=2026-11-23", "day"),
    ("/taxi/zones?date=2026-02-30", "date"),
    ("/taxi/zones?top=5", "top"),
]


def test_a_bad_parameter_is_a_400_naming_it(taxi: Client, subtests: pytest.Subtests) -> None:
    for path, parameter in BAD_REQUESTS:
        with subtests.test(msg=path):
            status, body = get(taxi, path)
            assert status == 400
            assert body["Code"] == "InvalidParameter"
            assert body["Message"].startswith(f"{parameter}: ")


def test_an_unreachable_table_is_a_503_without_a_stack_trace(taxi: Client, aws: Aws) -> None:
    aws.client("dynamodb").delete_table(TableName=names.INSIGHT_TABLE)
    for path in ("/taxi/peaks", "/taxi/zones", "/taxi/fares?zone=161"):
        assert get(taxi, path) == (
            503,
            {
                "Code": "ServiceUnavailable",
                "Message": "the taxi data is not reachable right now (ResourceNotFoundException)",
            },
        )


def test_taxi_alerts_lists_no_zone_when_the_fare_watch_has_none_open(taxi: Client) -> None:
    assert get(taxi, "/taxi/alerts") == (200, {"alerts": [], "count": 0})
    status, body = get(taxi, "/taxi/alerts?zone=161")
    assert status == 400
    assert body["Message"] == "zone: unknown parameter; /taxi/alerts takes none"
