"""Query parameters of the read API, checked and turned into store queries.

Every problem raises InvalidParameter naming the parameter, which the API
answers with HTTP 400.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from chalicelib.errors import InvalidParameter
from chalicelib.pipeline.timestamps import format_status_time, is_status_time, parse_instant

DEFAULT_LIMIT = 60  # an hour of per-minute rows
MAX_LIMIT = 1000
SUMMARY_PARAMETERS = ("from", "to", "limit", "next")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class SummaryQuery:
    """A page of one unicorn's summaries: `start` <= StatusTime <= `end`, after `after`."""

    name: str
    start: str | None
    end: str | None
    limit: int
    after: str | None


def summary_query(name: str, params: Mapping[str, str] | None) -> SummaryQuery:
    """The query for `GET /unicorns/{name}/summaries?from=&to=&limit=&next=`.

    `from` is inclusive and `to` exclusive; both take StatusTime or ISO 8601.
    """
    params = known(params, SUMMARY_PARAMETERS)
    start = end = None
    if "from" in params:
        start = format_status_time(instant("from", params["from"]))
    if "to" in params:
        end = last_before("to", instant("to", params["to"]))
    if start is not None and end is not None and start > end:
        raise InvalidParameter("to", "must be later than 'from'")
    return SummaryQuery(
        name=name,
        start=start,
        end=end,
        limit=whole_number("limit", params.get("limit"), 1, MAX_LIMIT, DEFAULT_LIMIT),
        after=decode_page_token(name, params["next"]) if "next" in params else None,
    )


def encode_page_token(name: str, last_status_time: str) -> str:
    """An opaque token that continues a listing after `last_status_time`."""
    raw = json.dumps({"n": name, "t": last_status_time}, separators=(",", ":"))
    # Equivalent mutant: rstrip("XX=XX") strips the same, the base64 of "}" never ends in X.
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")  # pragma: no mutate


NOT_OURS = "not a page token from this unicorn's summaries listing"


def decode_page_token(name: str, token: str) -> str:
    """The StatusTime a token continues after; InvalidParameter if it is not ours."""
    try:
        # The encoder drops the padding; the decoder ignores any past what it needs.
        content = json.loads(base64.urlsafe_b64decode(f"{token}==".encode()))
    # RecursionError: a token of 100 000 "[" is not ours either.
    except (binascii.Error, ValueError, UnicodeError, RecursionError):
        raise InvalidParameter("next", NOT_OURS) from None
    if (
        isinstance(content, dict)
        and content.get("n") == name
        and isinstance(content.get("t"), str)
        and is_status_time(content["t"])
    ):
        return str(content["t"])
    raise InvalidParameter("next", NOT_OURS)


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
