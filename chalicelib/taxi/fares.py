"""Fare anomalies: a pickup zone whose fare per mile strays far from its own recent past.

The taxi data set's alert rule, on the incident machinery the unicorns'
vitals use (`chalicelib.pipeline.incidents`). For each zone and 15-minute window:

- the *baseline* is the zone's fare per mile over the previous hour (its
  four windows before, weighted by miles: total fares over total miles), if
  they hold at least `min_baseline_trips` trips;
- a window with at least `min_trips` trips whose fare per mile is
  `threshold` (50 %) or more above or below its baseline opens an incident,
  which keeps that baseline (a sustained overcharge must not become the
  new normal);
- the incident closes at the first window back within `recovery` (25 %) of
  the incident's baseline.

One alert when an incident opens and one recovery when it closes, as for a
unicorn's vitals. Windows are assessed in order of their start; a window
older than the last one assessed changes nothing (its late partials do not
reopen the past), the same window again is assessed anew with its fuller sums.

Why these numbers: the producer's day, peaks and surge included, moves a
zone's fare per mile by at most about 42 % against its previous hour
(`tests/unit/test_fares.py` checks several days), while a meter charging
double is +100 %.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from chalicelib.pipeline.notifications import Notification
from chalicelib.pipeline.timestamps import format_status_time, parse_status_time, to_iso
from chalicelib.taxi.records import zone_name
from chalicelib.taxi.summaries import WINDOW_MINUTES, ZoneWindow, window_end

Kind = Literal["alert", "recovery"]


@dataclass(frozen=True)
class FareRule:
    threshold: float = 0.5  # |fare per mile / baseline - 1| that opens an incident
    recovery: float = 0.25  # ... and under which it closes
    min_trips: int = 15  # trips a window needs to be judged
    baseline_windows: int = 4  # windows before it that make its baseline (an hour)
    min_baseline_trips: int = 30


@dataclass(frozen=True)
class FareIncident:
    id: str
    started_at: str  # WindowStart of the window that opened it
    baseline: float  # fare per mile before it, which it is measured against


@dataclass(frozen=True)
class Assessment:
    """One window of a zone and the baseline it is measured against (None: not enough)."""

    window: ZoneWindow
    baseline: float | None


@dataclass(frozen=True)
class ZoneFares:
    """The latest assessed window of one zone, and its alert state."""

    zone: int
    window_start: str
    trips: int
    fare_per_mile: float | None
    baseline: float | None
    incident: FareIncident | None

    @property
    def alerting(self) -> bool:
        return self.incident is not None

    @property
    def deviation(self) -> float | None:
        """Fare per mile against the baseline (the incident's while one is open)."""
        base = self.incident.baseline if self.incident else self.baseline
        if self.fare_per_mile is None or not base:
            return None
        return round(self.fare_per_mile / base - 1, 3)

    def to_row(self) -> dict[str, Any]:
        incident = self.incident
        return {
            "Zone": self.zone,
            "WindowStart": self.window_start,
            "Trips": self.trips,
            "FarePerMile": self.fare_per_mile,
            "Baseline": self.baseline,
            "Deviation": self.deviation,
            "AlertState": "alert" if self.alerting else "ok",
            "Incident": None
            if incident is None
            else {
                "Id": incident.id,
                "StartedAt": incident.started_at,
                "Baseline": incident.baseline,
            },
        }


def zone_fares_from_row(row: dict[str, Any]) -> ZoneFares:
    incident = row.get("Incident")
    return ZoneFares(
        zone=int(row["Zone"]),
        window_start=row["WindowStart"],
        trips=int(row["Trips"]),
        fare_per_mile=_maybe_float(row.get("FarePerMile")),
        baseline=_maybe_float(row.get("Baseline")),
        incident=None
        if not incident
        else FareIncident(incident["Id"], incident["StartedAt"], float(incident["Baseline"])),
    )


def _maybe_float(value: Any) -> float | None:
    return None if value is None else float(value)


def baseline_start(start: str, rule: FareRule) -> str:
    """The first window start whose window counts towards the baseline of `start`'s."""
    before = parse_status_time(start) - timedelta(minutes=WINDOW_MINUTES * rule.baseline_windows)
    return format_status_time(before)


def assess(window: ZoneWindow, history: Iterable[ZoneWindow], rule: FareRule) -> Assessment:
    """`window` with its baseline, from the zone's windows in `history` (any order, any span)."""
    first = baseline_start(window.window_start, rule)
    before = [w for w in history if first <= w.window_start < window.window_start]
    trips = sum(w.trips for w in before)
    miles = sum(w.milli_miles for w in before)
    if trips < rule.min_baseline_trips or not miles:
        return Assessment(window, None)
    return Assessment(window, round(sum(w.moving_fares for w in before) * 10 / miles, 4))


@dataclass(frozen=True)
class Transition:
    kind: Kind
    state: ZoneFares  # the zone's state after the window that made it
    incident: FareIncident


def advance(
    previous: ZoneFares | None, assessments: Iterable[Assessment], rule: FareRule
) -> tuple[ZoneFares | None, list[Transition]]:
    """The zone's state after the assessed windows; None if none is as new as `previous`."""
    state = previous
    transitions: list[Transition] = []
    for assessment in sorted(assessments, key=lambda a: a.window.window_start):
        window = assessment.window
        if state is not None and window.window_start < state.window_start:
            continue
        incident = state.incident if state is not None else None
        fpm = window.fare_per_mile
        judged = fpm is not None and window.trips >= rule.min_trips
        kind: Kind | None = None
        if judged and fpm is not None and incident is not None:
            if abs(fpm / incident.baseline - 1) < rule.recovery:
                kind = "recovery"
        elif (
            judged
            and fpm is not None
            and assessment.baseline
            and abs(fpm / assessment.baseline - 1) >= rule.threshold
        ):
            incident = FareIncident(
                f"zone-{window.zone}@{window.window_start}",
                window.window_start,
                assessment.baseline,
            )
            kind = "alert"
        state = ZoneFares(
            zone=window.zone,
            window_start=window.window_start,
            trips=window.trips,
            fare_per_mile=fpm,
            baseline=assessment.baseline,
            incident=None if kind == "recovery" else incident,
        )
        if kind is not None and incident is not None:
            transitions.append(Transition(kind, state, incident))
    if state == previous:
        return None, []
    return state, transitions


def render(transition: Transition, rule: FareRule, api_url: str | None) -> Notification:
    """The email for a fare incident opening or closing."""
    state, incident = transition.state, transition.incident
    per_mile = state.fare_per_mile
    if per_mile is None:  # advance() judges no window without miles
        raise ValueError(f"zone {state.zone} at {state.window_start}: no fare per mile")
    name = f"{zone_name(state.zone)} (zone {state.zone})"
    deviation = per_mile / incident.baseline - 1
    # An alert's deviation is at least the threshold either way, never 0.
    direction = "above" if deviation > 0 else "below"  # pragma: no mutate: >= is the same
    window = f"{state.window_start[:16]} to {window_end(state.window_start)[11:16]} UTC"
    if transition.kind == "alert":
        subject = (
            f"[Wild Rydes taxi] {name}: fare per mile {abs(deviation):.0%} {direction} "
            "its last hour"
        )
        opening = (
            f"Fares in {name} are out of line: ${per_mile:.2f} a mile from {window}, "
            f"against ${incident.baseline:.2f} over the hour before."
        )
        closing = (
            f"You will get one more message when its fare per mile is back within "
            f"{rule.recovery:.0%} of ${incident.baseline:.2f}.\n"
            f"No other message is sent for zone {state.zone} while it stays out of line."
        )
    else:
        subject = f"[Wild Rydes taxi] {name}: fares back in line"
        opening = (
            f"Fares in {name} are back in line: ${per_mile:.2f} a mile from "
            f"{window}, within {rule.recovery:.0%} of ${incident.baseline:.2f}."
        )
        closing = f"The incident opened with the window from {incident.started_at[:16]} UTC."
    opened = parse_status_time(incident.started_at)
    since, until = to_iso(opened - timedelta(hours=2)), to_iso(opened + timedelta(hours=2))
    base = api_url.removesuffix("/") if api_url else "$API_URL"
    lines = [
        opening,
        "",
        f"Zone:           {name}",
        f"Window:         {window} ({state.trips} trips)",
        f"Fare per mile:  ${per_mile:.2f}",
        f"Usual:          ${incident.baseline:.2f} (the hour before the incident)",
        f"Deviation:      {deviation:+.0%} (alert at {rule.threshold:.0%} either way)",
        f"Incident:       {incident.id}",
        "",
        "Its fares, window by window, two hours either side of the incident's start:",
        f'  curl -H "x-api-key: $API_KEY" '
        f"'{base}/taxi/fares?zone={state.zone}&from={since}&to={until}'",
        "",
        closing,
        "",
        "-- ",
        "Wild Rydes taxi fare watch",
    ]
    return Notification(
        id=f"{incident.id}/{transition.kind}",
        subject=subject[:100],
        message="\n".join(lines) + "\n",
        attributes={"zone": str(state.zone), "kind": transition.kind, "dataset": "taxi"},
        at=state.window_start,
    )
