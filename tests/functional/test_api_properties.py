"""Every API parameter, any value: 200, 400 naming the parameter, or 404; never a 500.

Property-based (hypothesis) through `chalice.test.Client` on moto. The fleet
is a few unicorns with awkward names and an hour and a half of one unicorn's
summaries; the taxi routes read a morning of the taxi model's day. Each
property draws about 100 requests. Errors must be the API's
JSON `{"Code", "Message"}` with the parameter's name first in the message.
"""

from __future__ import annotations

import base64
import json
import re
import string
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import pytest
from chalice.test import Client
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from chalicelib import bootstrap
from chalicelib.pipeline.timestamps import format_status_time
from chalicelib.taxi.records import MAX_ZONE, MIN_ZONE
from chalicelib.taxi.summaries import partials
from chalicelib.unicorns.params import MAX_LIMIT, encode_page_token
from chalicelib.unicorns.records import MAX_NAME_LENGTH, Reading, encode_reading, is_valid_name
from chalicelib.unicorns.summaries import Summary
from tests.functional.conftest import Aws
from tests.lambda_events import kinesis_event, kinesis_record
from tests.readings import minute_summary
from tests.taxi_events import day_trips

PROPERTY = settings(
    max_examples=100,
    deadline=None,  # moto's latency is not the API's
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
FEW = settings(PROPERTY, max_examples=40)

KNOWN = "Shadowfax"
AWKWARD = ["Nightmare #2/3?", "100% Ünïcörn 🦄", "<img src=x onerror=alert(1)>", " Shadowfax "]
FIRST_MINUTE = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
MINUTES = 90
ARRIVAL = datetime(2026, 11, 22, 14, 10, tzinfo=UTC).timestamp()
ERROR_CODES = {400: "InvalidParameter", 404: "UnicornNotFound"}


def summary(name: str, minute: int) -> Summary:
    return minute_summary(name, FIRST_MINUTE + timedelta(minutes=minute), minute)


def report(client: Client, names: list[str], first_seq: int = 1) -> None:
    records = [
        kinesis_record(
            encode_reading(
                Reading(name, "2026-11-22 14:05:00.000", 40.75, -73.98, 30.0, 150, 150)
            ),
            str(first_seq + n),
            name[:256],
            ARRIVAL,
        )
        for n, name in enumerate(names)
    ]
    response = client.lambda_.invoke("vitals", kinesis_event(records)).payload
    assert response == {"batchItemFailures": []}


@pytest.fixture
def fleet(client: Client, aws: Aws) -> Client:
    report(client, [KNOWN, *AWKWARD])
    store = bootstrap.services().summary_store
    assert store.put_many([summary(KNOWN, m) for m in range(MINUTES)]) == []
    return client


def get(client: Client, path: str) -> tuple[int, dict[str, Any]]:
    """The status and JSON body, after the checks every answer must pass.

    (chalice.test.Client drops the headers; test_openapi.py checks the content
    type over real HTTP.)
    """
    response = client.http.get(path)
    assert response.status_code in (200, 400, 404), (path, response.status_code, response.body)
    assert b"Traceback" not in response.body
    body = json.loads(response.body)
    if response.status_code != 200:
        assert set(body) == {"Code", "Message"}
        assert body["Code"] == ERROR_CODES[response.status_code]
    return response.status_code, body


def names_parameter(body: dict[str, Any], *parameters: str) -> bool:
    return any(body["Message"].startswith(f"{p}: ") for p in parameters)


def summaries_path(name: str = KNOWN, /, **params: str) -> str:
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items())
    return f"/unicorns/{quote(name, safe='')}/summaries" + (f"?{query}" if query else "")


# --- path parameter `name` ---


@PROPERTY
@given(name=st.text(min_size=1, max_size=MAX_NAME_LENGTH + 20))
@example(name="x" * (MAX_NAME_LENGTH + 1))
@example(name="%41")
@example(name="a/b")
@example(name="\x00\n\x1b[31m")
def test_any_name_percent_encoded_is_found_not_found_or_too_long(fleet: Client, name: str) -> None:
    for path in (f"/unicorns/{quote(name, safe='')}", summaries_path(name)):
        status, body = get(fleet, path)
        if len(name) > MAX_NAME_LENGTH:
            assert status == 400 and body["Message"].startswith("name: "), body
        elif name in (KNOWN, *AWKWARD):
            assert status == 200
        else:
            assert status == 404
            assert body["Message"] == f"no unicorn named {name!r} has reported"


# Raw path text as a client might send it: "%" sequences left for the API to decode.
RAW_SEGMENT = st.text(
    alphabet=st.sampled_from(string.ascii_letters + string.digits + "%-._~!$&'()*+,;=:@ üñ🦄"),
    min_size=1,
    max_size=300,
)


@PROPERTY
@given(segment=RAW_SEGMENT)
@example(segment="%")
@example(segment="%zz%4")
@example(segment="%ff%fe")  # not UTF-8 once decoded
@example(segment="%ED%A0%80")  # an encoded lone surrogate
def test_any_raw_path_segment_is_answered_as_json(fleet: Client, segment: str) -> None:
    for path in (f"/unicorns/{segment}", f"/unicorns/{segment}/summaries"):
        status, body = get(fleet, path)
        if status == 400:
            assert names_parameter(body, "name"), body


def test_an_empty_name_and_a_raw_slash(fleet: Client) -> None:
    assert get(fleet, "/unicorns//summaries") == (
        400,
        {
            "Code": "InvalidParameter",
            "Message": f"name: must be 1 to {MAX_NAME_LENGTH} characters",
        },
    )
    assert get(fleet, f"/unicorns/{quote('Nightmare #2/3?', safe='')}")[0] == 200
    # An unencoded "/" makes another path, which the gateway itself refuses
    # (API Gateway and chalice local alike: 403 "Missing Authentication Token").
    assert fleet.http.get("/unicorns/Nightmare/2/summaries").status_code == 403


@FEW
@given(name=st.text(min_size=1, max_size=MAX_NAME_LENGTH).filter(is_valid_name))
def test_every_name_a_record_may_carry_can_be_looked_up(fleet: Client, name: str) -> None:
    report(fleet, [name], first_seq=100)
    status, body = get(fleet, f"/unicorns/{quote(name, safe='')}")
    assert status == 200 and body["Name"] == name
    status, body = get(fleet, summaries_path(name))
    assert status == 200 and body["unicorn"] == name


# --- query parameters `from` and `to` ---


@PROPERTY
@given(parameter=st.sampled_from(["from", "to"]), text=st.text(max_size=40))
@example(parameter="from", text="0001-01-01T00:00:00+01:00")
@example(parameter="to", text="9999-12-31T23:59:59-01:00")
@example(parameter="to", text="0001-01-01")
@example(parameter="from", text="2026-11-22T14:00:00+24:00")
def test_any_text_for_a_time_is_used_or_refused_by_name(
    fleet: Client, parameter: str, text: str
) -> None:
    status, body = get(fleet, summaries_path(**{parameter: text}))
    assert status in (200, 400)
    if status == 400:
        assert names_parameter(body, parameter), body


OFFSETS = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
INSTANTS = st.datetimes(
    min_value=datetime(2026, 11, 22, 11, 0),
    max_value=datetime(2026, 11, 22, 14, 0),
).map(lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000, tzinfo=UTC))


def written(moment: datetime, style: str, offset: timezone) -> str:
    if style == "StatusTime":
        return format_status_time(moment)
    return moment.astimezone(offset).isoformat()


@PROPERTY
@given(
    start=INSTANTS,
    end=INSTANTS,
    styles=st.tuples(*[st.sampled_from(["StatusTime", "ISO 8601"])] * 2),
    offsets=st.tuples(OFFSETS, OFFSETS),
)
def test_from_and_to_select_exactly_the_minutes_between_them(
    fleet: Client,
    start: datetime,
    end: datetime,
    styles: tuple[str, str],
    offsets: tuple[timezone, timezone],
) -> None:
    path = summaries_path(
        **{
            "from": written(start, styles[0], offsets[0]),
            "to": written(end, styles[1], offsets[1]),
            "limit": str(MAX_LIMIT),
        }
    )
    status, body = get(fleet, path)
    if start >= end:
        assert status == 400
        assert body["Message"] == "to: must be later than 'from'"
        return
    assert status == 200
    expected = [
        format_status_time(FIRST_MINUTE + timedelta(minutes=m))
        for m in range(MINUTES)
        if start <= FIRST_MINUTE + timedelta(minutes=m) < end
    ]
    assert [row["StatusTime"] for row in body["summaries"]] == expected


# --- query parameter `limit` ---


@PROPERTY
@given(text=st.one_of(st.text(max_size=12), st.integers().map(str)))
@example(text="1_0")
@example(text="٥")
@example(text="9" * 5000)
@example(text=" 7 ")
def test_any_limit_gives_at_most_that_many_rows_or_a_400_naming_it(
    fleet: Client, text: str
) -> None:
    status, body = get(fleet, summaries_path(limit=text))
    try:
        limit: int | None = int(text)
    except ValueError:
        limit = None
    if limit is not None and 1 <= limit <= MAX_LIMIT:
        assert status == 200
        assert body["count"] == min(limit, MINUTES)
        assert (body["next"] is None) == (limit >= MINUTES)
    else:
        assert status == 400
        assert body["Message"] == f"limit: must be a whole number from 1 to {MAX_LIMIT}"


# --- query parameter `next` ---


@PROPERTY
@given(token=st.text(max_size=200))
@example(token="")
@example(token="=")
@example(token=base64.urlsafe_b64encode(b"[" * 100_000).decode())  # was a RecursionError, a 500
def test_any_next_token_is_refused_by_name_unless_it_is_one_of_ours(
    fleet: Client, token: str
) -> None:
    status, body = get(fleet, summaries_path(next=token))
    if status == 400:
        assert body["Message"] == "next: not a page token from this unicorn's summaries listing"
    else:
        assert status == 200


def tampered(token: str, data: st.DataObject) -> str:
    edits: list[Callable[[str], str]] = [
        lambda t: t[: data.draw(st.integers(0, len(t) - 1))],
        lambda t: t + data.draw(st.text(min_size=1, max_size=5)),
        lambda t: _replace_at(
            t, data.draw(st.integers(0, len(t) - 1)), data.draw(st.characters())
        ),
        lambda t: t[::-1],
    ]
    return data.draw(st.sampled_from(edits))(token)


def _replace_at(text: str, index: int, char: str) -> str:
    return text[:index] + char + text[index + 1 :]


@PROPERTY
@given(data=st.data())
def test_a_tampered_token_continues_a_listing_or_is_refused_by_name(
    fleet: Client, data: st.DataObject
) -> None:
    first = get(fleet, summaries_path(limit="10"))[1]
    token = tampered(first["next"], data)
    assume(token != first["next"])
    status, body = get(fleet, summaries_path(next=token, limit="10"))
    if status == 400:
        assert names_parameter(body, "next"), body
    else:
        assert status == 200
        assert all(row["Name"] == KNOWN for row in body["summaries"])


def test_a_token_of_another_unicorn_or_time_is_refused_or_followed(fleet: Client) -> None:
    other = encode_page_token(AWKWARD[0], "2026-11-22 12:09:00.000")
    status, body = get(fleet, summaries_path(next=other))
    assert (status, body["Message"]) == (
        400,
        "next: not a page token from this unicorn's summaries listing",
    )
    # A token is a position, not a secret: one we never issued still pages on.
    forged = encode_page_token(KNOWN, "2026-11-22 13:00:00.000")
    status, body = get(fleet, summaries_path(next=forged, limit="1"))
    assert status == 200 and body["summaries"][0]["StatusTime"] == "2026-11-22 13:01:00.000"


# --- any combination ---

PARAMETER_NAMES = st.one_of(st.sampled_from(["from", "to", "limit", "next"]), st.text(max_size=8))


@PROPERTY
@given(params=st.dictionaries(PARAMETER_NAMES, st.text(max_size=30), max_size=5))
def test_any_query_is_answered_and_a_400_names_one_of_its_parameters(
    fleet: Client, params: dict[str, str]
) -> None:
    status, body = get(fleet, summaries_path(**params))
    assert status in (200, 400)
    if status == 400:
        assert names_parameter(body, *params), (params, body)


# --- the taxi routes ---

TAXI_DAY = "2026-11-23"
MORNING = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
TAXI_ROUTES = {
    "/taxi/peaks": ("date", "top"),
    "/taxi/fares": ("zone", "from", "to", "average"),
    "/taxi/zones": ("date",),
}


@pytest.fixture
def taxi(client: Client, aws: Aws) -> Client:
    """The taxi model's 2026-11-23 from 06:00 to 10:00 (by the trips' end)."""
    trips = day_trips(6 * 3600, 10 * 3600, per_day=2000)
    store = bootstrap.services().insight_store
    assert store.put_many(list(partials(trips, "part-1").values())) == []
    return client


def taxi_path(path: str, /, **params: str) -> str:
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items())
    return path + (f"?{query}" if query else "")


@PROPERTY
@given(text=st.one_of(st.text(max_size=12), st.integers().map(str)))
@example(text="161")
@example(text=" 161 ")
@example(text="1_6_1")
@example(text="١٦١")
@example(text="9" * 5000)
@example(text="")
def test_any_zone_is_read_as_a_whole_number_or_refused_by_name(taxi: Client, text: str) -> None:
    status, body = get(taxi, taxi_path("/taxi/fares", zone=text, to=f"{TAXI_DAY}T12:00Z"))
    try:
        zone: int | None = int(text)
    except ValueError:
        zone = None
    if zone is not None and MIN_ZONE <= zone <= MAX_ZONE:
        assert status == 200
        assert body["zone"] == zone
    else:
        assert status == 400
        assert body["Message"] == f"zone: must be a whole number from {MIN_ZONE} to {MAX_ZONE}"


@PROPERTY
@given(
    path=st.sampled_from(["/taxi/peaks", "/taxi/zones"]),
    text=st.one_of(st.text(max_size=12), st.dates().map(str)),
)
@example(path="/taxi/peaks", text=TAXI_DAY)
@example(path="/taxi/zones", text="2026-02-29")
@example(path="/taxi/zones", text="20261123")
@example(path="/taxi/peaks", text="2026-W48-1")
@example(path="/taxi/peaks", text=f"{TAXI_DAY}\n")
def test_any_date_is_a_day_or_refused_by_name(taxi: Client, path: str, text: str) -> None:
    status, body = get(taxi, taxi_path(path, date=text))
    try:
        valid = bool(re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text)) and bool(
            date.fromisoformat(text)
        )
    except ValueError:
        valid = False
    if valid:
        assert status == 200
        assert body["date"] == text
        if text == TAXI_DAY:
            assert body["zones" if path == "/taxi/zones" else "demand"] != []
    else:
        assert (status, body["Message"]) == (400, "date: must be a day as YYYY-MM-DD")


TAXI_INSTANTS = st.integers(min_value=0, max_value=5 * 60).map(
    lambda minute: MORNING + timedelta(minutes=minute)
)


@FEW
@given(
    start=TAXI_INSTANTS,
    end=TAXI_INSTANTS,
    zone=st.sampled_from([161, 132, 7]),
    average=st.integers(min_value=1, max_value=8),
)
def test_fares_give_exactly_the_zones_windows_from_from_to_to(
    taxi: Client, start: datetime, end: datetime, zone: int, average: int
) -> None:
    path = taxi_path(
        "/taxi/fares",
        zone=str(zone),
        average=str(average),
        **{"from": start.isoformat(), "to": format_status_time(end)},
    )
    status, body = get(taxi, path)
    if start >= end:
        assert (status, body["Message"]) == (400, "to: must be later than 'from'")
        return
    assert status == 200
    windows = bootstrap.services().insight_store.zone(zone, format_status_time(start), "9999")
    expected = [w.window_start for w in windows if w.window_start < format_status_time(end)]
    assert [p["windowStart"] for p in body["points"]] == expected
    fares = [p["averageFare"] for p in body["points"]]
    for n, point in enumerate(body["points"]):
        last = fares[max(0, n - average + 1) : n + 1]
        assert point["movingAverageFare"] == pytest.approx(sum(last) / len(last), abs=0.005)


TAXI_PARAMETER_NAMES = st.one_of(
    st.sampled_from(["date", "top", "zone", "from", "to", "average"]), st.text(max_size=8)
)


@PROPERTY
@given(
    path=st.sampled_from(sorted(TAXI_ROUTES)),
    params=st.dictionaries(TAXI_PARAMETER_NAMES, st.text(max_size=30), max_size=5),
)
@example(path="/taxi/fares", params={})
@example(path="/taxi/fares", params={"zone": "161", "from": "0001-01-01"})
@example(path="/taxi/fares", params={"zone": "161", "to": "0001-01-01T00:00:00.001"})
@example(path="/taxi/fares", params={"zone": "161", "from": "9999-12-31T23:59:59.999"})
@example(path="/taxi/peaks", params={"date": "9999-12-31", "top": "96"})
def test_any_taxi_query_is_answered_and_a_400_names_one_of_its_parameters(
    taxi: Client, path: str, params: dict[str, str]
) -> None:
    status, body = get(taxi, taxi_path(path, **params))
    assert status in (200, 400)
    if status == 400:
        required = ["zone"] if path == "/taxi/fares" else []
        assert names_parameter(body, *params, *required), (params, body)
    else:
        assert set(params) <= set(TAXI_ROUTES[path])
