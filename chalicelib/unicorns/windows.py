"""Per-unicorn statistics over one Lambda tumbling window.

Lambda cuts a shard's records into windows by arrival time and hands each
invocation the `state` the previous invocation of the same window returned
(docs/lambda-kinesis.md, "Tumbling windows"). `WindowState` is that state: it is folded over each
batch and, on the final invocation, turned into one summary row per unicorn.
The state is plain JSON with short lists because Lambda limits it to 1 MB per
shard; a unicorn costs about 150 bytes, so a shard holds thousands.
"""

from __future__ import annotations

import math
from binascii import a2b_base64
from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

from chalicelib.pipeline.batches import Rejected, rejected_record
from chalicelib.pipeline.events import KinesisBatch, stream_record
from chalicelib.pipeline.jsonrecords import DECODER
from chalicelib.pipeline.timestamps import format_status_time, is_status_time
from chalicelib.pipeline.windows import Closed, InvalidState, Window
from chalicelib.unicorns.records import (
    FIELDS,
    MAX_DISTANCE,
    MAX_POINTS,
    ArrivalCheck,
    InvalidRecord,
    latest_status_time,
    read_fields,
)
from chalicelib.unicorns.summaries import Summary, encode_row

# Bump it if the name rule (`records.is_valid_name`) ever tightens: the inline
# checks of `fold_readings` take a name the window already holds as valid.
STATE_VERSION = 1

# Positions in a unicorn's entry of the state.
(
    SAMPLES,
    DISTANCE,
    MIN_MAGIC,
    MAX_MAGIC,
    MIN_HEALTH,
    MAX_HEALTH,
    FIRST_SEQUENCE,
    FIRST_TIME,
    LAST_TIME,
    LATITUDE,
    LONGITUDE,
) = range(11)


class WindowState:
    """Running statistics per unicorn for one shard's window."""

    __slots__ = ("invalid", "unicorns")

    def __init__(self, unicorns: dict[str, list[Any]] | None = None, invalid: int = 0) -> None:
        self.unicorns: dict[str, list[Any]] = unicorns if unicorns is not None else {}
        self.invalid = invalid

    @classmethod
    def from_state(cls, state: Mapping[str, Any] | None) -> WindowState:
        """The state Lambda passed in; `{}` or None starts a fresh window."""
        if not state:
            return cls()
        unicorns, invalid = state.get("unicorns"), state.get("invalid")
        if (
            state.get("v") != STATE_VERSION
            or not isinstance(unicorns, dict)
            or not isinstance(invalid, int)
        ):
            raise InvalidState(
                f"window state is not version {STATE_VERSION}: keys {sorted(state)}"
            )
        return cls(unicorns, invalid)

    def to_state(self) -> dict[str, Any]:
        return {"v": STATE_VERSION, "unicorns": self.unicorns, "invalid": self.invalid}

    def summaries(self, window: Window, shard_id: str) -> list[Summary]:
        """One summary row per unicorn seen in the window, in name order."""
        start = format_status_time(window.start)
        end = format_status_time(window.end)
        return [
            Summary(
                name=name,
                status_time=start,
                distance=entry[DISTANCE],
                min_magic=entry[MIN_MAGIC],
                max_magic=entry[MAX_MAGIC],
                min_health=entry[MIN_HEALTH],
                max_health=entry[MAX_HEALTH],
                samples=entry[SAMPLES],
                window_end=end,
                first_status_time=entry[FIRST_TIME],
                last_status_time=entry[LAST_TIME],
                latitude=entry[LATITUDE],
                longitude=entry[LONGITUDE],
                summary_ids=frozenset([f"{shard_id}:{entry[FIRST_SEQUENCE]}"]),
            )
            for name, entry in sorted(self.unicorns.items())
        ]


class UnicornReadings:
    """Per-unicorn statistics of `wildrydes`: one summary row per unicorn and window."""

    metric = "Summaries"

    def state(self, saved: Mapping[str, Any] | None) -> WindowState:
        return WindowState.from_state(saved)

    def fold(self, state: WindowState, batch: KinesisBatch) -> list[Rejected]:
        return fold_readings(state, batch.raw_records)

    def close(self, state: WindowState, window: Window, shard_id: str) -> Closed:
        summaries = state.summaries(window, shard_id)
        return Closed(
            rows=[(encode_row(s), s.name) for s in summaries],
            records=sum(s.samples for s in summaries),
            first=format_status_time(window.start),
        )


UNICORN_READINGS = UnicornReadings()


# What may follow a record's JSON on the inline way: nothing, or the producer's
# newline. Other whitespace is valid too; it takes the reference way.
_USUAL_ENDS = frozenset(["", "\n"])
_raw_decode = DECODER.raw_decode
_get_fields = itemgetter(*FIELDS)


class _Unusual(Exception):
    """A record the inline checks do not settle; the reference way takes it."""


def fold_readings(state: WindowState, raw_records: Sequence[Mapping[str, Any]]) -> list[Rejected]:
    """Fold a batch's records into `state`, in order; the records refused, with their reasons.

    `aggregate`'s per-record path (`make bench` measures it against decoding
    alone). Every record is checked in full, one of two ways:

    - inline, for a record as the producer writes it: a unicorn the window
      already has, each field of its exact JSON type and in range, nothing after
      the JSON but a newline, and an arrival no earlier than the batch's first
      second. Each check is one `read_fields` and `ArrivalCheck` make; the costly
      ones are made once per value: a name is valid because the window holds
      it (only valid readings enter), and a StatusTime once per batch, against
      `is_status_time` and the arrival bound of the batch's first second.
    - the reference way for anything else (a new unicorn, a whole number where
      a float goes, other whitespace, a bad record): `read_fields` and
      `ArrivalCheck`, which word the reason.

    tests/unit/test_fold.py holds the two ways to the same states and refusals.
    """
    unicorns = state.unicorns
    rejected: list[Rejected] = []
    if not raw_records:
        return rejected
    check_arrival = ArrivalCheck()
    # A narrower inline check only sends more records the reference way, which no
    # test can see, so mutants skip the inline checks: tests/unit/test_fold.py holds
    # them to the reference way instead (a wider check fails it).
    # pragma: no mutate start
    try:
        first_second = int(raw_records[0]["kinesis"]["approximateArrivalTimestamp"])
        latest = latest_status_time(first_second)
        earliest = float(first_second)  # compared with floats: the quickest comparison
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        # An arrival Kinesis never writes: every record goes the reference way.
        latest, earliest = "", math.inf
    status_times: set[str] = set()
    max_distance, max_points = MAX_DISTANCE, MAX_POINTS
    a2b, decode, get_fields = a2b_base64, _raw_decode, _get_fields
    for raw in raw_records:
        kinesis = raw["kinesis"]
        try:
            text = a2b(kinesis["data"]).decode()
            obj, end = decode(text)
            name, status_time, latitude, longitude, distance, health, magic = get_fields(obj)
            entry = unicorns[name]
            if status_time not in status_times:
                if (
                    type(status_time) is not str
                    or not is_status_time(status_time)
                    or status_time > latest
                ):
                    raise _Unusual
                status_times.add(status_time)
            # `x.__class__` and unchained comparisons: the cheapest forms, measured.
            if not (
                text[end:] in _USUAL_ENDS
                and latitude.__class__ is longitude.__class__ is distance.__class__ is float
                and health.__class__ is magic.__class__ is int
                and latitude >= -90.0
                and latitude <= 90.0
                and longitude >= -180.0
                and longitude <= 180.0
                and distance >= 0.0
                and distance <= max_distance
                and health >= 0
                and health <= max_points
                and magic >= 0
                and magic <= max_points
                and kinesis["approximateArrivalTimestamp"] >= earliest
            ):
                raise _Unusual
            # pragma: no mutate end
        except (_Unusual, ValueError, KeyError, TypeError, RecursionError):
            try:
                fields = read_fields(a2b(kinesis["data"]))
                check_arrival(fields[1], kinesis["approximateArrivalTimestamp"])
            except InvalidRecord as err:
                rejected.append(rejected_record(stream_record(raw), err.reason))
                continue
            name, status_time, latitude, longitude, distance, health, magic = fields
            if name not in unicorns:
                unicorns[name] = [
                    1,
                    distance,
                    magic,
                    magic,
                    health,
                    health,
                    kinesis["sequenceNumber"],
                    status_time,
                    status_time,
                    latitude,
                    longitude,
                ]
                continue
            entry = unicorns[name]
        entry[SAMPLES] += 1
        entry[DISTANCE] += distance
        # A value equal to the minimum or maximum changes nothing whether or not it
        # replaces it, so these comparisons' `<=` and `>=` mutants are equivalent.
        if magic < entry[MIN_MAGIC]:  # pragma: no mutate: equal replaces equal
            entry[MIN_MAGIC] = magic
        elif magic > entry[MAX_MAGIC]:  # pragma: no mutate: equal replaces equal
            entry[MAX_MAGIC] = magic
        if health < entry[MIN_HEALTH]:  # pragma: no mutate: equal replaces equal
            entry[MIN_HEALTH] = health
        elif health > entry[MAX_HEALTH]:  # pragma: no mutate: equal replaces equal
            entry[MAX_HEALTH] = health
        # Records mostly come in time order: the latest so far is also not the first.
        if status_time >= entry[LAST_TIME]:
            entry[LAST_TIME] = status_time
            entry[LATITUDE] = latitude
            entry[LONGITUDE] = longitude
        elif status_time < entry[FIRST_TIME]:  # pragma: no mutate: equal replaces equal
            entry[FIRST_TIME] = status_time
    return rejected
