"""Raw sensor records on stream `wildrydes`: the workshop's JSON shape, parsed and checked.

This is the per-record hot path of `aggregate` and `vitals`, so it does one
decode, one pass of `json`'s C scanner and a handful of comparisons, nothing
more (`make bench` measures it against decoding alone).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, NoReturn

from chalicelib.timestamps import format_status_time, from_epoch, is_status_time

# Bounds that tell a sensor reading from garbage. Points start at 150 and walk
# by one a second; a unicorn covers about 30 m a second.
MAX_NAME_LENGTH = 256  # Kinesis limits a partition key to 256 characters
MAX_DISTANCE = 5_000.0
MAX_POINTS = 1_000
# How far a report's StatusTime may be ahead of its arrival on the stream: the
# skew AWS tolerates in a request's signing time. A clock further ahead is
# broken, and believing it would make `vitals` ignore every genuine report of
# that unicorn as older, until the bogus time had passed.
MAX_AHEAD_SECONDS = 300

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


_decoder = json.JSONDecoder(parse_constant=_reject_constant)
_decode = _decoder.decode
_raw_decode = _decoder.raw_decode
_JSON_WHITESPACE = " \t\n\r"
_get_fields = itemgetter(*FIELDS)

# A reading as `read_fields` returns it: the values of FIELDS, in that order.
ReadingFields = tuple[str, str, float, float, float, int, int]


def parse_reading(data: bytes) -> Reading:
    """The reading in `data`, or InvalidRecord naming the first problem found."""
    return Reading(*read_fields(data))


def read_fields(data: bytes) -> ReadingFields:
    """The reading in `data` as a tuple in FIELDS order, or InvalidRecord as parse_reading.

    `aggregate`'s per-record path: the only object made is the tuple, and a
    valid record's checks are inline comparisons; only a failing check calls
    out, to word the reason.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InvalidRecord(f"not UTF-8 ({err.reason} at byte {err.start})") from None
    try:
        # The C scanner from the first character: what json.loads does after
        # skipping leading whitespace. Anything unusual takes the full decoder,
        # which accepts leading whitespace and words the error.
        obj, end = _raw_decode(text)
    except RecursionError:  # e.g. 100 000 "[": well under Kinesis's 1 MB limit
        raise InvalidRecord("not JSON (nested too deeply)") from None
    except ValueError:
        obj = _decode_fully(text)
    else:
        if end != len(text) and text[end:].strip(_JSON_WHITESPACE):
            obj = _decode_fully(text)  # raises: data after the document
    if type(obj) is not dict:
        raise InvalidRecord(f"not a JSON object (got {_kind(obj)})")
    try:
        name, status_time, latitude, longitude, distance, health, magic = _get_fields(obj)
    except KeyError as err:
        raise InvalidRecord(f"missing field {err.args[0]}") from None

    if type(name) is not str or not name or len(name) > MAX_NAME_LENGTH:
        _bad("Name", name, f"a string of 1 to {MAX_NAME_LENGTH} characters")
    if not name.isprintable() or name.isspace():
        _bad("Name", name, "printable text, not only spaces")
    if type(status_time) is not str or not is_status_time(status_time):
        _bad("StatusTime", status_time, "UTC time as 'YYYY-MM-DD HH:MM:SS.mmm'")
    # Numbers: a float in range passes on two comparisons; anything else
    # (a whole number, a wrong type) is settled by _number.
    if type(latitude) is not float or not -90.0 <= latitude <= 90.0:
        latitude = _number("Latitude", latitude, -90.0, 90.0)
    if type(longitude) is not float or not -180.0 <= longitude <= 180.0:
        longitude = _number("Longitude", longitude, -180.0, 180.0)
    if type(distance) is not float or not 0.0 <= distance <= MAX_DISTANCE:
        distance = _number("Distance", distance, 0.0, MAX_DISTANCE)
    if type(health) is not int or not 0 <= health <= MAX_POINTS:
        _points("HealthPoints", health)
    if type(magic) is not int or not 0 <= magic <= MAX_POINTS:
        _points("MagicPoints", magic)
    return (name, status_time, latitude, longitude, distance, health, magic)


def _decode_fully(text: str) -> Any:
    try:
        return _decode(text)
    except ValueError as err:
        raise InvalidRecord(f"not JSON ({err})") from None
    except RecursionError:
        raise InvalidRecord("not JSON (nested too deeply)") from None


def is_valid_name(value: object) -> bool:
    """Whether `value` passes parse_reading's rule for `Name` (kept in step by a test)."""
    return (
        type(value) is str
        and 0 < len(value) <= MAX_NAME_LENGTH
        and value.isprintable()
        and not value.isspace()
    )


class ArrivalCheck:
    """Rejects a reading stamped more than MAX_AHEAD_SECONDS after it reached the stream.

    Windows are cut by arrival, so the check is what keeps one broken clock
    from pinning a unicorn's status (and a window's last position) in the
    future. Use one per batch: the bound is formatted once per second of
    arrival, leaving a string comparison per record.
    """

    __slots__ = ("_latest", "_second")

    def __init__(self) -> None:
        self._second: int | None = None
        self._latest = ""

    def __call__(self, status_time: str, arrival: float) -> None:
        """InvalidRecord if `status_time` (already valid) is too far ahead of `arrival`."""
        second = int(arrival)
        if second != self._second:
            self._second = second
            self._latest = format_status_time(from_epoch(second + 1 + MAX_AHEAD_SECONDS))
        if status_time > self._latest:
            arrived = format_status_time(from_epoch(arrival))
            raise InvalidRecord(
                f"StatusTime {status_time!r} is more than {MAX_AHEAD_SECONDS // 60} "
                f"minutes ahead of the record's arrival at {arrived!r}"
            )


def _number(field: str, value: object, low: float, high: float) -> float:
    """`value` as a float if it is a number from `low` to `high`; InvalidRecord if not."""
    kind = type(value)
    if kind is not float and kind is not int:
        _bad(field, value, "a number")
    if not low <= value <= high:  # type: ignore[operator]
        _bad(field, value, f"a number from {low:g} to {high:g}")
    return float(value)  # type: ignore[arg-type]


def _points(field: str, value: object) -> NoReturn:
    """InvalidRecord for a value of `field` that failed the inline check."""
    if type(value) is not int:
        _bad(field, value, "an integer")
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
