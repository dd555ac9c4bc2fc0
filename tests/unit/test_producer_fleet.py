"""The simulated fleet: the workshop's record and movement model, seeds, and unwell unicorns."""

from __future__ import annotations

import itertools
import json
import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.settings import DEFAULT_THRESHOLD
from chalicelib.unicorns.records import FIELDS, encode_reading, parse_reading
from producer.fleet import (
    NAMES,
    START_LATITUDE,
    START_LONGITUDE,
    TURN_BACK_METRES,
    Fleet,
    fleet_names,
)

START = datetime(2026, 11, 22, 14, 5, 9, 123000, tzinfo=UTC)


def run(fleet: Fleet, reports: int) -> list[list[dict[str, object]]]:
    """`reports` rounds of the fleet's records, as the JSON objects on the stream."""
    return [
        [json.loads(encode_reading(r)) for r in fleet.report(START + timedelta(seconds=k))]
        for k in range(reports)
    ]


def vitals_by_unicorn(rounds: list[list[dict[str, object]]]) -> dict[str, list[int]]:
    """Each unicorn's lower vital, report by report."""
    lows: dict[str, list[int]] = {}
    for records in rounds:
        for record in records:
            health, magic = record["HealthPoints"], record["MagicPoints"]
            assert isinstance(health, int) and isinstance(magic, int)
            lows.setdefault(str(record["Name"]), []).append(min(health, magic))
    return lows


def alerted_and_recovered(lows: list[int]) -> bool:
    first_low = next((k for k, v in enumerate(lows) if v < DEFAULT_THRESHOLD), None)
    return first_low is not None and any(v >= DEFAULT_THRESHOLD for v in lows[first_low:])


def test_a_record_is_the_workshop_record_and_passes_validation() -> None:
    fleet = Fleet(["Shadowfax"], random.Random(1))

    (reading,) = fleet.report(START)
    data = encode_reading(reading)

    record = json.loads(data)
    assert tuple(record) == FIELDS
    assert record["Name"] == "Shadowfax"
    assert record["StatusTime"] == "2026-11-22 14:05:09.123"
    assert [type(record[f]) for f in FIELDS[2:]] == [float, float, float, int, int]
    assert data.endswith(b"}\n") and b'": ' not in data and b', "' not in data
    assert parse_reading(data) == reading


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (1, ["Shadowfax"]),
        (5, ["Shadowfax", "Rocinante", "Bucephalus", "Pegasus", "Silver"]),
        (len(NAMES) + 2, [*NAMES, "Shadowfax-2", "Rocinante-2"]),
    ],
)
def test_fleet_names_start_with_shadowfax_and_number_beyond_the_list(
    count: int, expected: list[str]
) -> None:
    assert fleet_names(count) == expected
    assert len(set(fleet_names(3 * len(NAMES)))) == 3 * len(NAMES)


@pytest.mark.parametrize("interval", [1.0, 0.5, 0.1, 4.0])
def test_one_step_follows_the_workshop_formula(interval: float) -> None:
    # Replay the fleet's own draws: the bearing at construction, then the distance.
    rng = random.Random(7)
    bearing = rng.uniform(0.0, math.tau)
    distance = rng.uniform(29.0, 31.0) * interval
    latitude = START_LATITUDE + distance * math.sin(bearing) / 110540
    longitude = START_LONGITUDE + distance * math.cos(bearing) / (
        111320 * math.cos(math.radians(latitude))
    )

    (reading,) = Fleet(["Shadowfax"], random.Random(7), interval=interval).report(START)

    assert reading.distance == pytest.approx(distance)
    assert reading.latitude == pytest.approx(latitude, abs=1e-12)
    assert reading.longitude == pytest.approx(longitude, abs=1e-12)


@pytest.mark.parametrize("interval", [1.0, 0.25, 2.0])
def test_each_unicorn_keeps_its_bearing_and_covers_29_to_31_metres_a_second(
    interval: float,
) -> None:
    fleet = Fleet(fleet_names(4), random.Random(3), interval=interval)
    rounds = [fleet.report(START) for _ in range(50)]

    for i in range(4):
        trail = [(START_LATITUDE, START_LONGITUDE)] + [
            (r[i].latitude, r[i].longitude) for r in rounds
        ]
        headings = [math.atan2(b[0] - a[0], b[1] - a[1]) for a, b in itertools.pairwise(trail)]
        assert all(abs(math.remainder(h - headings[0], math.tau)) < 1e-3 for h in headings)
        for r in rounds:
            assert 29.0 * interval <= r[i].distance <= 31.0 * interval


def test_a_unicorn_turns_back_before_leaving_the_map() -> None:
    fleet = Fleet(["Shadowfax"], random.Random(5), interval=100.0)  # 3 km a report

    furthest = 0.0
    for _ in range(200):
        (reading,) = fleet.report(START)
        north = (reading.latitude - START_LATITUDE) * 110540
        east = (
            (reading.longitude - START_LONGITUDE)
            * 111320
            * math.cos(math.radians(reading.latitude))
        )
        furthest = max(furthest, math.hypot(north, east))
        parse_reading(encode_reading(reading))

    assert TURN_BACK_METRES * 0.9 < furthest < TURN_BACK_METRES + 3_200


def test_the_same_seed_repeats_a_run_and_another_seed_does_not() -> None:
    def sequence(seed: int) -> list[list[dict[str, object]]]:
        return run(Fleet(fleet_names(5), random.Random(seed), unwell=2), 40)

    assert sequence(42) == sequence(42)
    assert sequence(42) != sequence(43)


def test_which_unicorns_are_unwell_depends_on_the_seed_alone() -> None:
    def unwell(seed: int) -> list[tuple[str, str]]:
        fleet = Fleet(fleet_names(9), random.Random(seed), unwell=3)
        return [(u.name, u.illness.vital) for u in fleet.unwell if u.illness]

    assert unwell(8) == unwell(8)
    assert len(unwell(8)) == 3
    assert [vital for _, vital in unwell(8)] == ["HealthPoints", "MagicPoints", "HealthPoints"]
    assert len({tuple(unwell(seed)) for seed in range(10)}) > 1


def test_vitals_start_at_150_and_move_one_point_a_report() -> None:
    fleet = Fleet(fleet_names(5), random.Random(11))
    rounds = run(fleet, 300)

    for i in range(5):
        for field in ("HealthPoints", "MagicPoints"):
            values = [150] + [int(str(r[i][field])) for r in rounds]
            assert {b - a for a, b in itertools.pairwise(values)} <= {-1, 0, 1}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_healthy_unicorns_never_reach_the_threshold_in_an_hour(seed: int) -> None:
    fleet = Fleet(fleet_names(5), random.Random(seed))

    lows = vitals_by_unicorn(run(fleet, 3600))

    assert min(min(v) for v in lows.values()) >= 140


@pytest.mark.parametrize("seed", range(20))
def test_by_default_a_minute_shows_an_alert_and_its_recovery(seed: int) -> None:
    # The defaults of `python -m producer`: 5 unicorns, ceil(5/3) = 2 unwell, 1 report/s.
    fleet = Fleet(fleet_names(5), random.Random(seed), unwell=2)

    lows = vitals_by_unicorn(run(fleet, 60))

    assert any(alerted_and_recovered(v) for v in lows.values())
    sick = {u.name for u in fleet.unwell}
    assert all(min(v) >= DEFAULT_THRESHOLD for name, v in lows.items() if name not in sick)


@pytest.mark.parametrize(("interval", "reports"), [(1.0, 60), (0.5, 120), (2.0, 30)])
def test_an_unwell_unicorn_declines_by_the_second_not_by_the_report(
    interval: float, reports: int
) -> None:
    fleet = Fleet(["Shadowfax"], random.Random(4), interval=interval, unwell=1)

    lows = vitals_by_unicorn(run(fleet, reports))["Shadowfax"]
    first_low = next(k for k, v in enumerate(lows) if v < DEFAULT_THRESHOLD)

    assert 20 <= first_low * interval <= 31
    assert min(lows) in range(70, 91)
    assert alerted_and_recovered(lows)


def test_a_faster_decline_alerts_sooner() -> None:
    fleet = Fleet(["Shadowfax"], random.Random(4), unwell=1, decline=10.0)

    lows = vitals_by_unicorn(run(fleet, 60))["Shadowfax"]

    assert next(k for k, v in enumerate(lows) if v < DEFAULT_THRESHOLD) <= 7


def test_without_unwell_unicorns_nobody_drops_below_100_in_a_minute() -> None:
    for seed in range(20):
        lows = vitals_by_unicorn(run(Fleet(fleet_names(5), random.Random(seed), unwell=0), 60))
        assert min(min(v) for v in lows.values()) >= DEFAULT_THRESHOLD


def test_illness_comes_back_in_a_long_run() -> None:
    fleet = Fleet(["Shadowfax"], random.Random(9), unwell=1)

    lows = vitals_by_unicorn(run(fleet, 300))["Shadowfax"]
    alerts = [k for k in range(1, len(lows)) if lows[k] < DEFAULT_THRESHOLD <= lows[k - 1]]

    assert len(alerts) >= 2
    assert all(0 <= v <= 1000 for v in lows)


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"names": []}, "at least one"),
        ({"names": ["A", "A"]}, "distinct"),
        ({"interval": 0.0}, "interval"),
        ({"interval": 500.0}, "interval"),
        ({"unwell": 3}, "unwell"),
        ({"decline": 0.0}, "decline"),
    ],
)
def test_a_fleet_that_cannot_be_simulated_is_refused(
    kwargs: dict[str, object], problem: str
) -> None:
    arguments: dict[str, object] = {"names": ["A", "B"], **kwargs}
    names = arguments.pop("names")
    assert isinstance(names, list)

    with pytest.raises(ValueError, match=problem):
        Fleet(names, random.Random(0), **arguments)  # type: ignore[arg-type]
