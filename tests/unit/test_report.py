"""The report's pieces: incidents from per-window minima, thinning trails, the scale bar."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from chalicelib.unicorns.report import Point, UnicornHour, incidents, thin
from chalicelib.unicorns.report_html import project, scale_bar
from chalicelib.unicorns.vitals import Incident as OpenIncident
from chalicelib.unicorns.vitals import Status
from tests.readings import SUMMARY


def window(minute: int, *, health: int = 150, magic: int = 150) -> object:
    start = f"2026-11-22 14:{minute:02d}"
    return replace(
        SUMMARY,
        status_time=f"{start}:00.000",
        first_status_time=f"{start}:00.500",
        last_status_time=f"{start}:59.500",
        min_health=health,
        min_magic=magic,
    )


def status(alerting: bool) -> Status:
    incident = (
        OpenIncident("i-1", "2026-11-22 14:58:10.000", ("MagicPoints",)) if alerting else None
    )
    return Status(
        "Shadowfax", "2026-11-22 14:59:59.000", 40.7, -73.9, 10.0, 150, 80, (), incident, 0.0
    )


def test_consecutive_low_windows_are_one_incident_and_a_gap_starts_another() -> None:
    hour = UnicornHour(
        "Shadowfax",
        summaries=[
            window(1),
            window(2, health=90),
            window(3, magic=70),
            window(4),
            window(5, health=99),
        ],
    )
    first, second = sorted(incidents([hour], 100), key=lambda i: i.started)
    assert (first.started, first.ended) == ("2026-11-22 14:02:00.500", "2026-11-22 14:03:59.500")
    assert first.vitals == ("HealthPoints", "MagicPoints") and first.lowest == 70
    assert second.vitals == ("HealthPoints",) and second.ended == "2026-11-22 14:05:59.500"


def test_the_last_stretch_is_open_while_the_unicorn_is_alerting() -> None:
    hour = UnicornHour(
        "Shadowfax", summaries=[window(2), window(1, magic=80)], status=status(True)
    )
    # Recovered in the last window, alerting again since: the new one is open.
    assert [i.ended for i in incidents([hour], 100)] == [None, "2026-11-22 14:01:59.500"]

    still = UnicornHour(
        "Shadowfax", summaries=[window(1), window(2, magic=80)], status=status(True)
    )
    assert [i.ended for i in incidents([still], 100)] == [None]


def test_an_alert_without_a_closed_low_window_yet_is_an_open_incident() -> None:
    hour = UnicornHour("Shadowfax", summaries=[window(1)], status=status(True))
    (incident,) = incidents([hour], 100)
    assert incident.ended is None
    assert incident.started == "2026-11-22 14:58:10.000" and incident.vitals == ("MagicPoints",)
    assert (
        incidents([UnicornHour("Shadowfax", summaries=[window(1)], status=status(False))], 100)
        == []
    )


@pytest.mark.parametrize("count", [0, 1, 5, 240, 241, 10_000])
def test_thinning_keeps_at_most_the_limit_with_both_ends(count: int) -> None:
    points = [Point(f"{n:06d}", 0.0, float(n)) for n in range(count)]
    kept = thin(points, 240)
    assert len(kept) == min(count, 240)
    if count:
        assert kept[0] == points[0] and kept[-1] == points[-1]
        assert kept == sorted(kept, key=lambda p: p.status_time)


@pytest.mark.parametrize(
    ("metres_per_pixel", "label"), [(0.1, "10 m"), (1.0, "100 m"), (4.0, "200 m"), (50.0, "5 km")]
)
def test_the_scale_bar_is_a_round_length_of_at_most_120_pixels(
    metres_per_pixel: float, label: str
) -> None:
    bar = scale_bar(metres_per_pixel, 0, 100)
    assert f">{label}<" in bar
    pixels = float(re.search(r"h([\d.]+)v", bar).group(1))  # type: ignore[union-attr]
    assert 48 <= pixels <= 120


def test_web_mercator_keeps_east_and_north_and_stretches_away_from_the_equator() -> None:
    x0, y0 = project(0.0, 0.0)
    x1, y1 = project(0.001, 0.001)
    assert x1 > x0 and y1 > y0
    # A degree of latitude spans more projected metres at 60° than at the equator.
    assert project(60.001, 0)[1] - project(60, 0)[1] > (y1 - y0) * 1.9
