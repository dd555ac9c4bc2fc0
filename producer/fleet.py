"""The simulated fleet: unicorns that move and report the way the workshop's producer does.

Pure: it draws from the `random.Random` it is handed and formats the wall time
it is handed, with no I/O and no clock of its own, so one seed fixes a whole
run. Simulated time advances one report interval per `Fleet.report` call,
whatever the wall clock says, which keeps a seeded run identical however
fast it is sent.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from chalicelib.pipeline.timestamps import format_status_time
from chalicelib.unicorns.records import MAX_DISTANCE, MAX_POINTS, Reading

# The workshop's movement model: everyone sets off from the same corner of
# Manhattan and flies a straight line at 29-31 m/s.
START_LATITUDE = 40.749167
START_LONGITUDE = -73.985184
METRES_PER_DEGREE_LATITUDE = 110_540.0
METRES_PER_DEGREE_LONGITUDE = 111_320.0  # at the equator; scaled by cos(latitude)
MIN_SPEED = 29.0  # metres a second
MAX_SPEED = 31.0
# The workshop's unicorns fly on forever, which an open-ended run cannot
# afford: at 30 m/s a straight line reaches a pole in about four days and
# the records then fail validation. Past this distance a unicorn turns round.
TURN_BACK_METRES = 100_000.0
# Reports further apart than this would move a unicorn further than the
# validator believes possible (chalicelib.unicorns.records.MAX_DISTANCE).
MAX_INTERVAL = MAX_DISTANCE / MAX_SPEED

# Vitals, tuned together; the alert threshold is 100 points.
#
# Every vital takes the workshop's -1/0/+1 step per report, leaned towards
# HOME_POINTS: the further out, the likelier the step back, and at REACH
# points out the step away becomes impossible. A healthy vital therefore
# stays within 140-160 however long the run, far from 100.
#
# An unwell unicorn's vital (HealthPoints or MagicPoints, alternating between
# unwell unicorns) takes the same walk, dragged down by an illness that
# deepens at `decline` points a second to SICK_DEPTH (a floor of 80 give or
# take the walk), then eases at HEAL_RATE points a second, stays away for
# WELL_SECONDS and comes back. With the default decline of 2 points a second
# the first unwell unicorn, taken ill as the run starts:
#   goes below 100 after about 25 s (by 31 s at the latest, whatever the walk),
#   bottoms out at about 80 at 35 s,
#   is back at 100 or more after about 45 s (by 50 s at the latest),
#   is back home at 70 s and is taken ill again at 130 s;
# so a one-minute run shows an alert and its recovery. The next unwell
# unicorns fall ill ONSET_STAGGER seconds apart so their alerts do not all
# fire at once.
HOME_POINTS = 150
REACH = 10
SICK_DEPTH = 70
HEAL_RATE = 2.0  # points a second
WELL_SECONDS = 60.0
ONSET_STAGGER = 10.0
DEFAULT_DECLINE = 2.0  # points a second

Vital = Literal["HealthPoints", "MagicPoints"]
VITALS: tuple[Vital, Vital] = ("HealthPoints", "MagicPoints")

# Famous horses of fiction and history. Larger fleets reuse them with a
# number: "Shadowfax-2". Single words, so they read well as partition keys.
NAMES = (
    "Shadowfax",
    "Rocinante",
    "Bucephalus",
    "Pegasus",
    "Silver",
    "Epona",
    "Artax",
    "Binky",
    "Brego",
    "Hidalgo",
    "Trigger",
    "Marengo",
    "Copenhagen",
    "Sleipnir",
    "Arion",
    "Comanche",
    "Traveller",
    "Seabiscuit",
)


def fleet_names(count: int) -> list[str]:
    """The names of a fleet of `count` unicorns, Shadowfax first."""
    return [
        NAMES[i % len(NAMES)] + (f"-{i // len(NAMES) + 1}" if i >= len(NAMES) else "")
        for i in range(count)
    ]


@dataclass(frozen=True)
class Illness:
    """How far below its walk an unwell unicorn's vital is, over time."""

    vital: Vital
    onset: float  # seconds into the run
    decline: float  # points a second

    def depth(self, elapsed: float) -> float:
        """Points taken off the vital `elapsed` seconds into the run."""
        phase = elapsed - self.onset
        if phase < 0:
            return 0.0
        falling = SICK_DEPTH / self.decline
        healing = SICK_DEPTH / HEAL_RATE
        phase %= falling + healing + WELL_SECONDS
        if phase < falling:
            return self.decline * phase
        if phase < falling + healing:
            return SICK_DEPTH - HEAL_RATE * (phase - falling)
        return 0.0


@dataclass
class Unicorn:
    """One unicorn's course and vitals between reports."""

    name: str
    bearing: float  # radians; 0 is east, pi/2 north, as in the workshop's formula
    illness: Illness | None = None
    latitude: float = START_LATITUDE
    longitude: float = START_LONGITUDE
    health_walk: int = HOME_POINTS
    magic_walk: int = HOME_POINTS

    def report(
        self, status_time: str, elapsed: float, interval: float, rng: random.Random
    ) -> Reading:
        """Move for `interval` seconds, take a step of the vitals, and say where it is."""
        distance = rng.uniform(MIN_SPEED, MAX_SPEED) * interval
        self._fly(distance)
        self.health_walk = _walk(self.health_walk, rng)
        self.magic_walk = _walk(self.magic_walk, rng)
        health, magic = self.health_walk, self.magic_walk
        if self.illness is not None:
            depth = round(self.illness.depth(elapsed))
            if self.illness.vital == "HealthPoints":
                health -= depth
            else:
                magic -= depth
        return Reading(
            name=self.name,
            status_time=status_time,
            latitude=self.latitude,
            longitude=self.longitude,
            distance=distance,
            health=_clamp(health),
            magic=_clamp(magic),
        )

    def _fly(self, distance: float) -> None:
        latitude, longitude = move(self.latitude, self.longitude, self.bearing, distance)
        beyond = _from_start(latitude, longitude)
        # Turning only when the step leads further out keeps a unicorn that
        # has just turned from turning again on its way back in.
        if beyond > TURN_BACK_METRES and beyond > _from_start(self.latitude, self.longitude):
            self.bearing = (self.bearing + math.pi) % math.tau
            latitude, longitude = move(self.latitude, self.longitude, self.bearing, distance)
        self.latitude, self.longitude = latitude, longitude


class Fleet:
    """Unicorns that report together, one report each per `interval` seconds."""

    def __init__(
        self,
        names: Sequence[str],
        rng: random.Random,
        *,
        interval: float = 1.0,
        unwell: int = 0,
        decline: float = DEFAULT_DECLINE,
    ) -> None:
        if not names:
            raise ValueError("a fleet needs at least one unicorn")
        if len(set(names)) != len(names):
            raise ValueError("unicorn names must be distinct")
        if not 0 < interval <= MAX_INTERVAL:
            raise ValueError(f"interval must be more than 0 and at most {MAX_INTERVAL:g} s")
        if not 0 <= unwell <= len(names):
            raise ValueError(f"unwell must be from 0 to {len(names)}")
        if not decline > 0:
            raise ValueError("decline must be more than 0")
        self.interval = interval
        self._rng = rng
        self._reports = 0
        sick = sorted(rng.sample(range(len(names)), unwell))
        illnesses = {
            index: Illness(VITALS[n % 2], onset=n * ONSET_STAGGER, decline=decline)
            for n, index in enumerate(sick)
        }
        self.unicorns = [
            Unicorn(name, bearing=rng.uniform(0.0, math.tau), illness=illnesses.get(i))
            for i, name in enumerate(names)
        ]

    @property
    def unwell(self) -> list[Unicorn]:
        """The unicorns that fall ill, in fleet order."""
        return [u for u in self.unicorns if u.illness is not None]

    def report(self, now: datetime) -> list[Reading]:
        """Every unicorn's next reading, stamped with the wall time `now`."""
        status_time = format_status_time(now)
        elapsed = self._reports * self.interval
        self._reports += 1
        return [u.report(status_time, elapsed, self.interval, self._rng) for u in self.unicorns]


def move(
    latitude: float, longitude: float, bearing: float, distance: float
) -> tuple[float, float]:
    """The workshop's step: `distance` metres along `bearing` on a locally flat Earth.

    As in the workshop, the longitude step uses the latitude already updated.
    """
    latitude += distance * math.sin(bearing) / METRES_PER_DEGREE_LATITUDE
    longitude += (
        distance
        * math.cos(bearing)
        / (METRES_PER_DEGREE_LONGITUDE * math.cos(math.radians(latitude)))
    )
    return latitude, longitude


def _from_start(latitude: float, longitude: float) -> float:
    north = (latitude - START_LATITUDE) * METRES_PER_DEGREE_LATITUDE
    east = (
        (longitude - START_LONGITUDE)
        * METRES_PER_DEGREE_LONGITUDE
        * math.cos(math.radians((latitude + START_LATITUDE) / 2))
    )
    return math.hypot(north, east)


def _walk(points: int, rng: random.Random) -> int:
    lean = max(-1 / 3, min(1 / 3, (points - HOME_POINTS) / (3 * REACH)))
    draw = rng.random()
    if draw < 1 / 3 + lean:
        return points - 1
    if draw < 2 / 3 + lean:
        return points
    return points + 1


def _clamp(points: int) -> int:
    return max(0, min(MAX_POINTS, points))
