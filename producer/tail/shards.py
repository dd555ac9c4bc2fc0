"""Which shards `python -m producer.tail` reads, from where, and in what order.

Pure bookkeeping over what ListShards says. A stream's records are ordered
within a shard only; after a reshard a closed parent still holds the records
written before it, so a child is read only once its parents are exhausted
(or no longer listed, past the stream's retention). Shards that appear later
are children of a reshard: all of their records are new, so they are read
from their first record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from chalicelib.pipeline.timestamps import parse_instant, to_iso
from local.shards import Shard, ready_shards

LATEST = "LATEST"
TRIM_HORIZON = "TRIM_HORIZON"
AT_TIMESTAMP = "AT_TIMESTAMP"


@dataclass(frozen=True)
class Start:
    """Where reading begins in each shard listed when the tail starts."""

    kind: str  # LATEST, TRIM_HORIZON or AT_TIMESTAMP
    at: datetime | None = None  # for AT_TIMESTAMP, in UTC

    def iterator_args(self) -> dict[str, Any]:
        """GetShardIterator's position parameters."""
        if self.at is None:
            return {"ShardIteratorType": self.kind}
        return {"ShardIteratorType": AT_TIMESTAMP, "Timestamp": self.at}

    def describe(self) -> str:
        if self.at is not None:
            return f"{to_iso(self.at)} ({AT_TIMESTAMP})"
        if self.kind == TRIM_HORIZON:
            return f"the oldest record ({TRIM_HORIZON})"
        return f"new records only ({LATEST})"


START_FORMS = "latest, start, or an ISO 8601 time such as 2026-11-22T15:39:12Z"


def parse_start(text: str) -> Start:
    """`latest`, `start` or a time (ISO 8601, offsets and fractions allowed), else ValueError."""
    word = text.strip().lower()
    if word == "latest":
        return Start(LATEST)
    if word == "start":
        return Start(TRIM_HORIZON)
    try:
        return Start(AT_TIMESTAMP, parse_instant(text))
    except ValueError:
        raise ValueError(f"expected {START_FORMS}, got {text!r}") from None


class State(Enum):
    WAITING = "waiting"  # for its parents
    READING = "reading"
    FINISHED = "finished"


class ShardPlan:
    """The shards of a stream and where the tail stands in each."""

    def __init__(self, start: Start) -> None:
        self.start = start
        self._shards: dict[str, Shard] = {}
        self._state: dict[str, State] = {}
        self._from_start: set[str] = set()  # listed at the start: read from `start`
        self._listed: set[str] = set()
        self._first = True

    def learn(self, listing: Iterable[Shard]) -> None:
        """Take in a ListShards result: new shards, and shards that have closed since."""
        shards = list(listing)
        self._listed = {s.shard_id for s in shards}
        for shard in shards:
            if shard.shard_id not in self._shards:
                self._state[shard.shard_id] = State.WAITING
                if self._first:
                    self._from_start.add(shard.shard_id)
                    if self.start.kind == LATEST and shard.closed:
                        # Closed before we started: nothing new will arrive there.
                        self._state[shard.shard_id] = State.FINISHED
            self._shards[shard.shard_id] = shard
        self._first = False

    def ready(self) -> list[tuple[Shard, dict[str, Any]]]:
        """Shards to start reading now, with GetShardIterator's position for each.

        A parent that is no longer listed has passed the retention period: there is
        nothing to wait for (`local.shards.ready_shards`, the rule Lambda keeps too).
        """
        waiting = [self._shards[s] for s in sorted(self._state) if self._state[s] is State.WAITING]
        finished = {s for s, state in self._state.items() if state is State.FINISHED}
        found = []
        for shard in ready_shards(waiting, finished, self._listed):
            self._state[shard.shard_id] = State.READING
            position = (
                self.start.iterator_args()
                if shard.shard_id in self._from_start
                else {"ShardIteratorType": TRIM_HORIZON}
            )
            found.append((shard, position))
        return found

    def finish(self, shard_id: str) -> None:
        """The shard has been read to its end (or is gone): its children may start."""
        self._state[shard_id] = State.FINISHED

    @property
    def reading(self) -> list[str]:
        return sorted(s for s, state in self._state.items() if state is State.READING)

    @property
    def listed(self) -> int:
        return len(self._listed)

    @property
    def open(self) -> int:
        return sum(1 for s in self._listed if not self._shards[s].closed)
