"""A tumbling window, as Lambda names it in the event, and the error for a state it cannot use.

Lambda cuts a shard's records into windows by arrival time and hands each
invocation the `state` the previous invocation of the same window returned
(docs/lambda-kinesis.md, "Tumbling windows"). Each data set keeps its own
state (`chalicelib.unicorns.windows`, `chalicelib.taxi.windows`); this is
what they share.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from chalicelib.pipeline.batches import Rejected
from chalicelib.pipeline.events import Entry, KinesisBatch
from chalicelib.pipeline.timestamps import parse_instant


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


@dataclass(frozen=True)
class Closed:
    """What a closed window makes: rows for the summary stream, and words for the log."""

    rows: list[Entry]
    records: int  # records the rows stand for
    first: str  # what the log line names the window by


class WindowedState(Protocol):
    invalid: int

    def to_state(self) -> dict[str, Any]: ...


class WindowedDataSet(Protocol):
    """A data set's part of `aggregate`."""

    metric: str  # what the metric names call its rows: <metric>Emitted

    def state(self, saved: Mapping[str, Any] | None) -> WindowedState:
        """The window's state from what Lambda passed in (`{}` or None: a new window)."""

    def fold(self, state: Any, batch: KinesisBatch) -> list[Rejected]:
        """Fold the batch's records into `state`; the ones refused, with their reasons."""

    def close(self, state: Any, window: Window, shard_id: str) -> Closed:
        """The rows of a closed window."""
