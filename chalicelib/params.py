"""What every read API's query parameters share: unknown names refused, times, numbers, days.

Every problem raises InvalidParameter naming the parameter, which the API
answers with HTTP 400. Each data set's `params` turns its own parameters into
its store's queries with these.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta

from chalicelib.errors import InvalidParameter
from chalicelib.pipeline.timestamps import format_status_time, parse_instant

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def known(params: Mapping[str, str] | None, expected: Sequence[str]) -> Mapping[str, str]:
    """The parameters, or InvalidParameter naming the first one not `expected`.

    Refusing unknown ones means a typo (`form=`) is not silently ignored.
    """
    params = params or {}
    unknown = sorted(set(params) - set(expected))
    if unknown:
        raise InvalidParameter(unknown[0], f"unknown parameter; expected {', '.join(expected)}")
    return params


def instant(parameter: str, text: str) -> datetime:
    """A UTC instant from StatusTime or ISO 8601 (see `parse_instant`)."""
    try:
        return parse_instant(text)
    except ValueError as err:
        raise InvalidParameter(parameter, str(err)) from None


def last_before(parameter: str, moment: datetime) -> str:
    """The StatusTime of the last millisecond before `moment`: an exclusive end made inclusive."""
    try:
        return format_status_time(moment - timedelta(milliseconds=1))
    except OverflowError:
        raise InvalidParameter(parameter, "must be later than 0001-01-01") from None


def whole_number(
    parameter: str, text: str | None, low: int, high: int, default: int | None = None
) -> int:
    """`text` as a whole number from `low` to `high`; `default` if absent (None: required)."""
    expected = f"a whole number from {low} to {high}"
    if text is None:
        if default is None:
            raise InvalidParameter(parameter, f"required: {expected}")
        return default
    try:
        number: int | None = int(text)
    except ValueError:  # also a string of more digits than int() reads (over 4300)
        number = None
    if number is None or not low <= number <= high:
        raise InvalidParameter(parameter, f"must be {expected}")
    return number


def day(parameter: str, text: str | None, default: date) -> str:
    """`text` as a day, `YYYY-MM-DD` (`default` if absent), in that form."""
    if text is None:
        return default.isoformat()
    # fromisoformat alone would take "20261123" and week dates ("2026-W48-1") too.
    if _DAY.fullmatch(text):
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:  # 2026-13-01, 2026-02-30, 0000-01-01
            pass
    raise InvalidParameter(parameter, "must be a day as YYYY-MM-DD")
