"""Taxi insights per zone and 15-minute window: the same figures however the trips are split."""

from __future__ import annotations

import random
import re
from datetime import date

import pytest

from chalicelib.taxi.records import Trip
from chalicelib.taxi.summaries import (
    ZoneWindow,
    merge_partials,
    moving_average,
    partials,
    window_end,
    window_start,
)
from producer.taxi import TaxiDay


def trip(
    n: int, zone: int = 161, pickup: str = "2026-11-23 08:07:00.000", **changes: object
) -> Trip:
    values: dict[str, object] = {
        "trip_id": f"t{n}",
        "pickup_time": pickup,
        "dropoff_time": "2026-11-23 08:40:00.000",
        "pickup_zone": zone,
        "dropoff_zone": 236,
        "distance": 2.0,
        "fare": 10.0,
        "tip": 2.0,
        "passengers": 1,
        "payment_type": "card",
    }
    values.update(changes)
    return Trip(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("time", "start"),
    [
        ("2026-11-23 08:07:00.000", "2026-11-23 08:00:00.000"),
        ("2026-11-23 08:15:00.000", "2026-11-23 08:15:00.000"),
        ("2026-11-23 08:14:59.999", "2026-11-23 08:00:00.000"),
        ("2026-11-23 23:59:59.999", "2026-11-23 23:45:00.000"),
    ],
)
def test_windows_are_quarters_of_an_hour_of_pickup_time(time: str, start: str) -> None:
    assert window_start(time) == start
    assert window_end("2026-11-23 23:45:00.000") == "2026-11-24 00:00:00.000"


def test_the_figures_of_a_zones_window() -> None:
    trips = [
        trip(1, fare=10.0, tip=2.0, distance=2.0),
        trip(2, fare=20.0, tip=0.0, distance=3.0, payment_type="cash"),
        trip(3, fare=6.0, tip=1.0, distance=0.0),  # did not move: in revenue, not per mile
        trip(4, zone=236),
        trip(5, pickup="2026-11-23 08:15:00.000"),
    ]
    found = partials(trips, "p1")
    assert set(found) == {
        (161, "2026-11-23 08:00:00.000"),
        (236, "2026-11-23 08:00:00.000"),
        (161, "2026-11-23 08:15:00.000"),
    }
    assert found[(161, "2026-11-23 08:00:00.000")].insight() == {
        "zone": 161,
        "windowStart": "2026-11-23 08:00:00.000",
        "windowEnd": "2026-11-23 08:15:00.000",
        "trips": 3,
        "revenue": 36.0,
        "averageFare": 12.0,
        "farePerMile": 6.0,  # (10 + 20) / (2 + 3)
        "tipPercent": 18.8,  # (2 + 1) / (10 + 6) card fares
    }


def test_an_empty_window_has_no_ratios() -> None:
    empty = ZoneWindow(161, "2026-11-23 08:00:00.000")
    assert (empty.average_fare, empty.fare_per_mile, empty.tip_percent) == (None, None, None)


def test_partials_merge_to_the_same_figures_in_any_order_and_a_repeat_counts_once() -> None:
    day = TaxiDay(date(2026, 11, 23), 30_000, seed=9).trips(8 * 3600, 9 * 3600)
    whole = partials(day, "all")
    rng = random.Random(1)
    chunks = [day[i : i + 37] for i in range(0, len(day), 37)]
    parts = [partials(chunk, f"p{n}") for n, chunk in enumerate(chunks)]
    rng.shuffle(parts)
    merged: dict[tuple[int, str], ZoneWindow] = {}
    for found in [*parts, parts[0], parts[3]]:  # two batches retried
        for key, partial in found.items():
            merged[key] = merged[key].merge(partial) if key in merged else partial
    assert set(merged) == set(whole)
    for key, window in whole.items():
        assert merged[key].trips == window.trips
        assert merged[key].insight() == window.insight()


def test_merging_refuses_another_window_or_overlapping_parts() -> None:
    key = (161, "2026-11-23 08:00:00.000")
    one, two, three = (partials([trip(n)], f"p{n}")[key] for n in (1, 2, 3))
    other_zone = partials([trip(4, zone=236)], "p4")[(236, "2026-11-23 08:00:00.000")]
    with pytest.raises(ValueError, match="cannot merge"):
        one.merge(other_zone)
    # {p1, p2} and {p2, p3}: neither holds the other, and adding would count p2 twice.
    with pytest.raises(ValueError, match=re.escape("overlap in part: ['p2']")):
        one.merge(two).merge(two.merge(three))
    assert one.merge(two).merge(one).trips == 2  # a repeat is a no-op
    assert one.merge(one) is one


def test_merging_what_is_stored_says_nothing_changed_unless_a_partial_is_new() -> None:
    """persist_insights writes a zone's window only when this says it changed."""
    key = (161, "2026-11-23 08:00:00.000")
    one, two = (partials([trip(n)], f"p{n}")[key] for n in (1, 2))
    assert merge_partials(None, []) is None
    assert merge_partials(one, [one]) is None  # a repeated delivery
    assert merge_partials(None, [one]) == one
    both = merge_partials(one, [one, two])  # the held one first, the new one after it
    assert both is not None and (both.trips, both.parts) == (2, {"p1", "p2"})


def test_a_moving_average_skips_gaps() -> None:
    assert moving_average([4.0, 6.0, None, 8.0, 10.0], 3) == [4.0, 5.0, 5.0, 7.0, 9.0]
    assert moving_average([None, None], 2) == [None, None]
    assert moving_average([1.0, 2.0, 2.0], 3) == [1.0, 1.5, 1.67]  # cents
    with pytest.raises(ValueError, match=r"^a moving average needs a width of at least 1$"):
        moving_average([1.0], 0)


def test_a_still_trip_is_revenue_not_fare_per_mile_and_a_cash_tip_no_tip_share() -> None:
    key = (161, "2026-11-23 08:00:00.000")
    cash = trip(3, fare=5.0, tip=1.0, payment_type="cash")  # a tip recorded on a cash trip
    (window,) = partials([trip(1), trip(2, distance=0.0, fare=7.5), cash], "p").values()
    assert window.key == key
    assert (window.trips, window.fares, window.moving_fares) == (3, 2250, 1500)
    assert (window.revenue, window.fare_per_mile) == (22.5, 3.75)  # $15 over 4 miles
    # Tips are known for card payments only: the share is of those.
    assert (window.card_fares, window.card_tips, window.tip_percent) == (1750, 400, 22.9)
