"""Raw sensor records on stream `wildrydes`: the workshop's JSON shape, parsed and checked.

This is the per-record hot path of `aggregate` and `vitals`, so it does one
decode, one `json.loads` and a handful of comparisons, nothing more.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NoReturn

from chalicelib.timestamps import is_status_time

# Bounds that tell a sensor reading from garbage. Points start at 150 and walk
# by one a second; a unicorn covers about 30 m a second.
MAX_NAME_LENGTH = 256  # Kinesis limits a partition key to 256 characters
MAX_DISTANCE = 5_000.0
MAX_POINTS = 1_000

FIELDS = (
    "Name",
    "StatusTime",
    "Latitude",
    "Longitude",
    "Distance",
    "HealthPoints",
    "MagicPoints",
)


class InvalidRecord(ValueError):
    """A raw record that is not a valid sensor reading; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# Not frozen: one is built per record on aggregate's hot path, and a frozen
# dataclass costs about four times as much to construct. Treat it as a value.
@dataclass(slots=True)
class Reading:
    """One sensor report from one unicorn."""

    name: str
    status_time: str
    latitude: float
    longitude: float
    distance: float
    health: int
    magic: int

    def to_json(self) -> dict[str, Any]:
        """The workshop's record, field for field."""
        return {
            "Name": self.name,
            "StatusTime": self.status_time,
            "Latitude": self.latitude,
            "Longitude": self.longitude,
            "Distance": self.distance,
            "HealthPoints": self.health,
            "MagicPoints": self.magic,
        }


def encode_reading(reading: Reading) -> bytes:
    """The record as the workshop producer sends it: compact JSON and a newline."""
    return json.dumps(reading.to_json(), separators=(",", ":")).encode() + b"\n"


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


_decode = json.JSONDecoder(parse_constant=_reject_constant).decode


def parse_reading(data: bytes) -> Reading:
    """The reading in `data`, or InvalidRecord naming the first problem found."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InvalidRecord(f"not UTF-8 ({err.reason} at byte {err.start})") from None
    try:
        obj = _decode(text)
    except ValueError as err:
        raise InvalidRecord(f"not JSON ({err})") from None
    except RecursionError:  # e.g. 100 000 "[": well under Kinesis's 1 MB limit
        raise InvalidRecord("not JSON (nested too deeply)") from None
    if type(obj) is not dict:
        raise InvalidRecord(f"not a JSON object (got {_kind(obj)})")
    try:
        name = obj["Name"]
        status_time = obj["StatusTime"]
        latitude = obj["Latitude"]
        longitude = obj["Longitude"]
        distance = obj["Distance"]
        health = obj["HealthPoints"]
        magic = obj["MagicPoints"]
    except KeyError as err:
        raise InvalidRecord(f"missing field {err.args[0]}") from None

    if type(name) is not str or not name or len(name) > MAX_NAME_LENGTH:
        _bad("Name", name, f"a string of 1 to {MAX_NAME_LENGTH} characters")
    if not name.isprintable():
        _bad("Name", name, "printable text")
    if type(status_time) is not str or not is_status_time(status_time):
        _bad("StatusTime", status_time, "UTC time as 'YYYY-MM-DD HH:MM:SS.mmm'")
    _check_number("Latitude", latitude, -90.0, 90.0)
    _check_number("Longitude", longitude, -180.0, 180.0)
    _check_number("Distance", distance, 0.0, MAX_DISTANCE)
    _check_points("HealthPoints", health)
    _check_points("MagicPoints", magic)
    return Reading(
        name,
        status_time,
        float(latitude),
        float(longitude),
        float(distance),
        health,
        magic,
    )


def _check_number(field: str, value: object, low: float, high: float) -> None:
    kind = type(value)
    if kind is not float and kind is not int:
        _bad(field, value, "a number")
    if not low <= value <= high:  # type: ignore[operator]
        _bad(field, value, f"a number from {low:g} to {high:g}")


def _check_points(field: str, value: object) -> None:
    if type(value) is not int:
        _bad(field, value, "an integer")
    if not 0 <= value <= MAX_POINTS:
        _bad(field, value, f"an integer from 0 to {MAX_POINTS}")


def _bad(field: str, value: object, expected: str) -> NoReturn:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    raise InvalidRecord(f"{field} must be {expected}, got {_kind(value)} {shown}")


def _kind(value: object) -> str:
    return {
        dict: "object",
        list: "array",
        str: "string",
        int: "integer",
        float: "number",
        bool: "boolean",
        type(None): "null",
    }.get(type(value), type(value).__name__)
