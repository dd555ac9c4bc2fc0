"""The fare watch's rule: quiet on ordinary days, one alert and one recovery for a spike."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date

import pytest

from chalicelib.taxi.fares import (
    Assessment,
    FareRule,
    Transition,
    ZoneFares,
    advance,
    assess,
    render,
    zone_fares_from_row,
)
from chalicelib.taxi.records import Trip
from chalicelib.taxi.summaries import ZoneWindow, partials
from producer.taxi import FareSpike, TaxiDay

RULE = FareRule()
DAY = date(2026, 11, 23)


def watch(trips: list[Trip], rule: FareRule = RULE) -> dict[int, list[Transition]]:
    """Each zone's transitions, its windows assessed one after another as they complete."""
    by_zone: dict[int, list[ZoneWindow]] = defaultdict(list)
    for window in sorted(partials(trips, "p").values(), key=lambda w: w.key):
        by_zone[window.zone].append(window)
    found: dict[int, list[Transition]] = {}
    for zone, windows in by_zone.items():
        state: ZoneFares | None = None
        for window in windows:
            new, transitions = advance(state, [assess(window, windows, rule)], rule)
            state = new or state
            found.setdefault(zone, []).extend(transitions)
    return found


@pytest.mark.parametrize(("per_day", "seed"), [(50_000, 3), (20_000, 7), (10_000, 5), (5_000, 1)])
def test_an_ordinary_day_peaks_and_surges_included_raises_no_alert(
    per_day: int, seed: int
) -> None:
    trips = TaxiDay(DAY, per_day, seed=seed).trips(0, 24 * 3600)

    assert {zone: t for zone, t in watch(trips).items() if t} == {}


def test_a_meter_charging_double_for_an_hour_is_one_alert_and_one_recovery() -> None:
    spike = FareSpike(zone=161, start=11.0, end=12.0)
    trips = TaxiDay(DAY, 20_000, seed=7, spikes=(spike,)).trips(0, 24 * 3600)

    found = {zone: t for zone, t in watch(trips).items() if t}

    assert set(found) == {161}
    alert, recovery = found[161]
    assert (alert.kind, recovery.kind) == ("alert", "recovery")
    assert alert.state.window_start == "2026-11-23 11:00:00.000"
    assert recovery.state.window_start == "2026-11-23 12:00:00.000"
    assert alert.incident == recovery.incident  # the incident kept its baseline throughout
    assert alert.state.deviation is not None and alert.state.deviation > 0.8


def window(start: str, trips: int, dollars_a_mile: float, zone: int = 161) -> ZoneWindow:
    miles = 2 * trips
    fares = round(dollars_a_mile * miles * 100)
    return ZoneWindow(zone, start, trips, fares, fares, miles * 1000, 0, 0, frozenset({start}))


def hour_before(fpm: float = 4.0, trips: int = 20) -> list[ZoneWindow]:
    return [window(f"2026-11-23 10:{m:02d}:00.000", trips, fpm) for m in (0, 15, 30, 45)]


def test_the_baseline_is_the_hour_before_weighted_by_miles() -> None:
    history = [*hour_before(4.0), window("2026-11-23 09:45:00.000", 20, 100.0)]
    current = window("2026-11-23 11:00:00.000", 20, 8.0)

    assert assess(current, history, RULE) == Assessment(current, 4.0)
    # $10.00 over 3 miles in each window: $3.3333 a mile, to four places.
    thirds = [ZoneWindow(161, w.window_start, 10, 1000, 1000, 3000) for w in hour_before()]
    assert assess(current, thirds, RULE).baseline == 3.3333
    # Too few trips in the hour before: no baseline, nothing judged.
    thin = hour_before(4.0, trips=5)
    assert assess(current, thin, RULE).baseline is None
    assert advance(None, [assess(current, thin, RULE)], RULE)[1] == []


def test_a_window_with_few_trips_is_not_judged() -> None:
    few = window("2026-11-23 11:00:00.000", RULE.min_trips - 1, 9.0)

    state, transitions = advance(None, [assess(few, hour_before(), RULE)], RULE)

    assert transitions == []
    assert state is not None and not state.alerting


def test_an_older_window_changes_nothing_and_the_same_one_is_assessed_anew() -> None:
    history = hour_before()
    now = window("2026-11-23 11:00:00.000", 20, 4.1)
    state, _ = advance(None, [assess(now, history, RULE)], RULE)

    older = window("2026-11-23 10:45:00.000", 20, 9.0)
    assert advance(state, [assess(older, history, RULE)], RULE) == (None, [])
    # Later partials of the same window make it anomalous after all.
    fuller = window("2026-11-23 11:00:00.000", 40, 9.0)
    again, transitions = advance(state, [assess(fuller, history, RULE)], RULE)
    assert [t.kind for t in transitions] == ["alert"]
    assert again is not None and again.alerting
    # The same sums once more: nothing to write.
    assert advance(again, [assess(fuller, history, RULE)], RULE) == (None, [])


def test_undercharging_alerts_too_and_recovery_needs_to_be_well_within_the_baseline() -> None:
    history = hour_before(4.0)
    low = window("2026-11-23 11:00:00.000", 20, 1.9)
    state, transitions = advance(None, [assess(low, history, RULE)], RULE)
    assert [t.kind for t in transitions] == ["alert"]

    halfway = window("2026-11-23 11:15:00.000", 20, 2.9)  # -27 %: not back yet
    state2, transitions = advance(state, [assess(halfway, [*history, low], RULE)], RULE)
    assert transitions == [] and state2 is not None and state2.alerting
    back = window("2026-11-23 11:30:00.000", 20, 3.8)
    _, transitions = advance(state2, [assess(back, [*history, low, halfway], RULE)], RULE)
    assert [t.kind for t in transitions] == ["recovery"]


def test_the_state_survives_its_row() -> None:
    state, _ = advance(
        None, [assess(window("2026-11-23 11:00:00.000", 20, 9.0), hour_before(), RULE)], RULE
    )
    assert state is not None
    assert zone_fares_from_row(state.to_row()) == state
    assert state.to_row()["AlertState"] == "alert"


def test_the_alert_email_says_where_how_much_and_where_to_look() -> None:
    current = window("2026-11-23 11:00:00.000", 20, 9.0)
    _, (transition,) = advance(None, [assess(current, hour_before(), RULE)], RULE)

    note = render(transition, RULE, "https://api.example/api/")

    assert note.subject == (
        "[Wild Rydes taxi] Midtown Center (zone 161): fare per mile 125% above its last hour"
    )
    assert note.id == "zone-161@2026-11-23 11:00:00.000/alert"
    assert note.attributes == {"zone": "161", "kind": "alert", "dataset": "taxi"}
    assert "$9.00 a mile from 2026-11-23 11:00 to 11:15 UTC, against $4.00" in note.message
    assert (
        "'https://api.example/api/taxi/fares?zone=161&from=2026-11-23T09:00:00.000Z"
        "&to=2026-11-23T13:00:00.000Z'" in note.message
    )


def test_the_stored_row_holds_the_baseline_deviation_and_alert_state_the_api_shows() -> None:
    """`/taxi/fares` and `/taxi/alerts` answer from this row: a null baseline, a missing
    deviation or every zone shown in alert would be what a user sees."""
    calm, _ = advance(
        None, [assess(window("2026-11-23 11:00:00.000", 20, 4.4), hour_before(4.0), RULE)], RULE
    )
    assert calm is not None
    assert calm.to_row() == {
        "Zone": 161,
        "WindowStart": "2026-11-23 11:00:00.000",
        "Trips": 20,
        "FarePerMile": 4.4,
        "Baseline": 4.0,
        "Deviation": 0.1,
        "AlertState": "ok",
        "Incident": None,
    }
    alerting, _ = advance(
        None, [assess(window("2026-11-23 11:00:00.000", 20, 9.0), hour_before(4.0), RULE)], RULE
    )
    assert alerting is not None
    assert alerting.to_row() == {
        "Zone": 161,
        "WindowStart": "2026-11-23 11:00:00.000",
        "Trips": 20,
        "FarePerMile": 9.0,
        "Baseline": 4.0,
        "Deviation": 1.25,
        "AlertState": "alert",
        "Incident": {
            "Id": "zone-161@2026-11-23 11:00:00.000",
            "StartedAt": "2026-11-23 11:00:00.000",
            "Baseline": 4.0,
        },
    }


def test_fares_that_drop_by_half_are_emailed_as_below_not_above() -> None:
    current = window("2026-11-23 11:00:00.000", 20, 2.0)  # exactly -50 %: alerts
    _, (transition,) = advance(None, [assess(current, hour_before(4.0), RULE)], RULE)

    note = render(transition, RULE, None)

    assert note.subject.endswith("fare per mile 50% below its last hour")
    assert "Deviation:      -50% (alert at 50% either way)" in note.message


def test_a_window_without_miles_cannot_be_emailed_about() -> None:
    # advance() never judges one; an email with no fare per mile would say nothing.
    current = window("2026-11-23 11:00:00.000", 20, 2.0)
    _, (transition,) = advance(None, [assess(current, hour_before(4.0), RULE)], RULE)
    milesless = replace(transition, state=replace(transition.state, fare_per_mile=None))
    with pytest.raises(
        ValueError, match=r"^zone 161 at 2026-11-23 11:00:00.000: no fare per mile$"
    ):
        render(milesless, RULE, None)


def test_a_late_window_in_a_batch_does_not_hide_the_newer_ones_after_it() -> None:
    """Late partials of an old window arrive with a new one: the new one is still judged."""
    history = hour_before()
    now = window("2026-11-23 11:00:00.000", 20, 4.1)
    state, _ = advance(None, [assess(now, history, RULE)], RULE)
    late = window("2026-11-23 10:45:00.000", 25, 4.0)
    spike = window("2026-11-23 11:15:00.000", 20, 9.0)
    seen = [*history, now]

    after, transitions = advance(
        state, [assess(late, seen, RULE), assess(spike, seen, RULE)], RULE
    )

    assert [t.kind for t in transitions] == ["alert"]
    assert after is not None and after.window_start == spike.window_start


def baseline_of(trips: list[int], fpm: float = 4.0) -> list[ZoneWindow]:
    """The hour before 11:00 with these trips in its four windows."""
    return [
        window(f"2026-11-23 10:{m:02d}:00.000", n, fpm)
        for m, n in zip((0, 15, 30, 45), trips, strict=True)
    ]


@pytest.mark.parametrize(
    ("dollars_a_mile", "trips", "baseline_trips", "alerts"),
    [
        (6.0, 20, [20] * 4, True),  # exactly +50 %: out of line
        (5.99, 20, [20] * 4, False),  # just under
        (2.0, 20, [20] * 4, True),  # exactly -50 %
        (9.0, RULE.min_trips, [20] * 4, True),  # exactly the trips a window needs
        (9.0, RULE.min_trips - 1, [20] * 4, False),
        (9.0, 20, [8, 8, 7, 7], True),  # exactly the baseline's 30 trips
        (9.0, 20, [8, 7, 7, 7], False),  # 29: no baseline, nothing judged
    ],
)
def test_the_rules_limits_are_where_the_docstring_puts_them(
    dollars_a_mile: float, trips: int, baseline_trips: list[int], alerts: bool
) -> None:
    current = window("2026-11-23 11:00:00.000", trips, dollars_a_mile)
    _, transitions = advance(None, [assess(current, baseline_of(baseline_trips), RULE)], RULE)
    assert [t.kind for t in transitions] == (["alert"] if alerts else [])


@pytest.mark.parametrize(
    ("dollars_a_mile", "recovers"),
    [(5.0, False), (4.99, True), (3.0, False), (3.01, True)],  # exactly 25 % off: not yet
)
def test_recovery_needs_the_fares_strictly_within_a_quarter_of_the_baseline(
    dollars_a_mile: float, recovers: bool
) -> None:
    opened, _ = advance(
        None, [assess(window("2026-11-23 11:00:00.000", 20, 9.0), hour_before(4.0), RULE)], RULE
    )
    later = window("2026-11-23 11:15:00.000", 20, dollars_a_mile)
    _, transitions = advance(opened, [assess(later, hour_before(4.0), RULE)], RULE)
    assert [t.kind for t in transitions] == (["recovery"] if recovers else [])


OPENINGS = {
    "alert": "Fares in Midtown Center (zone 161) are out of line: $6.00 a mile from "
    "2026-11-23 11:00 to 11:15 UTC, against $4.00 over the hour before.",
    "recovery": "Fares in Midtown Center (zone 161) are back in line: $4.20 a mile from "
    "2026-11-23 11:15 to 11:30 UTC, within 25% of $4.00.",
}
CURL = (
    """  curl -H "x-api-key: $API_KEY" '{api}/taxi/fares?zone=161"""
    "&from=2026-11-23T09:00:00.000Z&to=2026-11-23T13:00:00.000Z'"
)
FARE_EMAILS = {
    "alert": """\
{opening}

Zone:           Midtown Center (zone 161)
Window:         2026-11-23 11:00 to 11:15 UTC (20 trips)
Fare per mile:  $6.00
Usual:          $4.00 (the hour before the incident)
Deviation:      +50% (alert at 50% either way)
Incident:       zone-161@2026-11-23 11:00:00.000

Its fares, window by window, two hours either side of the incident's start:
{curl}

You will get one more message when its fare per mile is back within 25% of $4.00.
No other message is sent for zone 161 while it stays out of line.

-- \n\
Wild Rydes taxi fare watch
""",
    "recovery": """\
{opening}

Zone:           Midtown Center (zone 161)
Window:         2026-11-23 11:15 to 11:30 UTC (20 trips)
Fare per mile:  $4.20
Usual:          $4.00 (the hour before the incident)
Deviation:      +5% (alert at 50% either way)
Incident:       zone-161@2026-11-23 11:00:00.000

Its fares, window by window, two hours either side of the incident's start:
{curl}

The incident opened with the window from 2026-11-23 11:00 UTC.

-- \n\
Wild Rydes taxi fare watch
""",
}


@pytest.mark.parametrize(
    ("api_url", "shown"),
    [("https://api.example/api/", "https://api.example/api"), (None, "$API_URL")],
)
def test_the_whole_alert_and_recovery_emails_as_the_fare_desk_reads_them(
    api_url: str | None, shown: str
) -> None:
    spike = window("2026-11-23 11:00:00.000", 20, 6.0)  # +50 %: an alert
    back = window("2026-11-23 11:15:00.000", 20, 4.2)  # +5 %: a recovery
    assessed = [assess(w, hour_before(4.0), RULE) for w in (spike, back)]
    _, (alert, recovery) = advance(None, assessed, RULE)

    emails = {t.kind: render(t, RULE, api_url) for t in (alert, recovery)}

    name = "[Wild Rydes taxi] Midtown Center (zone 161)"
    assert emails["alert"].subject == f"{name}: fare per mile 50% above its last hour"
    assert emails["recovery"].subject == f"{name}: fares back in line"
    for kind, email in emails.items():
        curl = CURL.format(api=shown)
        assert email.message == FARE_EMAILS[kind].format(opening=OPENINGS[kind], curl=curl)


def test_an_absurd_spike_in_the_longest_named_zone_still_has_a_subject_sns_takes() -> None:
    # 186 is Penn Station/Madison Sq West. A fare 1,000 times the usual (a data error)
    # reads 99900 % and fits SNS's 100 characters; 100,000 times is cut to them.
    history = [window(w.window_start, 20, 4.0, zone=186) for w in hour_before()]
    subjects = []
    for times in (1000, 100_000):
        spike = window("2026-11-23 11:00:00.000", 20, 4.0 * times, zone=186)
        _, (alert,) = advance(None, [assess(spike, history, RULE)], RULE)
        subjects.append(render(alert, RULE, None).subject)
    name = "[Wild Rydes taxi] Penn Station/Madison Sq West (zone 186)"
    assert subjects == [
        f"{name}: fare per mile 99900% above its last hour",
        f"{name}: fare per mile 9999900% above its last hou",
    ]
    assert [len(subject) for subject in subjects] == [99, 100]
