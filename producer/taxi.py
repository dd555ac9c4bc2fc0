"""A city's taxi day: trips with morning and evening peaks, popular zones, and metered fares.

The pure model behind `python -m producer --dataset taxi` (no I/O, no
clock): given a day, a size and a seed, `TaxiDay.trips(start, end)` gives
the trips that end in that span of the day, the same ones every time.

- Demand: a quiet night, a morning peak around 08:30 and a longer evening
  peak around 18:00 (`demand(hour)`, relative to the day's average).
- Zones: a dozen of the city's busiest taxi zones, each with a weight
  (how often trips start or end there) and a position, so that distances
  between zones are real-ish; a trip's distance is the straight line times a
  street factor, with some spread.
- Speed: slower at the peaks.
- Fares, as a meter: base + per mile + per minute, times a surge at the
  peaks, in whole cents; card payments tip 10–25 %, cash ones nothing.
- Peaks come and go over an hour and a half (`peak_level`), as traffic and surge
  pricing do: no fare steps from one 15-minute window to the next that
  the fare watch would take for an anomaly.
- A fare spike (`FareSpike`) can be injected: a zone's meters charging a
  multiple for a span of the day, which the fare watch should catch.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from chalicelib.pipeline.timestamps import format_status_time
from chalicelib.taxi.records import Trip


@dataclass(frozen=True)
class Zone:
    number: int  # the city's taxi-zone number (its name: chalicelib.taxi.records.ZONE_NAMES)
    weight: float  # share of pickups and dropoffs
    x: float  # miles east of a common origin
    y: float  # miles north


ZONES = (
    Zone(161, 10, 0.0, 0.0),
    Zone(237, 9, 1.2, 2.3),
    Zone(236, 8, 1.6, 3.0),
    Zone(162, 8, 0.8, 0.3),
    Zone(230, 7, -0.4, 0.1),
    Zone(186, 7, -0.6, -0.8),
    Zone(170, 6, 0.6, -0.9),
    Zone(234, 5, 0.1, -2.0),
    Zone(79, 5, 0.7, -2.6),
    Zone(239, 5, -1.0, 2.2),
    Zone(132, 3, 12.0, -8.5),
    Zone(138, 3, 6.5, 3.5),
)

BASE_FARE = 3.00
PER_MILE = 2.50
PER_MINUTE = 0.50
SURGE = 1.25
PEAK_HOURS = ((7.0, 10.0), (16.0, 20.0))
STREET_FACTOR = 1.3  # streets are longer than the straight line
PAYMENTS = (("card", 0.70), ("cash", 0.27), ("no_charge", 0.02), ("dispute", 0.01))
PASSENGERS = ((1, 0.70), (2, 0.17), (3, 0.06), (4, 0.04), (5, 0.02), (6, 0.01))


def demand(hour: float) -> float:
    """Trips per hour at `hour` (0–24), relative to the day's average (about 1)."""
    night = 0.25
    morning = 1.9 * math.exp(-(((hour - 8.5) / 1.2) ** 2))
    evening = 2.1 * math.exp(-(((hour - 18.0) / 1.8) ** 2))
    daytime = 0.9 * math.exp(-(((hour - 13.0) / 4.0) ** 2))
    return night + morning + evening + daytime


RAMP_HOURS = 1.5  # a peak builds up (and ebbs away) over this long around its edges


def peak_level(hour: float) -> float:
    """How much of a peak `hour` is in: 0 off-peak, 1 in full, in between at the edges."""
    level = 0.0
    for start, end in PEAK_HOURS:
        rising = (hour - start) / RAMP_HOURS + 0.5
        falling = (end - hour) / RAMP_HOURS + 0.5
        level = max(level, min(1.0, rising, falling))
    return max(0.0, level)


def is_peak(hour: float) -> bool:
    return peak_level(hour) >= 0.5


def speed_mph(hour: float) -> float:
    return 14.0 - 5.0 * peak_level(hour)


def meter(miles: float, minutes: float, hour: float) -> float:
    """The fare, in dollars and whole cents."""
    fare = BASE_FARE + PER_MILE * miles + PER_MINUTE * minutes
    return round(fare * (1 + (SURGE - 1) * peak_level(hour)), 2)


@dataclass(frozen=True)
class FareSpike:
    """Meters of one pickup zone charging `factor` times the fare from `start` to `end` (hours)."""

    zone: int
    start: float
    end: float
    factor: float = 2.0

    def applies(self, zone: int, hour: float) -> bool:
        return zone == self.zone and self.start <= hour < self.end


class TaxiDay:
    """The trips of one day in a city with `trips_per_day` of them (on average)."""

    def __init__(
        self,
        day: date,
        trips_per_day: int,
        seed: int = 2026,
        spikes: tuple[FareSpike, ...] = (),
    ) -> None:
        if trips_per_day < 1:
            raise ValueError("a taxi day needs at least one trip")
        self.day = day
        self.trips_per_day = trips_per_day
        self.seed = seed
        self.spikes = spikes
        self._midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
        self._average = sum(demand(m / 60) for m in range(24 * 60)) / (24 * 60)

    def trips(self, start: float, end: float) -> list[Trip]:
        """Trips that end at or after `start` and before `end` seconds into the day, by end."""
        found: list[Trip] = []
        for minute in range(max(0, int(start // 60)), min(24 * 60, math.ceil(end / 60))):
            found.extend(t for t in self._minute(minute) if start <= self._offset(t) < end)
        return sorted(found, key=lambda t: (t.dropoff_time, t.trip_id))

    def _offset(self, trip: Trip) -> float:
        ended = datetime.fromisoformat(trip.dropoff_time).replace(tzinfo=UTC)
        return (ended - self._midnight).total_seconds()

    def _minute(self, minute: int) -> list[Trip]:
        """The trips ending in one minute of the day (its own random stream: any span agrees)."""
        rng = random.Random(f"{self.seed}:{self.day.isoformat()}:{minute}")
        hour = minute / 60
        expected = self.trips_per_day / (24 * 60) * demand(hour) / self._average
        trips = []
        for n in range(_poisson(rng, expected)):
            trips.append(self._trip(rng, minute, n))
        return trips

    def _trip(self, rng: random.Random, minute: int, n: int) -> Trip:
        weights = [z.weight for z in ZONES]
        pickup = rng.choices(ZONES, weights)[0]
        dropoff = pickup
        while dropoff is pickup and rng.random() < 0.9:  # a few trips stay in their zone
            dropoff = rng.choices(ZONES, weights)[0]
        straight = math.hypot(pickup.x - dropoff.x, pickup.y - dropoff.y)
        miles = round(
            max(0.3, straight * STREET_FACTOR + rng.uniform(0.2, 1.2))
            * rng.lognormvariate(0, 0.15),
            2,
        )
        ended_at = self._midnight + timedelta(minutes=minute, seconds=rng.uniform(0, 59.999))
        hour = (ended_at - self._midnight).total_seconds() / 3600
        minutes = miles / speed_mph(hour) * 60 * rng.uniform(0.85, 1.25)
        started_at = ended_at - timedelta(minutes=minutes)
        started = started_at.hour + started_at.minute / 60
        fare = meter(miles, minutes, started)
        for spike in self.spikes:
            if spike.applies(pickup.number, started):
                fare = round(fare * spike.factor, 2)
        payment = rng.choices([p for p, _ in PAYMENTS], [w for _, w in PAYMENTS])[0]
        if payment == "no_charge":
            fare = 0.0
        tip = round(fare * rng.uniform(0.10, 0.25), 2) if payment == "card" else 0.0
        passengers = rng.choices([p for p, _ in PASSENGERS], [w for _, w in PASSENGERS])[0]
        return Trip(
            trip_id=f"{self.day.isoformat()}-{minute:04d}-{n:03d}",
            pickup_time=format_status_time(started_at),
            dropoff_time=format_status_time(ended_at),
            pickup_zone=pickup.number,
            dropoff_zone=dropoff.number,
            distance=miles,
            fare=fare,
            tip=tip,
            passengers=passengers,
            payment_type=payment,
        )


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson-distributed count (Knuth's method for small means, normal beyond)."""
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
