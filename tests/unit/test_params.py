"""API query parameters: accepted forms, and a 400 naming the parameter otherwise."""

from __future__ import annotations

import base64

import pytest

from chalicelib.errors import InvalidParameter
from chalicelib.unicorns.params import (
    DEFAULT_LIMIT,
    SummaryQuery,
    decode_page_token,
    encode_page_token,
    summary_query,
)


def test_defaults() -> None:
    assert summary_query("Shadowfax", None) == SummaryQuery(
        "Shadowfax", None, None, DEFAULT_LIMIT, None
    )


@pytest.mark.parametrize(
    ("params", "start", "end"),
    [
        ({"from": "2026-11-22 14:00:00.000"}, "2026-11-22 14:00:00.000", None),
        ({"from": "2026-11-22T14:00:00Z"}, "2026-11-22 14:00:00.000", None),
        ({"from": "2026-11-22T15:00:00+01:00"}, "2026-11-22 14:00:00.000", None),
        ({"to": "2026-11-22T15:00:00Z"}, None, "2026-11-22 14:59:59.999"),
        (
            {"from": "2026-11-22", "to": "2026-11-23"},
            "2026-11-22 00:00:00.000",
            "2026-11-22 23:59:59.999",
        ),
        (  # the shortest span: one millisecond
            {"from": "2026-11-22 14:00:00.000", "to": "2026-11-22 14:00:00.001"},
            "2026-11-22 14:00:00.000",
            "2026-11-22 14:00:00.000",
        ),
    ],
)
def test_from_is_inclusive_and_to_exclusive(
    params: dict[str, str], start: str | None, end: str | None
) -> None:
    query = summary_query("Shadowfax", params)
    assert (query.start, query.end) == (start, end)


TO_AFTER_FROM = "must be later than 'from'"
NOT_A_TIME = "not a time: {!r} (use 'YYYY-MM-DD HH:MM:SS.mmm' or ISO 8601)"
NOT_A_LIMIT = "must be a whole number from 1 to 1000"
# 100 000 "[": too deep for the json module, which gives up with a RecursionError.
DEEP = base64.urlsafe_b64encode(b"[" * 100_000).decode()
NOT_OURS = "not a page token from this unicorn's summaries listing"


@pytest.mark.parametrize(
    ("params", "parameter", "message"),
    [
        ({"from": "yesterday"}, "from", NOT_A_TIME.format("yesterday")),
        ({"to": "2026-13-01"}, "to", NOT_A_TIME.format("2026-13-01")),
        ({"to": "0001-01-01"}, "to", "must be later than 0001-01-01"),
        ({"from": "2026-11-22T15:00Z", "to": "2026-11-22T14:00Z"}, "to", TO_AFTER_FROM),
        ({"from": "2026-11-22T15:00Z", "to": "2026-11-22T15:00Z"}, "to", TO_AFTER_FROM),
        ({"limit": "0"}, "limit", NOT_A_LIMIT),
        ({"limit": "1001"}, "limit", NOT_A_LIMIT),
        ({"limit": "ten"}, "limit", NOT_A_LIMIT),
        ({"next": "garbage!"}, "next", NOT_OURS),
        ({"next": DEEP}, "next", NOT_OURS),
        ({"next": encode_page_token("Rocinante", "2026-11-22 14:00:00.000")}, "next", NOT_OURS),
        ({"form": "2026-11-22"}, "form", "unknown parameter; expected from, to, limit, next"),
    ],
)
def test_bad_parameters_are_refused_naming_the_parameter_and_what_it_takes(
    params: dict[str, str], parameter: str, message: str
) -> None:
    with pytest.raises(InvalidParameter) as caught:
        summary_query("Shadowfax", params)
    assert caught.value.parameter == parameter
    assert str(caught.value) == f"{parameter}: {message}"


@pytest.mark.parametrize("length", range(20, 28))
def test_page_tokens_of_any_length_round_trip(length: int) -> None:
    # Base64 pads to a multiple of 4; tokens leave the padding off and get it back.
    moment = "2026-11-22 14:00:00.000"
    token = encode_page_token("S" * length, moment)
    assert decode_page_token("S" * length, token) == moment


def test_page_tokens_round_trip_and_are_url_safe() -> None:
    token = encode_page_token("Shadowfax", "2026-11-22 14:00:00.000")
    # The format stays put: a client holding a token across a deploy can still follow it.
    assert token == "eyJuIjoiU2hhZG93ZmF4IiwidCI6IjIwMjYtMTEtMjIgMTQ6MDA6MDAuMDAwIn0"
    assert token.replace("-", "").replace("_", "").isalnum()
    assert decode_page_token("Shadowfax", token) == "2026-11-22 14:00:00.000"
    assert (
        summary_query("Shadowfax", {"next": token, "limit": "5"}).after
        == "2026-11-22 14:00:00.000"
    )
