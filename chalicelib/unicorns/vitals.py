"""Each unicorn's latest status, and when its vitals open or close an incident.

An incident opens with the first report in which `HealthPoints` or
`MagicPoints` is below the threshold and closes with the first report in
which both are back at or above it. Reports not newer than the stored status
are ignored, which is what makes replaying a batch harmless.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal

from chalicelib.unicorns.records import Reading

VITALS = ("HealthPoints", "MagicPoints")

TransitionKind = Literal["alert", "recovery"]


@dataclass(frozen=True)
class Incident:
    """A stretch of time during which a unicorn has at least one low vital."""

    id: str
    started_at: str  # StatusTime of the report that opened it
    vitals: tuple[str, ...]  # the vitals that were low when it opened


@dataclass(frozen=True)
class Status:
    """The latest report of one unicorn and its alert state."""

    name: str
    status_time: str
    latitude: float
    longitude: float
    distance: float
    health: int
    magic: int
    low_vitals: tuple[str, ...]
    incident: Incident | None
    seen_at: float  # when the latest report reached the stream, epoch seconds

    @property
    def alerting(self) -> bool:
        return self.incident is not None

    def to_row(self) -> dict[str, Any]:
        """The public fields: what the API returns and the table stores."""
        incident = self.incident
        return {
            "Name": self.name,
            "StatusTime": self.status_time,
            "Latitude": self.latitude,
            "Longitude": self.longitude,
            "Distance": self.distance,
            "HealthPoints": self.health,
            "MagicPoints": self.magic,
            "LowVitals": list(self.low_vitals),
            "AlertState": "alert" if self.alerting else "ok",
            "Incident": None
            if incident is None
            else {
                "Id": incident.id,
                "StartedAt": incident.started_at,
                "Vitals": list(incident.vitals),
            },
            "SeenAt": self.seen_at,
        }


@dataclass(frozen=True)
class Transition:
    """An incident opening ("alert") or closing ("recovery") at `reading`."""

    kind: TransitionKind
    reading: Reading
    incident: Incident
    low_vitals: tuple[str, ...]


def low_vitals(reading: Reading, threshold: int) -> tuple[str, ...]:
    """The vitals of `reading` below `threshold`, in `VITALS` order."""
    low = []
    if reading.health < threshold:
        low.append("HealthPoints")
    if reading.magic < threshold:
        low.append("MagicPoints")
    return tuple(low)


def advance(
    previous: Status | None,
    readings: Iterable[Reading],
    threshold: int,
    seen_at: float,
) -> tuple[Status | None, list[Transition]]:
    """The status after `readings` (one unicorn's, in stream order).

    Returns None for the status when no reading is newer than `previous`,
    meaning there is nothing to write; the transitions say which alert and
    recovery messages are due.
    """
    status = previous
    transitions: list[Transition] = []
    for reading in readings:
        if status is not None and reading.status_time <= status.status_time:
            continue
        low = low_vitals(reading, threshold)
        incident = status.incident if status is not None else None
        if incident is None and low:
            incident = Incident(f"{reading.name}@{reading.status_time}", reading.status_time, low)
            transitions.append(Transition("alert", reading, incident, low))
        elif incident is not None and not low:
            transitions.append(Transition("recovery", reading, incident, low))
            incident = None
        status = Status(
            name=reading.name,
            status_time=reading.status_time,
            latitude=reading.latitude,
            longitude=reading.longitude,
            distance=reading.distance,
            health=reading.health,
            magic=reading.magic,
            low_vitals=low,
            incident=incident,
            seen_at=seen_at,
        )
    if status is previous:
        return None, []
    assert status is not None
    if previous is not None and seen_at < previous.seen_at:  # pragma: no mutate: same if equal
        status = replace(status, seen_at=previous.seen_at)
    return status, transitions
