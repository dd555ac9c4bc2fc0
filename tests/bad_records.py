"""Every class of defect a raw record can have, with the outcome the pipeline promises for it.

One table, read by the parser's unit tests (tests/unit/test_bad_input.py) and
by the functional tests that send it through the real `aggregate` and
`vitals` handlers (tests/functional/test_bad_input.py). Each row is a defect
class, the record's bytes and the documented outcome:

- ACCEPTED: the reading is used as sent (`expected` is what it becomes);
- NORMALISED: the reading is used after a lossless change (`expected` shows it);
- DEAD_LETTERED: `aggregate` keeps the record byte for byte under
  `dead-letter/aggregate/` with a reason containing `expected`, counts it in
  the window's `invalid`, and `vitals` skips and counts it.

Every record of the table arrives at ARRIVAL. Rows that are accepted carry a
name of their own (the row's id unless the row is about names), so that each
one's summary row and status can be told apart when the whole table is one batch.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.unicorns.records import FIELDS, Reading
from chalicelib.unicorns.summaries import encode_row
from tests.readings import SUMMARY, reading

ACCEPTED = "accepted as-is"
NORMALISED = "accepted with normalisation"
DEAD_LETTERED = "dead-lettered"

ARRIVAL = datetime(2026, 11, 22, 14, 5, 10, tzinfo=UTC).timestamp()
STATUS_TIME = "2026-11-22 14:05:09.123"  # 0.877 s before ARRIVAL

KINESIS_RECORD_LIMIT = 1_048_576  # bytes of data in one record (1 MiB)


@dataclass(frozen=True)
class Row:
    id: str  # the defect class, as docs/BAD_INPUT.md's table names it
    data: bytes
    outcome: str
    expected: Reading | str  # the reading it becomes, or text the reason contains

    @property
    def partition_key(self) -> str:
        if isinstance(self.expected, Reading):
            return self.expected.name[:256]
        return self.id[:256]


def fields(name: str, /, **overrides: Any) -> dict[str, Any]:
    """A valid record named `name`, with fields replaced (or removed, given `...`)."""
    row: dict[str, Any] = reading(name, STATUS_TIME).to_json()
    for key, value in overrides.items():
        if value is ...:
            del row[key]
        else:
            row[key] = value
    return row


def dumps(row: object) -> bytes:
    # ensure_ascii=False: names travel as UTF-8, as a real producer sends them.
    return json.dumps(row, ensure_ascii=False).encode()


def good(row_id: str, /, **overrides: Any) -> Row:
    """A row accepted as sent."""
    record = fields(row_id, **overrides)
    return Row(row_id, dumps(record), ACCEPTED, _reading(record))


def normalised(row_id: str, expected: dict[str, Any], /, **overrides: Any) -> Row:
    """A row accepted after normalisation; `expected` holds the fields it ends up with."""
    return Row(
        row_id,
        dumps(fields(row_id, **overrides)),
        NORMALISED,
        _reading(fields(row_id, **expected)),
    )


def bad(row_id: str, reason: str, /, **overrides: Any) -> Row:
    return Row(row_id, dumps(fields(row_id, **overrides)), DEAD_LETTERED, reason)


def bad_bytes(row_id: str, data: bytes, reason: str) -> Row:
    return Row(row_id, data, DEAD_LETTERED, reason)


def good_bytes(row_id: str, data: bytes, **expected: Any) -> Row:
    return Row(row_id, data, ACCEPTED, _reading(fields(row_id, **expected)))


def named(row_id: str, name: str) -> Row:
    """A row about the name: accepted with `name` as it is."""
    record = fields(name)
    return Row(row_id, dumps(record), ACCEPTED, _reading(record))


def _reading(record: dict[str, Any]) -> Reading:
    return Reading(
        record["Name"],
        record["StatusTime"],
        float(record["Latitude"]),
        float(record["Longitude"]),
        float(record["Distance"]),
        record["HealthPoints"],
        record["MagicPoints"],
    )


def _literal(row_id: str, field: str, literal: bytes) -> bytes:
    """A record whose `field` is the bare token `literal` (NaN, Infinity, ...)."""
    data = dumps(fields(row_id, **{field: "PLACEHOLDER"}))
    return data.replace(b'"PLACEHOLDER"', literal)


def _padded_to(size: int) -> bytes:
    """A valid record made exactly `size` bytes long by an unknown padding field."""
    record = fields("near the 1 MB limit: padding field", Padding="")
    data = dumps(record)
    record["Padding"] = "x" * (size - len(data))
    data = dumps(record)
    assert len(data) == size
    return data


def _name_of_size(size: int) -> bytes:
    record = fields("", Name="")
    data = dumps(record)
    data = dumps(fields("", Name="n" * (size - len(data))))
    assert len(data) == size
    return data


def _duplicate_key() -> bytes:
    # JSON objects with a repeated key: the last value wins, as in every JSON parser we know.
    first = dumps(fields("duplicate key: the last value wins", HealthPoints=1))
    return first[:-1] + b', "HealthPoints": 150}'


TABLE: list[Row] = [
    # --- what the workshop producer sends, byte for byte variations ---
    good_bytes(
        "workshop record with trailing newline",
        dumps(fields("workshop record with trailing newline")) + b"\n",
    ),
    good_bytes(
        "CRLF and surrounding whitespace",
        b"  \t" + dumps(fields("CRLF and surrounding whitespace")) + b"\r\n",
    ),
    # --- not JSON at all ---
    bad_bytes("not JSON: text", b"Shadowfax is fine, thanks", "not JSON (Expecting value"),
    bad_bytes("not JSON: truncated object", b'{"Name": "Shadowfax", "Stat', "not JSON"),
    bad_bytes(
        "not JSON: two records in one",
        dumps(fields("a")) + b"\n" + dumps(fields("b")),
        "not JSON (Extra data",
    ),
    bad_bytes(
        "not JSON: UTF-8 byte order mark",
        b"\xef\xbb\xbf" + dumps(fields("bom")),
        "not JSON (Expecting value: line 1 column 1 (char 0))",
    ),
    bad_bytes("not JSON: nested 100 000 deep", b"[" * 100_000, "not JSON (nested too deeply)"),
    bad_bytes("empty record", b"", "not JSON (Expecting value: line 1 column 1 (char 0))"),
    bad_bytes("whitespace only", b" \n", "not JSON (Expecting value"),
    # --- bytes that are not UTF-8 ---
    bad_bytes(
        "not UTF-8: binary", b"\xff\xfe\x00\x01", "not UTF-8 (invalid start byte at byte 0)"
    ),
    bad_bytes(
        "not UTF-8: Latin-1 name",
        dumps(fields("Sch\u00f6n")).replace("Sch\u00f6n".encode(), b"Sch\xf6n"),
        "not UTF-8 (invalid start byte at byte 13)",
    ),
    bad_bytes(
        "not UTF-8: UTF-16",
        json.dumps(fields("utf16")).encode("utf-16"),
        "not UTF-8 (invalid start byte at byte 0)",
    ),
    # --- JSON, but not an object ---
    bad_bytes(
        "JSON array", b"[" + dumps(fields("in an array")) + b"]", "not a JSON object (got array)"
    ),
    bad_bytes("JSON number", b"42", "not a JSON object (got integer)"),
    bad_bytes("JSON string", b'"Shadowfax"', "not a JSON object (got string)"),
    bad_bytes("JSON true", b"true", "not a JSON object (got boolean)"),
    bad_bytes("JSON null", b"null", "not a JSON object (got null)"),
    # --- a missing field, each one ---
    *(bad(f"missing {field}", f"missing field {field}", **{field: ...}) for field in FIELDS),
    # --- a wrong type, each field ---
    bad("Name a number", "Name must be a string of 1 to 256 characters, got integer 7", Name=7),
    bad("Name null", "Name must be a string of 1 to 256 characters, got null None", Name=None),
    bad("Name an array", "Name must be a string", Name=["Shadowfax"]),
    bad("StatusTime epoch seconds", "StatusTime must be UTC time", StatusTime=1795000000),
    bad("StatusTime ISO 8601", "StatusTime must be UTC time", StatusTime="2026-11-22T14:05:09Z"),
    bad("StatusTime without ms", "StatusTime must be UTC time", StatusTime="2026-11-22 14:05:09"),
    bad("Latitude string number", "Latitude must be a number, got string '40.7'", Latitude="40.7"),
    bad("Latitude boolean", "Latitude must be a number, got boolean True", Latitude=True),
    bad("Latitude null", "Latitude must be a number, got null None", Latitude=None),
    bad("Longitude string number", "Longitude must be a number, got string", Longitude="-73.9"),
    bad("Distance string number", "Distance must be a number, got string '30'", Distance="30"),
    bad("Distance object", "Distance must be a number, got object", Distance={"m": 30}),
    bad(
        "HealthPoints boolean",
        "HealthPoints must be an integer, got boolean True",
        HealthPoints=True,
    ),
    bad(
        "HealthPoints string number",
        "HealthPoints must be an integer, got string",
        HealthPoints="150",
    ),
    bad(
        "HealthPoints whole float",
        "HealthPoints must be an integer, got number 150.0",
        HealthPoints=150.0,
    ),
    bad(
        "HealthPoints fraction",
        "HealthPoints must be an integer, got number 149.5",
        HealthPoints=149.5,
    ),
    bad(
        "MagicPoints boolean",
        "MagicPoints must be an integer, got boolean False",
        MagicPoints=False,
    ),
    bad(
        "MagicPoints string number",
        "MagicPoints must be an integer, got string",
        MagicPoints="150",
    ),
    # --- whole numbers where floats are expected: made floats ---
    normalised(
        "whole-number coordinates and distance",
        {"Latitude": 41.0, "Longitude": -74.0, "Distance": 30.0},
        Latitude=41,
        Longitude=-74,
        Distance=30,
    ),
    good("negative zero distance (equal to 0)", Distance=-0.0),
    # --- NaN and the infinities: Python's json accepts them, JSON does not ---
    *(
        bad_bytes(
            f"{literal} {field}",
            _literal(f"{literal} {field}", field, literal.encode()),
            f"not JSON ({literal} is not valid JSON)",
        )
        for literal in ("NaN", "Infinity", "-Infinity")
        for field in ("Latitude", "Distance", "HealthPoints")
    ),
    bad_bytes(
        "number overflowing to infinity",
        _literal("overflow", "Distance", b"1e400"),
        "Distance must be a number from 0 to 5000, got number inf",
    ),
    bad_bytes(
        "integer of 5000 digits",
        _literal("digits", "HealthPoints", b"9" * 5000),
        "not JSON (Exceeds the limit (4300 digits)",
    ),
    # --- values out of range ---
    bad(
        "negative distance",
        "Distance must be a number from 0 to 5000, got number -0.5",
        Distance=-0.5,
    ),
    bad(
        "absurd distance",
        "Distance must be a number from 0 to 5000, got number 1000000000.0",
        Distance=1e9,
    ),
    good("largest distance", Distance=5000.0),
    bad(
        "Latitude above 90",
        "Latitude must be a number from -90 to 90, got number 90.0001",
        Latitude=90.0001,
    ),
    bad("Latitude below -90", "Latitude must be a number from -90 to 90", Latitude=-90.5),
    good("Latitude at a pole", Latitude=-90.0),
    bad("Longitude above 180", "Longitude must be a number from -180 to 180", Longitude=180.5),
    bad(
        "Longitude below -180",
        "Longitude must be a number from -180 to 180, got integer -181",
        Longitude=-181,
    ),
    good("Longitude at the antimeridian", Longitude=180.0),
    bad(
        "negative points",
        "MagicPoints must be an integer from 0 to 1000, got integer -1",
        MagicPoints=-1,
    ),
    bad(
        "absurd points",
        "HealthPoints must be an integer from 0 to 1000, got integer 1001",
        HealthPoints=1001,
    ),
    bad(
        "huge integer points",
        "HealthPoints must be an integer from 0 to 1000",
        HealthPoints=10**30,
    ),
    good("no points left", HealthPoints=0, MagicPoints=0),
    # --- extra fields, repeated keys ---
    good("extra unknown fields", Extra={"nested": [1, 2, None]}, Battery=97, name="lower case"),
    good_bytes("duplicate key: the last value wins", _duplicate_key(), HealthPoints=150),
    # --- names ---
    bad("empty name", "Name must be a string of 1 to 256 characters, got string ''", Name=""),
    named("name of 256 characters", "N" * 256),
    bad("name of 257 characters", "Name must be a string of 1 to 256 characters", Name="N" * 257),
    named("name of 256 emoji (1024 bytes)", "\U0001f984" * 256),
    bad(
        "name only spaces",
        "Name must be printable text, not only spaces, got string ' '",
        Name=" ",
    ),
    bad("name with a newline", "Name must be printable text", Name="Shadow\nfax"),
    bad("name with a tab", "Name must be printable text", Name="Shadow\tfax"),
    bad("name with NUL", "Name must be printable text", Name="Shadow\x00fax"),
    bad("name with a terminal escape", "Name must be printable text", Name="\x1b[31mRed"),
    bad("name with DEL", "Name must be printable text", Name="Shadow\x7ffax"),
    bad("name with a bidi override", "Name must be printable text", Name="Shadow\u202efax"),
    bad("name with a zero-width space", "Name must be printable text", Name="Shadow\u200bfax"),
    bad("name with a line separator", "Name must be printable text", Name="Shadow\u2028fax"),
    bad_bytes(
        "name with a lone surrogate",
        dumps(fields("surrogate")).replace(b'"surrogate"', b'"\\ud800"'),
        "Name must be printable text, not only spaces, got string '\\ud800'",
    ),
    named("non-ASCII name (Latin)", "\u00dcn\u00efc\u00f6rn Bj\u00f6rk"),
    named("non-ASCII name (CJK)", "\u72ec\u89d2\u517d"),
    named("non-ASCII name (emoji)", "Sparkle \U0001f984"),
    named("name with a combining accent (not normalised)", "Cafe\u0301"),
    named("name with outer spaces (kept)", " Shadowfax "),
    named("name that is markup", "<img src=x onerror=alert(1)>"),
    named("name with URL characters", "Nightmare #2/3?%41"),
    # --- StatusTime: malformed, ahead of arrival, in the past ---
    bad(
        "StatusTime month 13", "StatusTime must be UTC time", StatusTime="2026-13-22 14:05:09.123"
    ),
    bad("StatusTime hour 24", "StatusTime must be UTC time", StatusTime="2026-11-22 24:00:00.000"),
    bad(
        "StatusTime leap second",
        "StatusTime must be UTC time",
        StatusTime="2026-11-22 23:59:60.000",
    ),
    bad(
        "StatusTime with a zone",
        "StatusTime must be UTC time",
        StatusTime="2026-11-22 14:05:09.123Z",
    ),
    bad("StatusTime in words", "StatusTime must be UTC time", StatusTime="yesterday"),
    bad(
        "StatusTime in full-width digits",
        "StatusTime must be UTC time",
        StatusTime="\uff12\uff10\uff12\uff16-11-22 14:05:09.123",
    ),
    good("StatusTime exactly 5 minutes ahead of arrival", StatusTime="2026-11-22 14:10:10.000"),
    bad(
        "StatusTime more than 5 minutes ahead of arrival",
        "StatusTime '2026-11-22 14:10:12.000' is more than 5 minutes ahead of the record's "
        "arrival at '2026-11-22 14:05:10",
        StatusTime="2026-11-22 14:10:12.000",
    ),
    bad(
        "StatusTime far in the future",
        "StatusTime '9999-12-31 23:59:59.999' is more than 5 minutes ahead",
        StatusTime="9999-12-31 23:59:59.999",
    ),
    good("StatusTime a day before arrival", StatusTime="2026-11-21 14:05:10.000"),
    good("StatusTime in year 1", StatusTime="0001-01-01 00:00:00.000"),
    # --- size: Kinesis takes up to 1 MiB of data per record ---
    Row(
        "near the 1 MB limit: padding field",
        _padded_to(1_000_000),
        ACCEPTED,
        _reading(fields("near the 1 MB limit: padding field")),
    ),
    bad_bytes(
        "near the 1 MB limit: huge name",
        _name_of_size(1_000_000),
        "Name must be a string of 1 to 256 characters, got string 'nnnnnnnn",
    ),
]

assert len({row.id for row in TABLE}) == len(TABLE), "row ids must be unique"
assert all(len(row.data) <= KINESIS_RECORD_LIMIT for row in TABLE)


# --- the summary stream (`persist`'s input) ---


@dataclass(frozen=True)
class SummaryRow:
    id: str
    data: bytes
    outcome: str
    expected: str  # text the reason contains, or for accepted rows the row's Name


def summary_fields(row_id: str, /, **overrides: Any) -> dict[str, Any]:
    """A valid summary row of its own unicorn and id, with fields replaced or removed (`...`)."""
    row: dict[str, Any] = json.loads(encode_row(SUMMARY))
    row["Name"] = row_id
    row["SummaryId"] = f"shardId-000000000000:{zlib.crc32(row_id.encode())}"
    for key, value in overrides.items():
        if value is ...:
            del row[key]
        else:
            row[key] = value
    return row


def summary_good(row_id: str, /, **overrides: Any) -> SummaryRow:
    fields = summary_fields(row_id, **overrides)
    return SummaryRow(row_id, dumps(fields), ACCEPTED, fields["Name"])


def summary_bad(row_id: str, reason: str, /, **overrides: Any) -> SummaryRow:
    return SummaryRow(row_id, dumps(summary_fields(row_id, **overrides)), DEAD_LETTERED, reason)


def summary_bytes(row_id: str, data: bytes, reason: str) -> SummaryRow:
    return SummaryRow(row_id, data, DEAD_LETTERED, reason)


def _summary_literal(row_id: str, field: str, literal: bytes) -> bytes:
    data = dumps(summary_fields(row_id, **{field: "PLACEHOLDER"}))
    return data.replace(b'"PLACEHOLDER"', literal)


SUMMARY_INTEGERS = (
    "MinMagicPoints",
    "MaxMagicPoints",
    "MinHealthPoints",
    "MaxHealthPoints",
    "SampleCount",
)
SUMMARY_TIMES = ("StatusTime", "WindowEnd", "FirstStatusTime", "LastStatusTime")

SUMMARY_TABLE: list[SummaryRow] = [
    summary_good("a valid summary row"),
    summary_good("whole-number distance and position", Distance=600, Latitude=41, Longitude=-74),
    summary_good("extra unknown fields in a summary", Extra=[1, 2]),
    # Test ids stay ASCII: pytest escapes others, and a second run in the same
    # process (as `make mutate` makes) escapes them again and cannot find them.
    summary_good("non-ASCII summary name (an emoji)", Name="Summary \U0001f984"),
    summary_bytes("summary not UTF-8", b"\xff{}", "not UTF-8 (invalid start byte at byte 0)"),
    summary_bytes("summary not JSON", b"Distance: 600", "not JSON (Expecting value"),
    summary_bytes("summary empty", b"", "not JSON (Expecting value"),
    summary_bytes("summary a JSON array", b"[]", "not a JSON object"),
    summary_bytes("summary a JSON number", b"600.25", "not a JSON object"),
    summary_bytes("summary nested 100 000 deep", b"[" * 100_000, "not JSON (nested too deeply)"),
    *(
        summary_bytes(
            f"summary {literal} {field}",
            _summary_literal(f"summary {literal} {field}", field, literal.encode()),
            f"not JSON ({literal} is not valid JSON)",
        )
        for literal in ("NaN", "Infinity", "-Infinity")
        for field in ("Distance", "Latitude", "MinHealthPoints")
    ),
    summary_bytes(
        "summary distance overflowing to infinity",
        _summary_literal("overflow", "Distance", b"1e400"),
        "Distance must be from 0 to 5000 m a sample, got inf",
    ),
    summary_bytes(
        "summary distance an integer too large for a float",
        _summary_literal("huge", "Distance", b"1" + b"0" * 400),
        "Distance must be a number, got an integer too large for one",
    ),
    summary_bad("missing SummaryId", "SummaryId must be a non-empty string", SummaryId=...),
    summary_bad("SummaryId a number", "SummaryId must be a non-empty string", SummaryId=100),
    summary_bad("SummaryId empty", "SummaryId must be a non-empty string", SummaryId=""),
    summary_bad(
        "SummaryId too long", "SummaryId must be at most 256 characters", SummaryId="s" * 257
    ),
    summary_bad("summary missing Name", "Name must be a non-empty string", Name=...),
    summary_bad("summary Name empty", "Name must be a non-empty string", Name=""),
    summary_bad("summary Name a number", "Name must be a non-empty string", Name=7),
    summary_bad(
        "summary Name of 3000 characters",
        "Name must be 1 to 256 printable characters, not only spaces",
        Name="N" * 3000,
    ),
    summary_bad("summary Name with a newline", "Name must be 1 to 256 printable", Name="a\nb"),
    summary_bad("summary Name only spaces", "Name must be 1 to 256 printable", Name="   "),
    *(
        summary_bad(
            f"summary missing {field}", f"{field} must be a StatusTime, got None", **{field: ...}
        )
        for field in SUMMARY_TIMES
    ),
    summary_bad(
        "summary StatusTime ISO 8601",
        "StatusTime must be a StatusTime, got '2026-11-22T14:05:00Z'",
        StatusTime="2026-11-22T14:05:00Z",
    ),
    summary_bad(
        "WindowEnd before StatusTime",
        "WindowEnd must be later than StatusTime, got '2026-11-22 14:04:00.000'",
        WindowEnd="2026-11-22 14:04:00.000",
    ),
    summary_bad(
        "WindowEnd equal to StatusTime",
        "WindowEnd must be later than StatusTime",
        WindowEnd="2026-11-22 14:05:00.000",
    ),
    summary_bad(
        "FirstStatusTime after LastStatusTime",
        "FirstStatusTime must not be later than LastStatusTime",
        FirstStatusTime="2026-11-22 14:05:59.000",
    ),
    *(
        summary_bad(f"summary {field} {kind}", f"{field} must be an integer", **{field: value})
        for field in SUMMARY_INTEGERS
        for kind, value in (("a string number", "5"), ("a boolean", True), ("a float", 5.0))
    ),
    summary_bad("summary Distance a string", "Distance must be a number", Distance="600"),
    summary_bad("summary Latitude a boolean", "Latitude must be a number", Latitude=False),
    summary_bad("summary Longitude null", "Longitude must be a number", Longitude=None),
    summary_bad("SampleCount zero", "SampleCount must be from 1 to 1000000, got 0", SampleCount=0),
    summary_bad(
        "SampleCount negative", "SampleCount must be from 1 to 1000000, got -20", SampleCount=-20
    ),
    summary_bad(
        "SampleCount beyond DynamoDB's 38 digits",
        "SampleCount must be from 1 to 1000000, got 10000000000000000...",
        SampleCount=10**40,
    ),
    summary_bad(
        "MinHealthPoints above MaxHealthPoints",
        "MinHealthPoints and MaxHealthPoints must be from 0 to 1000, the minimum not above the "
        "maximum, got 130 and 120",
        MinHealthPoints=130,
    ),
    summary_bad(
        "MinMagicPoints above MaxMagicPoints",
        "MinMagicPoints and MaxMagicPoints must be from 0 to 1000",
        MinMagicPoints=151,
    ),
    summary_bad("negative MinMagicPoints", "got -1 and 150", MinMagicPoints=-1),
    summary_bad("MaxHealthPoints above 1000", "got 98 and 1001", MaxHealthPoints=1001),
    summary_bad(
        "negative summary distance",
        "Distance must be from 0 to 5000 m a sample, got -1.0",
        Distance=-1.0,
    ),
    summary_bad(
        "summary distance beyond 5000 m a sample",
        "Distance must be from 0 to 5000 m a sample, got 100000.5",
        Distance=100_000.5,
    ),
    summary_bad(
        "summary Latitude out of range",
        "Latitude must be from -90 to 90, got 500.0",
        Latitude=500.0,
    ),
    summary_bad(
        "summary Longitude out of range",
        "Longitude must be from -180 to 180, got -180.5",
        Longitude=-180.5,
    ),
]

assert len({row.id for row in SUMMARY_TABLE}) == len(SUMMARY_TABLE), "row ids must be unique"
