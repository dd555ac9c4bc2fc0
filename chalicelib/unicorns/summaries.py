"""Per-unicorn, per-window summary rows: their shape on `wildrydes-summary` and how they merge.

A row is what the Kinesis Data Analytics SQL of the workshop produced (name,
minute, distance, min/max of each vital) plus sample count, window end, first
and last report time, last position and a `SummaryId`. The id names the
partial summary (shard and first sequence number in the window), so delivering
the same row twice is recognisable, and two different partial rows for the
same unicorn and minute (a window ended early, a reshard) can be combined.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NoReturn

from chalicelib.pipeline.jsonrecords import InvalidRecord, decode_object
from chalicelib.pipeline.timestamps import is_status_time
from chalicelib.unicorns.records import MAX_DISTANCE, MAX_NAME_LENGTH, MAX_POINTS, is_valid_name

SummaryKey = tuple[str, str]

# A part covers one shard's window: at most 1000 records/s for 900 s.
MAX_SAMPLES = 1_000_000
MAX_SUMMARY_ID_LENGTH = 256  # shard id, ":", sequence number


class InvalidSummary(InvalidRecord):
    """A record on the summary stream that is not a summary row; `reason` says why."""


@dataclass(frozen=True)
class Summary:
    """Statistics of one unicorn over one window, possibly merged from several parts."""

    name: str
    status_time: str  # window start, in StatusTime format
    distance: float
    min_magic: int
    max_magic: int
    min_health: int
    max_health: int
    samples: int
    window_end: str
    first_status_time: str
    last_status_time: str
    latitude: float
    longitude: float
    summary_ids: frozenset[str]

    @property
    def key(self) -> SummaryKey:
        return (self.name, self.status_time)

    def to_row(self) -> dict[str, Any]:
        """The public fields: what the API returns and the table stores."""
        return {
            "Name": self.name,
            "StatusTime": self.status_time,
            "Distance": self.distance,
            "MinMagicPoints": self.min_magic,
            "MaxMagicPoints": self.max_magic,
            "MinHealthPoints": self.min_health,
            "MaxHealthPoints": self.max_health,
            "SampleCount": self.samples,
            "WindowEnd": self.window_end,
            "FirstStatusTime": self.first_status_time,
            "LastStatusTime": self.last_status_time,
            "Latitude": self.latitude,
            "Longitude": self.longitude,
        }


def encode_row(summary: Summary) -> bytes:
    """The record put on the summary stream for a single-part summary."""
    (summary_id,) = summary.summary_ids
    row = summary.to_row()
    row["SummaryId"] = summary_id
    return json.dumps(row, separators=(",", ":")).encode()


_INTEGERS = (
    "MinMagicPoints",
    "MaxMagicPoints",
    "MinHealthPoints",
    "MaxHealthPoints",
    "SampleCount",
)
_NUMBERS = ("Distance", "Latitude", "Longitude")
_TIMES = ("StatusTime", "WindowEnd", "FirstStatusTime", "LastStatusTime")


def parse_row(data: bytes) -> Summary:
    """The summary in a record of the summary stream, or InvalidSummary.

    Besides the types, the values must be ones `aggregate` can produce: a row
    that passed with, say, a NaN distance or a 3000-character name would fail
    every write to DynamoDB and hold its shard until Lambda gave up on it.
    """
    try:
        row = decode_object(data)
    except InvalidRecord as err:
        raise InvalidSummary(err.reason) from None
    summary = summary_from_row(row, [row.get("SummaryId")])
    _check_values(summary)
    return summary


def summary_from_row(row: dict[str, Any], summary_ids: Iterable[object]) -> Summary:
    """A Summary from a row's fields, checking each; InvalidSummary otherwise."""
    ids = frozenset(i for i in summary_ids if type(i) is str and i)
    if not ids:
        raise InvalidSummary("SummaryId must be a non-empty string")
    if type(row.get("Name")) is not str or not row["Name"]:
        raise InvalidSummary("Name must be a non-empty string")
    for field in _TIMES:
        value = row.get(field)
        if type(value) is not str or not is_status_time(value):
            raise InvalidSummary(f"{field} must be a StatusTime, got {value!r}")
    for field in _INTEGERS:
        if type(row.get(field)) is not int:
            raise InvalidSummary(f"{field} must be an integer")
    for field in _NUMBERS:
        value = row.get(field)
        if type(value) not in (int, float):
            raise InvalidSummary(f"{field} must be a number")
        if type(value) is int and not -(2**1023) < value < 2**1023:
            raise InvalidSummary(f"{field} must be a number, got an integer too large for one")
    return Summary(
        name=row["Name"],
        status_time=row["StatusTime"],
        distance=float(row["Distance"]),
        min_magic=row["MinMagicPoints"],
        max_magic=row["MaxMagicPoints"],
        min_health=row["MinHealthPoints"],
        max_health=row["MaxHealthPoints"],
        samples=row["SampleCount"],
        window_end=row["WindowEnd"],
        first_status_time=row["FirstStatusTime"],
        last_status_time=row["LastStatusTime"],
        latitude=float(row["Latitude"]),
        longitude=float(row["Longitude"]),
        summary_ids=ids,
    )


def _check_values(s: Summary) -> None:
    # Only for rows off the stream: items read back from the table were
    # checked on their way in, and merged parts may add up beyond one part.
    (summary_id,) = s.summary_ids
    if len(summary_id) > MAX_SUMMARY_ID_LENGTH:
        _bad(f"SummaryId must be at most {MAX_SUMMARY_ID_LENGTH} characters")
    if not is_valid_name(s.name):
        _bad(f"Name must be 1 to {MAX_NAME_LENGTH} printable characters, not only spaces")
    if not s.status_time < s.window_end:
        _bad(f"WindowEnd must be later than StatusTime, got {s.window_end!r}")
    if not s.first_status_time <= s.last_status_time:
        _bad("FirstStatusTime must not be later than LastStatusTime")
    if not 1 <= s.samples <= MAX_SAMPLES:
        _bad(f"SampleCount must be from 1 to {MAX_SAMPLES}, got {_shown(s.samples)}")
    for vital, low, high in (
        ("MagicPoints", s.min_magic, s.max_magic),
        ("HealthPoints", s.min_health, s.max_health),
    ):
        if not 0 <= low <= high <= MAX_POINTS:
            _bad(
                f"Min{vital} and Max{vital} must be from 0 to {MAX_POINTS}, "
                f"the minimum not above the maximum, got {_shown(low)} and {_shown(high)}"
            )
    if not 0 <= s.distance <= s.samples * MAX_DISTANCE:
        _bad(f"Distance must be from 0 to {MAX_DISTANCE:g} m a sample, got {s.distance!r}")
    if not -90 <= s.latitude <= 90:
        _bad(f"Latitude must be from -90 to 90, got {s.latitude!r}")
    if not -180 <= s.longitude <= 180:
        _bad(f"Longitude must be from -180 to 180, got {s.longitude!r}")


def _bad(reason: str) -> NoReturn:
    raise InvalidSummary(reason)


def _shown(value: int) -> str:
    shown = str(value)
    return shown if len(shown) <= 20 else f"{shown[:17]}..."


def merge(existing: Summary | None, incoming: Iterable[Summary]) -> Summary | None:
    """`existing` combined with every incoming part it does not already contain.

    Returns None when nothing is new, so a repeated delivery writes nothing.
    Incoming parts carry one id each (they come straight off the stream).
    """
    result = existing
    for part in incoming:
        if result is not None and part.summary_ids <= result.summary_ids:
            continue
        result = part if result is None else _combine(result, part)
    return None if result is existing else result


def _combine(a: Summary, b: Summary) -> Summary:
    # The last position is the one reported last; ids break ties so that the
    # outcome does not depend on the order parts arrive in.
    latest = max(a, b, key=lambda s: (s.last_status_time, min(s.summary_ids)))
    return Summary(
        name=a.name,
        status_time=a.status_time,
        distance=a.distance + b.distance,
        min_magic=min(a.min_magic, b.min_magic),
        max_magic=max(a.max_magic, b.max_magic),
        min_health=min(a.min_health, b.min_health),
        max_health=max(a.max_health, b.max_health),
        samples=a.samples + b.samples,
        window_end=max(a.window_end, b.window_end),
        first_status_time=min(a.first_status_time, b.first_status_time),
        last_status_time=latest.last_status_time,
        latitude=latest.latitude,
        longitude=latest.longitude,
        summary_ids=a.summary_ids | b.summary_ids,
    )
