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
