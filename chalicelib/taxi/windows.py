"""Taxi trips on the windowed machinery: partial insights per pickup zone and pickup window.

The taxi data set's part of `aggregate` (see `chalicelib.pipeline.aggregator`). A
window of arrival folds each trip into the sums of its pickup zone and
15-minute window of pickup time (`chalicelib.taxi.summaries`); when it closes, each
sum becomes one partial row, named after the shard and the arrival window
(`<shard>:<window start>`), so that a retried closing invocation makes the
same part, which merging counts once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from chalicelib.pipeline.batches import Rejected, rejected_record
from chalicelib.pipeline.events import KinesisBatch
from chalicelib.pipeline.jsonrecords import InvalidRecord
from chalicelib.pipeline.timestamps import format_status_time
from chalicelib.pipeline.windows import Closed, InvalidState, Window
from chalicelib.taxi.records import parse_trip
from chalicelib.taxi.summaries import SUMS, ZoneWindow, encode_partial, fold_trip

STATE_VERSION = 1
ROW_LENGTH = 2 + len(SUMS)  # zone, window start, then the sums


class TripWindowState:
    """The sums of one arrival window of a shard, by (pickup zone, window of pickup)."""

    __slots__ = ("invalid", "windows")

    def __init__(
        self, windows: dict[tuple[int, str], ZoneWindow] | None = None, invalid: int = 0
    ) -> None:
        self.windows = windows if windows is not None else {}
        self.invalid = invalid

    @classmethod
    def from_state(cls, state: Mapping[str, Any] | None) -> TripWindowState:
        if not state:
            return cls()
        zones, invalid = state.get("zones"), state.get("invalid")
        if (
            state.get("v") != STATE_VERSION
            or not isinstance(zones, list)
            or not isinstance(invalid, int)
            or not all(isinstance(row, list) and len(row) == ROW_LENGTH for row in zones)
        ):
            raise InvalidState(
                f"trip window state is not version {STATE_VERSION}: {sorted(state)}"
            )
        windows = {}
        for zone, start, *sums in zones:
            # The rows' length is checked above, so zip needs no strict= here.
            window = ZoneWindow(zone, start, **dict(zip(SUMS.values(), sums)))  # noqa: B905
            windows[window.key] = window
        return cls(windows, invalid)

    def to_state(self) -> dict[str, Any]:
        zones = [[w.zone, w.window_start, *w.sums()] for w in self.windows.values()]
        return {"v": STATE_VERSION, "zones": zones, "invalid": self.invalid}


class TaxiTrips:
    """Partial taxi insights of `taxi-trips`: one row per pickup zone and window it saw."""

    metric = "Partials"

    def state(self, saved: Mapping[str, Any] | None) -> TripWindowState:
        return TripWindowState.from_state(saved)

    def fold(self, state: TripWindowState, batch: KinesisBatch) -> list[Rejected]:
        rejected = []
        for record in batch.records:
            try:
                trip = parse_trip(record.data)
            except InvalidRecord as err:
                rejected.append(rejected_record(record, err.reason))
                continue
            fold_trip(state.windows, trip)
        return rejected

    def close(self, state: TripWindowState, window: Window, shard_id: str) -> Closed:
        part = f"{shard_id}:{format_status_time(window.start)}"
        ordered = sorted(state.windows.values(), key=lambda w: w.key)
        return Closed(
            rows=[
                (encode_partial(replace(w, parts=frozenset({part}))), str(w.zone)) for w in ordered
            ],
            records=sum(w.trips for w in ordered),
            first=format_status_time(window.start),
        )


TAXI_TRIPS = TaxiTrips()
