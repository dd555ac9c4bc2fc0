"""Raw sensor records on stream `wildrydes`: the workshop's JSON shape, parsed and checked.

This is the per-record path of `vitals`, and the reference `aggregate` holds
its inline checks to (`unicorns.windows.fold_readings`), so it does one decode,
one pass of `json`'s C scanner and a handful of comparisons, nothing more.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from chalicelib.pipeline.jsonrecords import DECODER, bad, decode_text, kind, number
from chalicelib.pipeline.jsonrecords import (
    InvalidRecord as InvalidRecord,  # the parsers' error, here too
)
from chalicelib.pipeline.timestamps import format_status_time, from_epoch, is_status_time

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


_raw_decode = DECODER.raw_decode
_JSON_WHITESPACE = " \t\n\r"
_get_fields = itemgetter(*FIELDS)

# A reading as `read_fields` returns it: the values of FIELDS, in that order.
ReadingFields = tuple[str, str, float, float, float, int, int]


def parse_reading(data: bytes) -> Reading:
    """The reading in `data`, or InvalidRecord naming the first problem found."""
    return Reading(*read_fields(data))


def read_fields(data: bytes) -> ReadingFields:
    """The reading in `data` as a tuple in FIELDS order, or InvalidRecord as parse_reading.

    The only object made is the tuple, and a valid record's checks are inline
    comparisons; only a failing check calls out, to word the reason.
    """
    try:
        text = data.decode("utf-8")  # pragma: no mutate: codec names ignore case
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
        obj = decode_text(text)
    else:
        if text[end:].strip(_JSON_WHITESPACE):
            obj = decode_text(text)  # raises: data after the document
    if type(obj) is not dict:
        raise InvalidRecord(f"not a JSON object (got {kind(obj)})")
    try:
        name, status_time, latitude, longitude, distance, health, magic = _get_fields(obj)
    except KeyError as err:
        raise InvalidRecord(f"missing field {err.args[0]}") from None

    if type(name) is not str or not name or len(name) > MAX_NAME_LENGTH:
        bad("Name", name, f"a string of 1 to {MAX_NAME_LENGTH} characters")
    if not name.isprintable() or name.isspace():
        bad("Name", name, "printable text, not only spaces")
    if type(status_time) is not str or not is_status_time(status_time):
        bad("StatusTime", status_time, "UTC time as 'YYYY-MM-DD HH:MM:SS.mmm'")
    # Numbers: a float in range passes on a type check and two comparisons; a
    # whole number or a wrong type is settled by number(); a vital must be an int.
    if type(latitude) is not float:
        latitude = number("Latitude", latitude, -90.0, 90.0)
    elif not -90.0 <= latitude <= 90.0:
        bad("Latitude", latitude, "a number from -90 to 90")
    if type(longitude) is not float:
        longitude = number("Longitude", longitude, -180.0, 180.0)
    elif not -180.0 <= longitude <= 180.0:
        bad("Longitude", longitude, "a number from -180 to 180")
    if type(distance) is not float:
        distance = number("Distance", distance, 0.0, MAX_DISTANCE)
    elif not 0.0 <= distance <= MAX_DISTANCE:
        bad("Distance", distance, f"a number from 0 to {MAX_DISTANCE:g}")
    if type(health) is not int:
        bad("HealthPoints", health, "an integer")
    elif not 0 <= health <= MAX_POINTS:
        bad("HealthPoints", health, f"an integer from 0 to {MAX_POINTS}")
    if type(magic) is not int:
        bad("MagicPoints", magic, "an integer")
    elif not 0 <= magic <= MAX_POINTS:
        bad("MagicPoints", magic, f"an integer from 0 to {MAX_POINTS}")
    return (name, status_time, latitude, longitude, distance, health, magic)


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
            self._second = second  # pragma: no mutate: a cache; without it, the same bound
            self._latest = latest_status_time(second)
        if status_time > self._latest:
            arrived = format_status_time(from_epoch(arrival))
            raise InvalidRecord(
                f"StatusTime {status_time!r} is more than {MAX_AHEAD_SECONDS // 60} "
                f"minutes ahead of the record's arrival at {arrived!r}"
            )


def latest_status_time(arrival_second: int) -> str:
    """The latest StatusTime a record that reached the stream in `arrival_second` may carry.

    Any instant in the second counts as its end, so the bound is a whole second
    and one bound serves every record that arrived in it, or later.
    """
    return format_status_time(from_epoch(arrival_second + 1 + MAX_AHEAD_SECONDS))
