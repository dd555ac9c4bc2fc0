"""Query parameters of the read API, checked and turned into store queries.

Every problem raises InvalidParameter naming the parameter, which the API
answers with HTTP 400.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.errors import InvalidParameter
from chalicelib.timestamps import format_status_time, is_status_time, parse_instant

DEFAULT_LIMIT = 60  # an hour of per-minute rows
MAX_LIMIT = 1000
SUMMARY_PARAMETERS = ("from", "to", "limit", "next")


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
    params = params or {}
    unknown = sorted(set(params) - set(SUMMARY_PARAMETERS))
    if unknown:
        raise InvalidParameter(
            unknown[0], f"unknown parameter; expected {', '.join(SUMMARY_PARAMETERS)}"
        )
    start = end = None
    if "from" in params:
        start = format_status_time(_instant("from", params["from"]))
    if "to" in params:
        to = _instant("to", params["to"])
        try:
            end = format_status_time(to - timedelta(milliseconds=1))
        except OverflowError:
            raise InvalidParameter("to", "must be later than 0001-01-01") from None
    if start is not None and end is not None and start > end:
        raise InvalidParameter("to", "must be later than 'from'")
    return SummaryQuery(
        name=name,
        start=start,
        end=end,
        limit=_limit(params.get("limit")),
        after=decode_page_token(name, params["next"]) if "next" in params else None,
    )


def encode_page_token(name: str, last_status_time: str) -> str:
    """An opaque token that continues a listing after `last_status_time`."""
    raw = json.dumps({"n": name, "t": last_status_time}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_page_token(name: str, token: str) -> str:
    """The StatusTime a token continues after; InvalidParameter if it is not ours."""
    try:
        padded = token + "=" * (-len(token) % 4)
        content = json.loads(base64.urlsafe_b64decode(padded.encode()))
        valid = (
            isinstance(content, dict)
            and content.get("n") == name
            and isinstance(content.get("t"), str)
            and is_status_time(content["t"])
        )
    except (binascii.Error, ValueError, UnicodeError, RecursionError):
        valid = False  # RecursionError: a token of 100 000 "[" is not ours either
    if not valid:
        raise InvalidParameter("next", "not a page token from this unicorn's summaries listing")
    return str(content["t"])


def _instant(parameter: str, text: str) -> datetime:
    try:
        return parse_instant(text)
    except ValueError as err:
        raise InvalidParameter(parameter, str(err)) from None


def _limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    try:
        limit = int(text)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidParameter("limit", f"must be a whole number from 1 to {MAX_LIMIT}")
    return limit
