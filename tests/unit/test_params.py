"""API query parameters: accepted forms, and a 400 naming the parameter otherwise."""

from __future__ import annotations

import pytest

from chalicelib.errors import InvalidParameter
from chalicelib.params import (
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
    ],
)
def test_from_is_inclusive_and_to_exclusive(
    params: dict[str, str], start: str | None, end: str | None
) -> None:
    query = summary_query("Shadowfax", params)
    assert (query.start, query.end) == (start, end)


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-13-01"}, "to"),
        ({"to": "0001-01-01"}, "to"),
        ({"from": "2026-11-22T15:00Z", "to": "2026-11-22T14:00Z"}, "to"),
        ({"from": "2026-11-22T15:00Z", "to": "2026-11-22T15:00Z"}, "to"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"next": "garbage!"}, "next"),
        ({"next": encode_page_token("Rocinante", "2026-11-22 14:00:00.000")}, "next"),
        ({"form": "2026-11-22"}, "form"),
    ],
)
def test_bad_parameters_name_the_parameter(params: dict[str, str], parameter: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        summary_query("Shadowfax", params)
    assert caught.value.parameter == parameter
    assert str(caught.value).startswith(f"{parameter}: ")


def test_page_tokens_round_trip_and_are_url_safe() -> None:
    token = encode_page_token("Shadowfax", "2026-11-22 14:00:00.000")
    assert token.replace("-", "").replace("_", "").isalnum()
    assert decode_page_token("Shadowfax", token) == "2026-11-22 14:00:00.000"
    assert (
        summary_query("Shadowfax", {"next": token, "limit": "5"}).after
        == "2026-11-22 14:00:00.000"
    )
