"""The taxi answers' shapes from windows: totals as ratios of sums, ties, gaps, empty days."""

from __future__ import annotations

from chalicelib.taxi.params import FaresQuery, PeaksQuery
from chalicelib.taxi.summaries import ZoneWindow
from chalicelib.taxi.view import day_peaks, fare_trend, zone_rows

DAY = "2026-11-23"


def window(zone: int, start: str, trips: int, fares: int = 1000, **sums: int) -> ZoneWindow:
    return ZoneWindow(zone, f"{DAY} {start}:00.000", trips, fares, parts=frozenset({"p"}), **sums)


def test_ties_go_to_the_earlier_window_and_the_lower_zone() -> None:
    windows = [
        window(230, "08:00", 5),
        window(161, "08:00", 5),
        window(79, "07:45", 10),
        window(162, "09:00", 3),
    ]
    body = day_peaks(PeaksQuery(DAY, 2), windows)
    assert [(w["windowStart"][11:16], w["trips"]) for w in body["busiestWindows"]] == [
        ("07:45", 10),
        ("08:00", 10),
    ]
    assert body["busiestWindows"][1]["busiestZone"] == {
        "zone": 161,
        "name": "Midtown Center",
        "trips": 5,
    }
    assert [z["zone"] for z in body["busiestZones"]] == [79, 161]
    assert [w["windowStart"][11:16] for w in body["demand"]] == ["07:45", "08:00", "09:00"]
    assert (body["trips"], body["revenue"]) == (23, 40.0)


def test_a_zones_day_is_a_ratio_of_sums_not_a_mean_of_window_figures() -> None:
    windows = [
        window(
            161,
            "08:00",
            1,
            1000,
            moving_fares=1000,
            milli_miles=1000,
            card_fares=1000,
            card_tips=200,
        ),
        window(161, "08:15", 3, 6000, moving_fares=6000, milli_miles=3000),  # cash
        window(161, "08:30", 0, 0),  # no trips: not anybody's peak
    ]
    (row,) = zone_rows(windows)
    assert row == {
        "zone": 161,
        "name": "Midtown Center",
        "trips": 4,
        "revenue": 70.0,
        "averageFare": 17.5,  # $70 / 4, not the mean of $10 and $20
        "farePerMile": 17.5,  # $70 / 4 miles
        "tipPercent": 20.0,  # card trips only
        "peakWindow": f"{DAY} 08:15:00.000",
    }


def test_an_unnamed_zone_is_called_by_its_number() -> None:
    assert zone_rows([window(5, "08:00", 1)])[0]["name"] == "Zone 5"


def test_fares_skip_windows_without_trips_and_miles_in_the_averages() -> None:
    query = FaresQuery(5, f"{DAY} 08:00:00.000", f"{DAY} 09:00:00.000", "", 2)
    windows = [
        window(5, "08:30", 1, 3000),  # out of order, as a store might hand them
        window(5, "08:00", 1, 1000, moving_fares=1000, milli_miles=1000),
        window(5, "08:15", 0, 0),
    ]
    points = fare_trend(query, windows)["points"]
    assert [(p["windowStart"][11:16], p["farePerMile"]) for p in points] == [
        ("08:00", 10.0),
        ("08:30", None),  # stood still: no fare per mile
    ]
    assert [p["movingAverageFare"] for p in points] == [10.0, 20.0]
    assert [p["movingAverageFarePerMile"] for p in points] == [10.0, 10.0]


def test_an_empty_day() -> None:
    assert day_peaks(PeaksQuery(DAY, 5), []) == {
        "date": DAY,
        "trips": 0,
        "revenue": 0,
        "demand": [],
        "busiestWindows": [],
        "busiestZones": [],
    }
    assert zone_rows([]) == []


def test_the_last_window_there_is_ends_at_the_last_status_time() -> None:
    last = ZoneWindow(5, "9999-12-31 23:45:00.000", 1, 500, parts=frozenset({"p"}))
    body = day_peaks(PeaksQuery("9999-12-31", 1), [last])
    assert body["demand"][0]["windowEnd"] == "9999-12-31 23:59:59.999"
    query = FaresQuery(5, "9999-12-31 00:00:00.000", "9999-12-31 23:59:59.999", "", 1)
    assert fare_trend(query, [last])["points"][0]["windowEnd"] == "9999-12-31 23:59:59.999"
