"""Taxi insights: per pickup zone and 15-minute window of pickup time, built from partial counts.

Trips reach the stream when they end, and a day may be replayed faster than
it happened, so a window of arrival (Lambda's tumbling window) holds trips of
many windows of pickup time. The insight of a zone's window is therefore
built from partial sums, one per arrival window that saw its trips, each with
an id: adding a partial whose id is already in is a no-op, so a retried batch
counts once, and partials may arrive in any order. Every figure is a ratio of
sums, so it is the same however the trips were split into partials:

- trips, revenue (the fares, tips left out: they go to the drivers);
- average fare = revenue / trips;
- fare per mile = the fares of trips that moved / their miles;
- tip % = card tips / card fares (cash tips are not recorded).

Sums are whole numbers (cents, thousandths of a mile), so that they are
exact and the figures do not depend on the order partials arrive in.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta

from chalicelib.pipeline import jsonrecords
from chalicelib.pipeline.jsonrecords import (
    InvalidRecord as InvalidRecord,  # parse_partial raises it
)
from chalicelib.pipeline.jsonrecords import bad, decode_object, integer
from chalicelib.pipeline.timestamps import format_status_time, is_status_time, parse_status_time
from chalicelib.taxi.records import MAX_ZONE, MIN_ZONE, Trip

WINDOW_MINUTES = 15


def window_start(time: str, minutes: int = WINDOW_MINUTES) -> str:
    """The start of the `minutes`-long window of the day that `time` (a StatusTime) falls in."""
    moment = parse_status_time(time)
    floored = moment.replace(
        minute=moment.minute - moment.minute % minutes,
        second=0,
        microsecond=0,  # pragma: no mutate: 1 is the same: StatusTime shows milliseconds
    )
    return format_status_time(floored)


def window_end(start: str, minutes: int = WINDOW_MINUTES) -> str:
    return format_status_time(parse_status_time(start) + timedelta(minutes=minutes))


# The sums a zone window holds: their names on the stream, in the table and in
# the archive's rows -> ZoneWindow's attributes, in a fixed order.
SUMS = {
    "Trips": "trips",
    "Fares": "fares",
    "MovingFares": "moving_fares",
    "MilliMiles": "milli_miles",
    "CardFares": "card_fares",
    "CardTips": "card_tips",
}


@dataclass(frozen=True)
class ZoneWindow:
    """Sums for one pickup zone and window, and the ids of the partials they hold."""

    zone: int
    window_start: str
    trips: int = 0
    fares: int = 0  # cents
    moving_fares: int = 0  # cents, of trips with a distance
    milli_miles: int = 0
    card_fares: int = 0  # cents
    card_tips: int = 0  # cents
    parts: frozenset[str] = field(default_factory=frozenset)

    @property
    def key(self) -> tuple[int, str]:
        return (self.zone, self.window_start)

    @property
    def revenue(self) -> float:
        return self.fares / 100

    @property
    def average_fare(self) -> float | None:
        return round(self.fares / 100 / self.trips, 2) if self.trips else None

    @property
    def fare_per_mile(self) -> float | None:
        return round(self.moving_fares * 10 / self.milli_miles, 2) if self.milli_miles else None

    @property
    def tip_percent(self) -> float | None:
        return round(100 * self.card_tips / self.card_fares, 1) if self.card_fares else None

    def add_trip(self, trip: Trip) -> ZoneWindow:
        """These sums with one more trip (of this zone and window)."""
        fare, tip = round(trip.fare * 100), round(trip.tip * 100)
        milli_miles = round(trip.distance * 1000)
        card = trip.payment_type == "card"
        return replace(
            self,
            trips=self.trips + 1,
            fares=self.fares + fare,
            moving_fares=self.moving_fares + (fare if milli_miles else 0),
            milli_miles=self.milli_miles + milli_miles,
            card_fares=self.card_fares + (fare if card else 0),
            card_tips=self.card_tips + (tip if card else 0),
        )

    def merge(self, partial: ZoneWindow) -> ZoneWindow:
        """These sums and a partial's, unless all of its parts are in already."""
        if partial.key != self.key:
            raise ValueError(f"cannot merge {partial.key} into {self.key}")
        if partial.parts <= self.parts:
            return self
        if partial.parts & self.parts:
            raise ValueError(
                f"partials of {self.key} overlap in part: {sorted(partial.parts & self.parts)}"
            )
        return ZoneWindow(
            zone=self.zone,
            window_start=self.window_start,
            parts=self.parts | partial.parts,
            **{a: getattr(self, a) + getattr(partial, a) for a in SUMS.values()},
        )

    def sums(self) -> list[int]:
        """The sums in `SUMS` order."""
        return [getattr(self, a) for a in SUMS.values()]

    def insight(self) -> dict[str, object]:
        """What the API shows of this zone's window."""
        return {
            "zone": self.zone,
            "windowStart": self.window_start,
            "windowEnd": window_end(self.window_start),
            "trips": self.trips,
            "revenue": self.revenue,
            "averageFare": self.average_fare,
            "farePerMile": self.fare_per_mile,
            "tipPercent": self.tip_percent,
        }


def merge_partials(
    existing: ZoneWindow | None, incoming: Iterable[ZoneWindow]
) -> ZoneWindow | None:
    """`existing` with every incoming partial it does not hold yet; None when nothing is new."""
    result = existing
    for partial in incoming:
        # merge() hands back the very window when it holds the partial already.
        result = partial if result is None else result.merge(partial)
    return None if result is existing else result


def fold_trip(windows: dict[tuple[int, str], ZoneWindow], trip: Trip) -> None:
    """Add `trip` to the sums of its pickup zone and window in `windows`."""
    key = (trip.pickup_zone, window_start(trip.pickup_time))
    current = windows.get(key) or ZoneWindow(*key)
    windows[key] = current.add_trip(trip)


def partials(trips: Iterable[Trip], part: str) -> dict[tuple[int, str], ZoneWindow]:
    """The trips' sums by (pickup zone, window of pickup), each a partial called `part`."""
    found: dict[tuple[int, str], ZoneWindow] = {}
    for trip in trips:
        fold_trip(found, trip)
    return {key: replace(w, parts=frozenset({part})) for key, w in found.items()}


def moving_average(values: list[float | None], width: int) -> list[float | None]:
    """The mean of each value and the `width - 1` before it, skipping gaps (None)."""
    if width < 1:
        raise ValueError("a moving average needs a width of at least 1")
    averages: list[float | None] = []
    for index in range(len(values)):
        seen = [v for v in values[max(0, index - width + 1) : index + 1] if v is not None]
        averages.append(round(sum(seen) / len(seen), 2) if seen else None)
    return averages


def encode_partial(window: ZoneWindow) -> bytes:
    """A partial as a summary-stream row: compact JSON and a newline."""
    row: dict[str, object] = {"Zone": window.zone, "WindowStart": window.window_start}
    row.update({name: getattr(window, a) for name, a in SUMS.items()})
    row["Parts"] = sorted(window.parts)
    return json.dumps(row, separators=(",", ":")).encode() + b"\n"


def parse_partial(data: bytes) -> ZoneWindow:
    """A partial from its row, or InvalidRecord saying what is wrong with it."""
    row = decode_object(data)
    return partial_from_json(row)


def partial_from_json(row: Mapping[str, object]) -> ZoneWindow:
    start = jsonrecords.field(row, "WindowStart")
    if type(start) is not str or not is_status_time(start) or window_start(start) != start:
        bad("WindowStart", start, "the start of a 15-minute window as a StatusTime")
    parts = jsonrecords.field(row, "Parts")
    if (
        type(parts) is not list
        or not parts
        or not all(type(p) is str and 0 < len(p) <= 256 for p in parts)
    ):
        bad("Parts", parts, "a list of 1 or more ids")
    counts = {
        a: integer(name, jsonrecords.field(row, name), 0, 10**15) for name, a in SUMS.items()
    }
    return ZoneWindow(
        zone=integer("Zone", jsonrecords.field(row, "Zone"), MIN_ZONE, MAX_ZONE),
        window_start=start,
        parts=frozenset(parts),
        **counts,
    )
