"""The taxi data set's read side behind the HTTP API: a day's peaks, a zone's fares, every zone.

`TaxiView` checks the parameters, reads `TaxiZoneWindows` and hands the
windows to the pure functions below, which shape the JSON-ready answers.
Figures over several windows are ratios of their summed counts, never means
of means; only the moving averages of `fares` average per-window figures.
Problems are the API's errors: 400 naming the parameter, 503 when the table
cannot be reached, never a stack trace.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from chalicelib.errors import InvalidParameter, ServiceUnavailable, available
from chalicelib.pipeline.timestamps import from_epoch
from chalicelib.taxi.fares import ZoneFares
from chalicelib.taxi.params import FaresQuery, PeaksQuery, fares_query, peaks_query, zones_day
from chalicelib.taxi.records import zone_name
from chalicelib.taxi.store import FareAlertStore, ZoneWindowStore
from chalicelib.taxi.summaries import ZoneWindow, moving_average, window_end

T = TypeVar("T")
LAST_STATUS_TIME = "9999-12-31 23:59:59.999"


class TaxiView:
    """Answers the taxi routes' questions from the zone-window table (and the fare watch's)."""

    def __init__(
        self,
        store: ZoneWindowStore,
        clock: Callable[[], float],
        alerts: FareAlertStore | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.alerts_store = alerts

    def alerts(self, params: Mapping[str, str] | None) -> dict[str, Any]:
        """The zones whose fares are out of line now: the fare watch's open incidents."""
        if params:
            raise InvalidParameter(min(params), "unknown parameter; /taxi/alerts takes none")
        store = self.alerts_store
        if store is None:
            raise ServiceUnavailable("the fare watch's table is not configured")
        open_ = _available(lambda: store.scan(alerting_only=True))
        rows = [fare_alert(state) for state in sorted(open_, key=lambda s: s.zone)]
        return {"alerts": rows, "count": len(rows)}

    def peaks(self, params: Mapping[str, str] | None) -> dict[str, Any]:
        query = peaks_query(params, from_epoch(self.clock()).date())
        return day_peaks(query, _available(lambda: self.store.day(query.day)))

    def fares(self, params: Mapping[str, str] | None) -> dict[str, Any]:
        query = fares_query(params, from_epoch(self.clock()))
        return fare_trend(
            query, _available(lambda: self.store.zone(query.zone, query.start, query.last))
        )

    def zones(self, params: Mapping[str, str] | None) -> dict[str, Any]:
        day = zones_day(params, from_epoch(self.clock()).date())
        rows = zone_rows(_available(lambda: self.store.day(day)))
        return {"date": day, "zones": rows, "count": len(rows)}


def fare_alert(state: ZoneFares) -> dict[str, Any]:
    """One zone's open fare incident, as `/taxi/alerts` lists it."""
    incident = state.incident
    return {
        "zone": state.zone,
        "name": zone_name(state.zone),
        "windowStart": state.window_start,
        "trips": state.trips,
        "farePerMile": state.fare_per_mile,
        "deviation": state.deviation,
        "incident": None
        if incident is None
        else {
            "id": incident.id,
            "startedAt": incident.started_at,
            "baseline": incident.baseline,
        },
    }


def day_peaks(query: PeaksQuery, windows: Iterable[ZoneWindow]) -> dict[str, Any]:
    """The day's demand window by window, and its busiest windows and zones."""
    windows = _with_trips(windows)
    by_start = _grouped(windows, lambda w: w.window_start)
    starts = sorted(by_start)
    busiest = sorted(starts, key=lambda start: (-_trips(by_start[start]), start))
    return {
        "date": query.day,
        "trips": _trips(windows),
        "revenue": _revenue(windows),
        "demand": [_demand(start, by_start[start]) for start in starts],
        "busiestWindows": [
            {**_demand(start, by_start[start]), "busiestZone": _busiest_zone(by_start[start])}
            for start in busiest[: query.top]
        ],
        "busiestZones": zone_rows(windows)[: query.top],
    }


def zone_rows(windows: Iterable[ZoneWindow]) -> list[dict[str, Any]]:
    """Each zone's figures over all its windows, busiest first (then by zone number)."""
    by_zone = _grouped(_with_trips(windows), lambda w: w.zone)
    rows = []
    for zone, own in by_zone.items():
        total = _total(own)
        peak = min(own, key=lambda w: (-w.trips, w.window_start))
        rows.append(
            {
                "zone": zone,
                "name": zone_name(zone),
                "trips": total.trips,
                "revenue": total.revenue,
                "averageFare": total.average_fare,
                "farePerMile": total.fare_per_mile,
                "tipPercent": total.tip_percent,
                "peakWindow": peak.window_start,
            }
        )
    return sorted(rows, key=lambda row: (-row["trips"], row["zone"]))


def fare_trend(query: FaresQuery, windows: Iterable[ZoneWindow]) -> dict[str, Any]:
    """A zone's fares window by window, with moving averages over the last `average` shown."""
    points = sorted(_with_trips(windows), key=lambda w: w.window_start)
    fares = moving_average([w.average_fare for w in points], query.average)
    per_mile = moving_average([w.fare_per_mile for w in points], query.average)
    return {
        "zone": query.zone,
        "name": zone_name(query.zone),
        "from": query.start,
        "to": query.end,
        "averageOver": query.average,
        "points": [
            {
                "windowStart": w.window_start,
                "windowEnd": _end(w.window_start),
                "trips": w.trips,
                "averageFare": w.average_fare,
                "farePerMile": w.fare_per_mile,
                "tipPercent": w.tip_percent,
                "movingAverageFare": fare,
                "movingAverageFarePerMile": mile,
            }
            for w, fare, mile in zip(points, fares, per_mile, strict=True)
        ],
    }


def _with_trips(windows: Iterable[ZoneWindow]) -> list[ZoneWindow]:
    return [w for w in windows if w.trips > 0]


def _grouped(
    windows: list[ZoneWindow], key: Callable[[ZoneWindow], T]
) -> dict[T, list[ZoneWindow]]:
    groups: dict[T, list[ZoneWindow]] = defaultdict(list)
    for window in windows:
        groups[key(window)].append(window)
    return dict(groups)


def _total(windows: list[ZoneWindow]) -> ZoneWindow:
    """One zone's windows summed, as one window (at the first's start) holding no parts.

    Not `ZoneWindow.merge`: that joins partials of the same window.
    """
    return ZoneWindow(
        zone=windows[0].zone,
        window_start=windows[0].window_start,
        trips=_trips(windows),
        fares=sum(w.fares for w in windows),
        moving_fares=sum(w.moving_fares for w in windows),
        milli_miles=sum(w.milli_miles for w in windows),
        card_fares=sum(w.card_fares for w in windows),
        card_tips=sum(w.card_tips for w in windows),
    )


def _trips(windows: list[ZoneWindow]) -> int:
    return sum(w.trips for w in windows)


def _revenue(windows: list[ZoneWindow]) -> float:
    return sum(w.fares for w in windows) / 100  # summed in cents, so exact


def _demand(start: str, windows: list[ZoneWindow]) -> dict[str, Any]:
    return {
        "windowStart": start,
        "windowEnd": _end(start),
        "trips": _trips(windows),
        "revenue": _revenue(windows),
    }


def _end(start: str) -> str:
    try:
        return window_end(start)
    except OverflowError:  # 9999-12-31 23:45's end is past the last StatusTime; a trip may be
        return LAST_STATUS_TIME


def _busiest_zone(windows: list[ZoneWindow]) -> dict[str, Any]:
    busiest = min(windows, key=lambda w: (-w.trips, w.zone))
    return {"zone": busiest.zone, "name": zone_name(busiest.zone), "trips": busiest.trips}


def _available(read: Callable[[], T]) -> T:
    return available(read, "the taxi data")
