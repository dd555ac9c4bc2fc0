"""Per-unicorn statistics over one Lambda tumbling window.

Lambda cuts a shard's records into windows by arrival time and hands each
invocation the `state` the previous invocation of the same window returned
(docs/lambda-kinesis.md, "Tumbling windows"). `WindowState` is that state: it is folded over each
batch and, on the final invocation, turned into one summary row per unicorn.
The state is plain JSON with short lists because Lambda limits it to 1 MB per
shard; a unicorn costs about 150 bytes, so a shard holds thousands.
"""

from __future__ import annotations

from binascii import a2b_base64
from collections.abc import Mapping
from typing import Any

from chalicelib.pipeline.batches import Rejected, rejected_record
from chalicelib.pipeline.events import KinesisBatch, stream_record
from chalicelib.pipeline.timestamps import format_status_time
from chalicelib.pipeline.windows import Closed, InvalidState, Window
from chalicelib.unicorns.records import (
    ArrivalCheck,
    InvalidRecord,
    Reading,
    ReadingFields,
    read_fields,
)
from chalicelib.unicorns.summaries import Summary, encode_row

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

    def add(self, reading: Reading, sequence_number: str) -> None:
        """Fold one reading in. Records of a shard arrive in sequence order."""
        self.add_fields(
            (
                reading.name,
                reading.status_time,
                reading.latitude,
                reading.longitude,
                reading.distance,
                reading.health,
                reading.magic,
            ),
            sequence_number,
        )

    def add_fields(self, fields: ReadingFields, sequence_number: str) -> None:
        """Fold in one reading given as `records.read_fields` returns it (aggregate's hot path)."""
        name, status_time, latitude, longitude, distance, health, magic = fields
        entry = self.unicorns.get(name)
        if entry is None:
            self.unicorns[name] = [
                1,
                distance,
                magic,
                magic,
                health,
                health,
                sequence_number,
                status_time,
                status_time,
                latitude,
                longitude,
            ]
            return
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
        if status_time < entry[FIRST_TIME]:  # pragma: no mutate: equal replaces equal
            entry[FIRST_TIME] = status_time
        if status_time >= entry[LAST_TIME]:
            entry[LAST_TIME] = status_time
            entry[LATITUDE] = latitude
            entry[LONGITUDE] = longitude

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
        rejected = []
        add = state.add_fields
        check_arrival = ArrivalCheck()
        # The per-record path (make bench measures it): straight from the event's
        # dictionaries, a tuple per reading, a StreamRecord only for a rejected one.
        for raw in batch.raw_records:
            kinesis = raw["kinesis"]
            try:
                fields = read_fields(a2b_base64(kinesis["data"]))
                check_arrival(fields[1], kinesis["approximateArrivalTimestamp"])
            except InvalidRecord as err:
                rejected.append(rejected_record(stream_record(raw), err.reason))
                continue
            add(fields, kinesis["sequenceNumber"])
        return rejected

    def close(self, state: WindowState, window: Window, shard_id: str) -> Closed:
        summaries = state.summaries(window, shard_id)
        return Closed(
            rows=[(encode_row(s), s.name) for s in summaries],
            records=sum(s.samples for s in summaries),
            first=format_status_time(window.start),
        )


UNICORN_READINGS = UnicornReadings()
