"""Per-unicorn statistics over one Lambda tumbling window.

Lambda cuts a shard's records into windows by arrival time and hands each
invocation the `state` the previous invocation of the same window returned
(docs/lambda-kinesis.md, "Tumbling windows"). `WindowState` is that state: it is folded over each
batch and, on the final invocation, turned into one summary row per unicorn.
The state is plain JSON with short lists because Lambda limits it to 1 MB per
shard; a unicorn costs about 150 bytes, so a shard holds thousands.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.records import Reading, ReadingFields
from chalicelib.summaries import Summary
from chalicelib.timestamps import format_status_time, parse_instant

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


class InvalidState(ValueError):
    """The `state` in the event is not one this code wrote."""


@dataclass(frozen=True)
class Window:
    """A tumbling window's bounds, as Lambda puts them in the event."""

    start: datetime
    end: datetime

    @classmethod
    def from_event(cls, window: Mapping[str, str]) -> Window:
        return cls(parse_instant(window["start"]), parse_instant(window["end"]))


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
