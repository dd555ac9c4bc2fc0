"""The producer's taxi day: valid trips, peaks where a city has them, fares as a meter counts."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

import pytest

from chalicelib.taxi.records import ZONE_NAMES, encode_trip, parse_trip
from producer.taxi import SURGE, ZONES, TaxiDay, demand, is_peak, meter

DAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def trips() -> list:
    return TaxiDay(DAY, trips_per_day=20_000, seed=7).trips(0, 24 * 3600)


def hour_of(time: str) -> int:
    return datetime.fromisoformat(time).hour


def test_every_trip_is_a_valid_record_with_its_own_id(trips: list) -> None:
    assert all(parse_trip(encode_trip(t)) == t for t in trips)
    assert len({t.trip_id for t in trips}) == len(trips)
    assert {t.pickup_zone for t in trips} | {t.dropoff_zone for t in trips} <= set(ZONE_NAMES)
    assert {z.number for z in ZONES} == set(ZONE_NAMES)


def test_the_day_has_about_the_trips_asked_for_in_order_of_their_end(trips: list) -> None:
    assert 19_000 <= len(trips) <= 21_000
    ends = [t.dropoff_time for t in trips]
    assert ends == sorted(ends)
    assert ends[0].startswith("2026-11-23") and ends[-1].startswith("2026-11-23")


def test_the_same_seed_gives_the_same_day_whatever_the_spans_asked_for() -> None:
    day = TaxiDay(DAY, trips_per_day=5_000, seed=3)
    whole = day.trips(7 * 3600, 9 * 3600)
    halves = day.trips(7 * 3600, 8 * 3600 + 17.5) + day.trips(8 * 3600 + 17.5, 9 * 3600)
    assert whole == halves == TaxiDay(DAY, trips_per_day=5_000, seed=3).trips(7 * 3600, 9 * 3600)
    assert whole != TaxiDay(DAY, trips_per_day=5_000, seed=4).trips(7 * 3600, 9 * 3600)


def test_mornings_and_evenings_are_the_peaks(trips: list) -> None:
    per_hour = Counter(hour_of(t.dropoff_time) for t in trips)
    night = per_hour[3] + per_hour[4]
    assert per_hour[8] > 3 * night / 2
    assert per_hour[18] > 3 * night / 2
    assert max(per_hour, key=lambda h: per_hour[h]) in {8, 17, 18, 19}
    assert demand(8.5) > demand(13) > demand(3)


def test_midtown_is_busiest_and_the_airports_are_quieter(trips: list) -> None:
    pickups = Counter(t.pickup_zone for t in trips)
    assert pickups.most_common(1)[0][0] == 161  # Midtown Center
    assert pickups[132] < pickups[161] / 2  # JFK


def test_fares_are_metered_with_a_surge_at_the_peaks(trips: list) -> None:
    for t in trips[:2000]:
        if t.payment_type == "no_charge":
            assert t.fare == 0
            continue
        started = datetime.fromisoformat(t.pickup_time)
        expected = meter(t.distance, t.seconds / 60, started.hour + started.minute / 60)
        assert abs(t.fare - expected) <= 0.02, t
    assert meter(2.0, 10.0, 8.0) == pytest.approx(round(meter(2.0, 10.0, 12.0) * SURGE, 2))
    assert is_peak(8.0) and is_peak(18.5) and not is_peak(12.0) and not is_peak(2.0)


def test_card_payments_tip_and_cash_ones_do_not(trips: list) -> None:
    card = [t for t in trips if t.payment_type == "card" and t.fare > 0]
    cash = [t for t in trips if t.payment_type == "cash"]
    assert card and cash
    assert all(0.10 * t.fare - 0.01 <= t.tip <= 0.25 * t.fare + 0.01 for t in card)
    assert all(t.tip == 0 for t in cash)


def test_a_day_without_trips_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one trip"):
        TaxiDay(DAY, trips_per_day=0)
