"""Query parameters of the taxi read API (`/taxi/...`), checked and turned into queries.

The checks are `chalicelib.unicorns.params`' shared ones: every problem raises
InvalidParameter naming the parameter, which the API answers with HTTP 400,
and unknown parameters are refused. Defaults that depend on the time take
`now` (or `today`) from the caller, never from the clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from chalicelib.errors import InvalidParameter
from chalicelib.params import day, instant, known, last_before, whole_number
from chalicelib.pipeline.timestamps import format_status_time
from chalicelib.taxi.records import MAX_ZONE, MIN_ZONE
from chalicelib.taxi.summaries import WINDOW_MINUTES

WINDOWS_A_DAY = 24 * 60 // WINDOW_MINUTES
DEFAULT_TOP = 5
DEFAULT_AVERAGE = 60 // WINDOW_MINUTES  # an hour of windows
DEFAULT_SPAN = timedelta(hours=24)
MAX_SPAN = timedelta(days=7)
PEAKS_PARAMETERS = ("date", "top")
FARES_PARAMETERS = ("zone", "from", "to", "average")
ZONES_PARAMETERS = ("date",)


@dataclass(frozen=True)
class PeaksQuery:
    """A day's demand and its `top` busiest windows and zones."""

    day: str  # YYYY-MM-DD
    top: int


@dataclass(frozen=True)
class FaresQuery:
    """One zone's windows starting from `start` and before `end`, averaged over `average`."""

    zone: int
    start: str  # StatusTime, inclusive
    end: str  # StatusTime, exclusive
    last: str  # StatusTime, the last millisecond before `end` (the store's bounds are inclusive)
    average: int  # windows in the moving averages


def peaks_query(params: Mapping[str, str] | None, today: date) -> PeaksQuery:
    """The query for `GET /taxi/peaks?date=&top=`."""
    params = known(params, PEAKS_PARAMETERS)
    return PeaksQuery(
        day=day("date", params.get("date"), today),
        top=whole_number("top", params.get("top"), 1, WINDOWS_A_DAY, DEFAULT_TOP),
    )


def zones_day(params: Mapping[str, str] | None, today: date) -> str:
    """The day of `GET /taxi/zones?date=`."""
    params = known(params, ZONES_PARAMETERS)
    return day("date", params.get("date"), today)


def fares_query(params: Mapping[str, str] | None, now: datetime) -> FaresQuery:
    """The query for `GET /taxi/fares?zone=&from=&to=&average=`.

    `from` is inclusive and `to` exclusive, StatusTime or ISO 8601; by
    default `to` is now and `from` a day earlier; at most 7 days apart. A
    range that is not is blamed on `to`, or on `from` when `to` is the default.
    """
    params = known(params, FARES_PARAMETERS)
    zone = whole_number("zone", params.get("zone"), MIN_ZONE, MAX_ZONE)
    end = instant("to", params["to"]) if "to" in params else now
    last = last_before("to", end)
    if "from" in params:
        start = instant("from", params["from"])
    else:
        try:
            start = end - DEFAULT_SPAN
        except OverflowError:  # `to` in the first day of year 1
            start = datetime.min.replace(tzinfo=UTC)
    if "to" in params:
        if start >= end:
            raise InvalidParameter("to", "must be later than 'from'")
        if end - start > MAX_SPAN:
            raise InvalidParameter("to", f"must be at most {MAX_SPAN.days} days after 'from'")
    else:  # name the parameter the request has
        if start >= end:
            raise InvalidParameter("from", "must be earlier than 'to' (by default now)")
        if end - start > MAX_SPAN:
            raise InvalidParameter(
                "from", f"must be at most {MAX_SPAN.days} days before 'to' (by default now)"
            )
    return FaresQuery(
        zone=zone,
        start=format_status_time(start),
        end=format_status_time(end),
        last=last,
        average=whole_number("average", params.get("average"), 1, WINDOWS_A_DAY, DEFAULT_AVERAGE),
    )
