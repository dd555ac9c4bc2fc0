"""Incidents: one alert when a vital drops below the threshold, one recovery when both are back."""

from __future__ import annotations

import pytest

from chalicelib.unicorns.vitals import advance, low_vitals
from tests.readings import reading

THRESHOLD = 100


def series(*points: tuple[int, int]) -> list:
    """Readings a second apart with the given (health, magic)."""
    return [
        reading(status_time=f"2026-11-22 14:05:{n:02d}.000", health=h, magic=m)
        for n, (h, m) in enumerate(points)
    ]


def kinds(points: list, previous=None) -> list[str]:
    _, transitions = advance(previous, points, THRESHOLD, seen_at=1.0)
    return [t.kind for t in transitions]


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        ([(150, 150), (120, 101)], []),
        ([(150, 150), (99, 150)], ["alert"]),
        ([(99, 150), (98, 150), (97, 150)], ["alert"]),
        ([(99, 150), (99, 99), (150, 99)], ["alert"]),
        ([(99, 150), (100, 100)], ["alert", "recovery"]),
        ([(99, 150), (100, 99), (100, 100)], ["alert", "recovery"]),
        ([(99, 150), (150, 150), (150, 98)], ["alert", "recovery", "alert"]),
        ([(100, 100)], []),
    ],
)
def test_one_message_per_change_of_incident(
    points: list[tuple[int, int]], expected: list[str]
) -> None:
    assert kinds(series(*points)) == expected


def test_the_alert_names_the_vitals_that_are_low() -> None:
    _, (alert,) = advance(None, series((90, 95)), THRESHOLD, 1.0)
    assert alert.low_vitals == ("HealthPoints", "MagicPoints")
    assert alert.incident.vitals == ("HealthPoints", "MagicPoints")
    assert alert.incident.started_at == "2026-11-22 14:05:00.000"
    assert low_vitals(reading(health=100, magic=99), THRESHOLD) == ("MagicPoints",)


def test_the_status_is_the_latest_report_and_remembers_the_open_incident() -> None:
    status, _ = advance(None, series((150, 150), (99, 150), (98, 150)), THRESHOLD, 7.5)
    assert status is not None
    assert (status.status_time, status.health) == ("2026-11-22 14:05:02.000", 98)
    assert status.alerting and status.low_vitals == ("HealthPoints",)
    assert status.seen_at == 7.5
    # The next batch continues the same incident: no second alert.
    assert kinds(series((97, 150), (96, 150))[1:], previous=status) == []


def test_reports_not_newer_than_the_stored_status_change_nothing() -> None:
    points = series((150, 150), (99, 150))
    status, _ = advance(None, points, THRESHOLD, 5.0)
    assert advance(status, points, THRESHOLD, 6.0) == (None, [])
    assert advance(status, points[:1], THRESHOLD, 6.0) == (None, [])


def test_seen_at_never_goes_back() -> None:
    first, _ = advance(None, series((150, 150)), THRESHOLD, 10.0)
    later = [reading(status_time="2026-11-22 14:06:00.000")]
    second, _ = advance(first, later, THRESHOLD, 9.0)
    assert second is not None and second.seen_at == 10.0


def test_a_late_report_in_a_batch_does_not_hide_the_newer_ones_after_it() -> None:
    """A retried or reordered batch may carry a report older than the stored status
    between newer ones: the unicorn that fell ill after it must still be alerted on."""
    status, _ = advance(None, series((150, 150), (150, 150)), THRESHOLD, 1.0)
    late = reading(status_time="2026-11-22 14:05:00.500", health=150, magic=150)
    ill = reading(status_time="2026-11-22 14:05:05.000", health=90, magic=150)

    after, transitions = advance(status, [late, ill], THRESHOLD, 2.0)

    assert [t.kind for t in transitions] == ["alert"]
    assert after is not None and after.status_time == ill.status_time and after.health == 90
