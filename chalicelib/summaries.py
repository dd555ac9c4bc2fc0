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
from typing import Any

from chalicelib.timestamps import is_status_time

SummaryKey = tuple[str, str]


class InvalidSummary(ValueError):
    """A record on the summary stream that is not a summary row; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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
    """The summary in a record of the summary stream, or InvalidSummary."""
    try:
        row = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise InvalidSummary(f"not UTF-8 JSON ({err})") from None
    except RecursionError:
        raise InvalidSummary("not JSON (nested too deeply)") from None
    if type(row) is not dict:
        raise InvalidSummary("not a JSON object")
    return summary_from_row(row, [row.get("SummaryId")])


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
        if type(row.get(field)) not in (int, float):
            raise InvalidSummary(f"{field} must be a number")
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


def merge(existing: Summary | None, incoming: Iterable[Summary]) -> Summary | None:
    """`existing` combined with every incoming part it does not already contain.

    Returns None when nothing is new, so a repeated delivery writes nothing.
    Incoming parts carry one id each (they come straight off the stream).
    """
    result = existing
    changed = False
    for part in incoming:
        if result is not None and part.summary_ids <= result.summary_ids:
            continue
        result = part if result is None else _combine(result, part)
        changed = True
    return result if changed else None


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
