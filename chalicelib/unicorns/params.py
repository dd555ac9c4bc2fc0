"""Query parameters of the unicorns' read API, checked and turned into store queries.

Every problem raises InvalidParameter naming the parameter, which the API
answers with HTTP 400.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.errors import InvalidParameter
from chalicelib.params import instant, known, last_before, whole_number
from chalicelib.pipeline.timestamps import format_status_time, is_status_time

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
