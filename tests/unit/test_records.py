"""Parsing raw records: the workshop's shape is accepted, anything else rejected with a reason."""

from __future__ import annotations

import json

import pytest

from chalicelib.unicorns.records import InvalidRecord, encode_reading, parse_reading, read_fields
from tests.readings import reading, record_json


def encoded(row: object) -> bytes:
    return json.dumps(row).encode()


def test_a_workshop_record_parses_field_for_field() -> None:
    data = (
        b'{"Name":"Shadowfax","StatusTime":"2026-11-22 14:05:09.123",'
        b'"Latitude":40.749167,"Longitude":-73.985184,"Distance":29.7,'
        b'"HealthPoints":149,"MagicPoints":151}\n'
    )
    parsed = parse_reading(data)
    assert parsed == reading(distance=29.7, health=149, magic=151)


def test_encoding_is_the_workshop_record_with_a_trailing_newline() -> None:
    data = encode_reading(reading())
    assert data.endswith(b"}\n")
    assert list(json.loads(data)) == [
        "Name",
        "StatusTime",
        "Latitude",
        "Longitude",
        "Distance",
        "HealthPoints",
        "MagicPoints",
    ]
    assert parse_reading(data) == reading()


def test_whole_numbers_are_accepted_where_floats_are_expected_and_extra_fields_ignored() -> None:
    row = record_json(Latitude=40, Distance=30, Extra="kept out")
    parsed = parse_reading(encoded(row))
    assert parsed.latitude == 40.0 and isinstance(parsed.latitude, float)
    assert parsed.distance == 30.0


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xff\xfe{}", "not UTF-8"),
        (b"not json at all", "not JSON"),
        (b'{"Name": "Shadowfax",', "not JSON"),
        (b"[1, 2]", "not a JSON object (got array)"),
        (b"[" * 100_000, "not JSON (nested too deeply)"),
        (b"\xef\xbb\xbf" + encoded(record_json()), "not JSON"),
        (encoded(record_json(HealthPoints=None)), "missing field HealthPoints"),
        (encoded(record_json(Name="")), "Name must be a string of 1 to 256"),
        (encoded(record_json(Name="x" * 257)), "Name must be a string of 1 to 256"),
        (encoded(record_json(Name=7)), "Name must be a string"),
        (encoded(record_json(Name="Shadow\nfax")), "Name must be printable text"),
        (encoded(record_json(StatusTime="2026-11-22T14:05:09.123Z")), "StatusTime must be"),
        (encoded(record_json(StatusTime="2026-11-22 14:05:09")), "StatusTime must be"),
        (encoded(record_json(StatusTime="2026-13-22 14:05:09.123")), "StatusTime must be"),
        (encoded(record_json(StatusTime=1732284309)), "StatusTime must be"),
        (encoded(record_json(Latitude="40.7")), "Latitude must be a number, got string"),
        (encoded(record_json(Latitude=True)), "Latitude must be a number, got boolean"),
        (encoded(record_json(Latitude=90.5)), "Latitude must be a number from -90 to 90"),
        (encoded(record_json(Longitude=-181)), "Longitude must be a number from -180 to 180"),
        (encoded(record_json(Distance=-0.5)), "Distance must be a number from 0 to 5000"),
        (encoded(record_json(Distance=1e9)), "Distance must be a number from 0 to 5000"),
        (encoded(record_json(HealthPoints=99.5)), "HealthPoints must be an integer, got number"),
        (encoded(record_json(HealthPoints=False)), "HealthPoints must be an integer"),
        (encoded(record_json(MagicPoints=-1)), "MagicPoints must be an integer from 0 to 1000"),
        (encoded(record_json(MagicPoints=10**6)), "MagicPoints must be an integer from 0 to 1000"),
        (b'{"Name":"a","StatusTime":"2026-11-22 14:05:09.123","Latitude":NaN}', "not JSON"),
        (b'{"Name":"a","StatusTime":"2026-11-22 14:05:09.123","Latitude":Infinity}', "not JSON"),
    ],
)
def test_invalid_records_are_rejected_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(InvalidRecord) as caught:
        parse_reading(data)
    assert caught.value.reason.startswith(reason)


# Each limit of a raw record: the reading at it is taken, one step past it is refused.
# A unicorn at a pole or on the antimeridian, standing still, or drained to 0 is real.
RECORD_LIMITS = [
    ("Latitude", -90.0, -90.000001, "a number from -90 to 90"),
    ("Latitude", 90.0, 90.000001, "a number from -90 to 90"),
    ("Longitude", -180.0, -180.000001, "a number from -180 to 180"),
    ("Longitude", 180.0, 180.000001, "a number from -180 to 180"),
    ("Distance", 0.0, -0.000001, "a number from 0 to 5000"),
    ("Distance", 5000.0, 5000.000001, "a number from 0 to 5000"),
    ("HealthPoints", 0, -1, "an integer from 0 to 1000"),
    ("HealthPoints", 1000, 1001, "an integer from 0 to 1000"),
    ("MagicPoints", 0, -1, "an integer from 0 to 1000"),
    ("MagicPoints", 1000, 1001, "an integer from 0 to 1000"),
]


@pytest.mark.parametrize(("field", "at", "past", "expected"), RECORD_LIMITS)
def test_each_limit_of_a_record_takes_the_limit_and_refuses_one_step_past_it(
    field: str, at: float, past: float, expected: str
) -> None:
    taken = parse_reading(encoded(record_json(**{field: at})))
    assert taken.to_json()[field] == at
    with pytest.raises(InvalidRecord) as caught:
        read_fields(encoded(record_json(**{field: past})))
    shown = "number" if type(past) is float else "integer"
    assert caught.value.reason == f"{field} must be {expected}, got {shown} {past!r}"


@pytest.mark.parametrize(
    ("field", "at", "past", "expected"),
    [
        ("Latitude", -90, -91, "from -90 to 90"),
        ("Latitude", 90, 91, "from -90 to 90"),
        ("Longitude", -180, -181, "from -180 to 180"),
        ("Longitude", 180, 181, "from -180 to 180"),
        ("Distance", 0, -1, "from 0 to 5000"),
        ("Distance", 5000, 5001, "from 0 to 5000"),
    ],
)
def test_whole_numbers_have_the_same_limits_as_fractions(
    field: str, at: int, past: int, expected: str
) -> None:
    assert parse_reading(encoded(record_json(**{field: at}))).to_json()[field] == float(at)
    with pytest.raises(InvalidRecord) as caught:
        read_fields(encoded(record_json(**{field: past})))
    assert caught.value.reason == f"{field} must be a number {expected}, got integer {past}"


def test_a_bad_status_time_is_shown_in_the_reason() -> None:
    with pytest.raises(InvalidRecord) as caught:
        read_fields(encoded(record_json(StatusTime="2026-11-22 14:05:09")))
    assert caught.value.reason == (
        "StatusTime must be UTC time as 'YYYY-MM-DD HH:MM:SS.mmm', "
        "got string '2026-11-22 14:05:09'"
    )


def test_a_long_bad_value_is_shortened_in_the_reason() -> None:
    with pytest.raises(InvalidRecord) as caught:
        parse_reading(encoded(record_json(Latitude="y" * 500)))
    assert len(caught.value.reason) < 150


@pytest.mark.parametrize(
    ("padding", "reason"),
    [
        ((b" \t\r\n", b"\r\n \t"), None),  # JSON whitespace either side is still JSON
        ((b"", b"x"), "not JSON (Extra data"),
        ((b"", b"{}"), "not JSON (Extra data"),
        ((b"", b"\x0b"), "not JSON (Extra data"),  # whitespace to Python, not to JSON
    ],
)
def test_only_json_whitespace_may_surround_the_document(
    padding: tuple[bytes, bytes], reason: str | None
) -> None:
    data = padding[0] + encoded(record_json()) + padding[1]
    if reason is None:
        assert parse_reading(data) == reading()
    else:
        with pytest.raises(InvalidRecord, match=reason.replace("(", r"\(")):
            parse_reading(data)


def test_read_fields_is_the_reading_as_a_tuple_in_field_order() -> None:
    data = encoded(record_json(Latitude=40, HealthPoints=99))
    parsed = parse_reading(data)
    assert read_fields(data) == (
        parsed.name,
        parsed.status_time,
        40.0,
        parsed.longitude,
        parsed.distance,
        99,
        parsed.magic,
    )
    assert type(read_fields(data)[2]) is float
