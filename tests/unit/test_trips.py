"""Taxi trip records: what is accepted, and the reason given for each kind of defect."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.taxi.records import InvalidRecord, Trip, encode_trip, parse_trip

TRIP: dict[str, Any] = {
    "TripId": "2026-11-22-000042",
    "PickupTime": "2026-11-22 08:15:03.000",
    "DropoffTime": "2026-11-22 08:31:40.000",
    "PickupZone": 161,
    "DropoffZone": 236,
    "Distance": 2.41,
    "Fare": 16.9,
    "Tip": 3.38,
    "Passengers": 1,
    "PaymentType": "card",
}


def data(**changes: Any) -> bytes:
    trip = {k: v for k, v in {**TRIP, **changes}.items() if v is not ...}
    return json.dumps(trip).encode()


def test_a_trip_round_trips_through_its_record() -> None:
    trip = parse_trip(data())
    assert trip == Trip(
        "2026-11-22-000042",
        "2026-11-22 08:15:03.000",
        "2026-11-22 08:31:40.000",
        161,
        236,
        2.41,
        16.9,
        3.38,
        1,
        "card",
    )
    assert parse_trip(encode_trip(trip)) == trip
    assert trip.seconds == 997.0
    # One compact line on the stream: Kinesis bills and limits by the byte.
    assert encode_trip(trip) == (
        b'{"TripId":"2026-11-22-000042","PickupTime":"2026-11-22 08:15:03.000",'
        b'"DropoffTime":"2026-11-22 08:31:40.000","PickupZone":161,"DropoffZone":236,'
        b'"Distance":2.41,"Fare":16.9,"Tip":3.38,"Passengers":1,"PaymentType":"card"}\n'
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"Distance": 0},  # a trip that did not move (a cancelled ride is still fared)
        {"Fare": 0, "Tip": 0, "PaymentType": "no_charge"},
        {"Passengers": 0},
        {"DropoffTime": "2026-11-22 08:15:03.000"},  # no time at all
        {"DropoffTime": "2026-11-23 08:15:03.000"},  # exactly a day
        {"PickupZone": 265, "DropoffZone": 1},
        {"TripId": "a"},
        {"Extra": "ignored"},  # unknown fields are ignored, as for unicorns
    ],
)
def test_edge_values_are_accepted(changes: dict[str, Any]) -> None:
    parse_trip(data(**changes))


BAD = [
    # (defect, raw record, the reason says)
    ("not UTF-8", b'{"TripId": "\xff"}', "not UTF-8"),
    ("not JSON", b"trip 42", "not JSON"),
    ("an array", b"[1, 2]", "not a JSON object (got array)"),
    ("empty", b"", "not JSON"),
    ("NaN fare", data().replace(b"16.9", b"NaN"), "not JSON"),
    ("missing field", data(Fare=...), "missing field Fare"),
    ("empty trip id", data(TripId=""), "TripId must be 1 to 64"),
    (
        "trip id with a space",
        data(TripId="trip 42"),
        "TripId must be 1 to 64 letters, digits or . _ : - (starting with a letter or digit), "
        "got string 'trip 42'",
    ),
    ("over-long trip id", data(TripId="x" * 65), "TripId must be"),
    ("trip id not a string", data(TripId=42), "TripId must be"),
    ("bad pickup time", data(PickupTime="08:15"), "PickupTime must be UTC time"),
    ("pickup time with a zone", data(PickupTime="2026-11-22T08:15:03Z"), "PickupTime must be"),
    (
        "bad dropoff time",
        data(DropoffTime="08:31"),
        "DropoffTime must be UTC time as 'YYYY-MM-DD HH:MM:SS.mmm', got string '08:31'",
    ),
    (
        "dropoff before pickup",
        data(DropoffTime="2026-11-22 08:00:00.000"),
        "DropoffTime must be at or after PickupTime '2026-11-22 08:15:03.000', within 24 hours, "
        "got string '2026-11-22 08:00:00.000'",
    ),
    ("a trip of two days", data(DropoffTime="2026-11-24 08:00:00.000"), "within 24 hours"),
    (
        "a trip a millisecond over a day",
        data(DropoffTime="2026-11-23 08:15:03.001"),
        "DropoffTime must be at or after PickupTime",
    ),
    ("zone 0", data(PickupZone=0), "PickupZone must be an integer from 1 to 265"),
    ("zone 266", data(DropoffZone=266), "DropoffZone must be an integer from 1 to 265"),
    ("zone as text", data(PickupZone="161"), "PickupZone must be an integer, got string"),
    ("zone true", data(PickupZone=True), "PickupZone must be an integer, got boolean"),
    ("negative distance", data(Distance=-1), "Distance must be a number from 0 to 500"),
    ("absurd distance", data(Distance=9999), "Distance must be a number from 0 to 500"),
    ("negative fare", data(Fare=-5), "Fare must be a number from 0"),
    ("fractions of a cent", data(Fare=16.905), "Fare must be an amount in whole cents"),
    ("tip as text", data(Tip="3.38"), "Tip must be a number, got string"),
    ("ten passengers", data(Passengers=10), "Passengers must be an integer from 0 to 9"),
    ("payment type unknown", data(PaymentType="bitcoin"), "PaymentType must be one of card"),
    ("payment type null", data(PaymentType=None), "got null"),
]


@pytest.mark.parametrize(("defect", "raw", "reason"), BAD, ids=[row[0] for row in BAD])
def test_each_defect_is_refused_with_its_reason(defect: str, raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidRecord) as refused:
        parse_trip(raw)
    assert reason in refused.value.reason, defect
