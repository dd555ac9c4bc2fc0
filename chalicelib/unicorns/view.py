"""The read side behind the HTTP API: the fleet, one unicorn, its history, open alerts.

Returns JSON-ready dictionaries; problems are the project's API errors, which
Chalice answers with a status code and a message, never a stack trace.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import unquote

from chalicelib.errors import InvalidParameter, UnicornNotFound, available
from chalicelib.pipeline.timestamps import parse_status_time
from chalicelib.unicorns.params import encode_page_token, summary_query
from chalicelib.unicorns.records import MAX_NAME_LENGTH
from chalicelib.unicorns.store import StatusStore, SummaryStore
from chalicelib.unicorns.vitals import Status

T = TypeVar("T")


class FleetView:
    """Answers the API's questions from the status and summary tables.

    Each status says how old it is when answered (`AgeSeconds`: the clock now
    less its `StatusTime`): vitals writes a steady unicorn's status once per
    STATUS_INTERVAL, so a status is that much older than the newest reading at most,
    plus however far vitals is behind the stream.
    """

    def __init__(
        self,
        statuses: StatusStore,
        summaries: SummaryStore,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.statuses = statuses
        self.summaries_store = summaries
        self.clock = clock

    def unicorns(self) -> dict[str, Any]:
        statuses = _available(lambda: self.statuses.scan())
        return {"unicorns": self._rows(statuses), "count": len(statuses)}

    def unicorn(self, name: str) -> dict[str, Any]:
        name = _name(name)
        record = _available(lambda: self.statuses.get(name))
        if record is None:
            raise UnicornNotFound(name)
        return self._row(record.state, self.clock())

    def summaries(self, name: str, params: Mapping[str, str] | None) -> dict[str, Any]:
        name = _name(name)
        query = summary_query(name, params)
        rows, more = _available(lambda: self.summaries_store.query(query))
        if (
            not rows
            and query.after is None
            and _available(lambda: self.statuses.get(name)) is None
        ):
            raise UnicornNotFound(name)
        return {
            "unicorn": name,
            "summaries": [s.to_row() for s in rows],
            "count": len(rows),
            "next": encode_page_token(name, rows[-1].status_time) if more else None,
        }

    def alerts(self) -> dict[str, Any]:
        statuses = _available(lambda: self.statuses.scan(alerting_only=True))
        return {"alerts": self._rows(statuses), "count": len(statuses)}

    def _rows(self, statuses: list[Status]) -> list[dict[str, Any]]:
        now = self.clock()
        return [self._row(s, now) for s in sorted(statuses, key=lambda s: s.name)]

    @staticmethod
    def _row(status: Status, now: float) -> dict[str, Any]:
        taken = parse_status_time(status.status_time).timestamp()
        return {**status.to_row(), "AgeSeconds": round(max(0.0, now - taken), 1)}


def _name(path_parameter: str) -> str:
    # API Gateway (and so Chalice) hands path parameters over still percent-encoded.
    name = unquote(path_parameter)
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidParameter("name", f"must be 1 to {MAX_NAME_LENGTH} characters")
    return name


def _available(read: Callable[[], T]) -> T:
    return available(read, "the fleet data")
