"""Taxi trip records on stream `taxi-trips`: one completed trip per record, parsed and checked.

The second data set on the same machinery (see `jsonrecords` for what the
data sets share). A trip is reported once, when it ends:

    {"TripId": "2026-11-22-000042", "PickupTime": "2026-11-22 08:15:03.000",
     "DropoffTime": "2026-11-22 08:31:40.000", "PickupZone": 161, "DropoffZone": 236,
     "Distance": 2.41, "Fare": 16.9, "Tip": 3.38, "Passengers": 1, "PaymentType": "card"}

Times are UTC in the unicorns' `StatusTime` layout (text order is time
order); zones are taxi-zone numbers (1 to 265, as the city's zone map counts
them); distance is in miles; fare and tip in dollars and whole cents.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from chalicelib.pipeline.jsonrecords import InvalidRecord as InvalidRecord  # raised by parse_trip
from chalicelib.pipeline.jsonrecords import (
    bad,
    choice,
    decode_object,
    field,
    integer,
    money,
    number,
)
from chalicelib.pipeline.timestamps import is_status_time, parse_status_time

MAX_TRIP_ID_LENGTH = 64
TRIP_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
MIN_ZONE, MAX_ZONE = 1, 265
MAX_DISTANCE_MILES = 500.0
MAX_FARE = 10_000.0
MAX_PASSENGERS = 9
MAX_TRIP_SECONDS = 24 * 3600
# Names of the zones the producer's city model uses (the city's zone map has
# 265; the API calls any other "Zone <n>").
ZONE_NAMES = {
    161: "Midtown Center",
    237: "Upper East Side South",
    236: "Upper East Side North",
    162: "Midtown East",
    230: "Times Sq/Theatre District",
    186: "Penn Station/Madison Sq West",
    170: "Murray Hill",
    234: "Union Sq",
    79: "East Village",
    239: "Upper West Side South",
    132: "JFK Airport",
    138: "LaGuardia Airport",
}


def zone_name(zone: int) -> str:
    return ZONE_NAMES.get(zone, f"Zone {zone}")


PAYMENT_TYPES = frozenset({"card", "cash", "no_charge", "dispute", "unknown"})
FIELDS = (
    "TripId",
    "PickupTime",
    "DropoffTime",
    "PickupZone",
    "DropoffZone",
    "Distance",
    "Fare",
    "Tip",
    "Passengers",
    "PaymentType",
)


@dataclass(frozen=True)
class Trip:
    """One completed taxi trip."""

    trip_id: str
    pickup_time: str
    dropoff_time: str
    pickup_zone: int
    dropoff_zone: int
    distance: float  # miles
    fare: float  # dollars, before the tip
    tip: float
    passengers: int
    payment_type: str

    @property
    def seconds(self) -> float:
        """How long the trip took."""
        elapsed = parse_status_time(self.dropoff_time) - parse_status_time(self.pickup_time)
        return elapsed.total_seconds()

    def to_json(self) -> dict[str, Any]:
        return {
            "TripId": self.trip_id,
            "PickupTime": self.pickup_time,
            "DropoffTime": self.dropoff_time,
            "PickupZone": self.pickup_zone,
            "DropoffZone": self.dropoff_zone,
            "Distance": self.distance,
            "Fare": self.fare,
            "Tip": self.tip,
            "Passengers": self.passengers,
            "PaymentType": self.payment_type,
        }


def encode_trip(trip: Trip) -> bytes:
    """The record as producers send it: compact JSON and a newline."""
    return json.dumps(trip.to_json(), separators=(",", ":")).encode() + b"\n"


def parse_trip(data: bytes) -> Trip:
    """The trip in `data`, or InvalidRecord naming the first problem found."""
    return trip_from_json(decode_object(data))


def trip_from_json(obj: dict[str, Any]) -> Trip:
    """A trip from a decoded JSON object (the API's `POST /trips` items), checked."""
    values = {name: field(obj, name) for name in FIELDS}
    trip_id = values["TripId"]
    if type(trip_id) is not str or TRIP_ID.fullmatch(trip_id) is None:
        bad(
            "TripId",
            trip_id,
            f"1 to {MAX_TRIP_ID_LENGTH} letters, digits or . _ : - (starting with a letter "
            "or digit)",
        )
    pickup, dropoff = values["PickupTime"], values["DropoffTime"]
    for name, value in (("PickupTime", pickup), ("DropoffTime", dropoff)):
        if type(value) is not str or not is_status_time(value):
            bad(name, value, "UTC time as 'YYYY-MM-DD HH:MM:SS.mmm'")
    seconds = (parse_status_time(dropoff) - parse_status_time(pickup)).total_seconds()
    if not 0 <= seconds <= MAX_TRIP_SECONDS:
        bad("DropoffTime", dropoff, f"at or after PickupTime {pickup!r}, within 24 hours")
    return Trip(
        trip_id=trip_id,
        pickup_time=pickup,
        dropoff_time=dropoff,
        pickup_zone=integer("PickupZone", values["PickupZone"], MIN_ZONE, MAX_ZONE),
        dropoff_zone=integer("DropoffZone", values["DropoffZone"], MIN_ZONE, MAX_ZONE),
        distance=number("Distance", values["Distance"], 0.0, MAX_DISTANCE_MILES),
        fare=money("Fare", values["Fare"], MAX_FARE),
        tip=money("Tip", values["Tip"], MAX_FARE),
        passengers=integer("Passengers", values["Passengers"], 0, MAX_PASSENGERS),
        payment_type=choice("PaymentType", values["PaymentType"], PAYMENT_TYPES),
    )
