"""The tail's lines: one per record, readable or raw, never unsafe on a terminal."""

from __future__ import annotations

import json
import unicodedata

import pytest

from chalicelib.unicorns.records import Reading, encode_reading
from chalicelib.unicorns.summaries import Summary, encode_row
from producer.tail.lines import escape, json_line, readable_line, shard_label


def reading(name: str = "Shadowfax", health: int = 150, magic: int = 118) -> bytes:
    return encode_reading(
        Reading(name, "2026-11-22 15:39:12.000", 49.2853, -123.1189, 12.3, health, magic)
    )


def summary(min_health: int = 98, min_magic: int = 100, samples: int = 60) -> bytes:
    return encode_row(
        Summary(
            name="Shadowfax",
            status_time="2026-11-22 15:39:00.000",
            distance=734.25,
            min_magic=min_magic,
            max_magic=150,
            min_health=min_health,
            max_health=150,
            samples=samples,
            window_end="2026-11-22 15:40:00.000",
            first_status_time="2026-11-22 15:39:00.120",
            last_status_time="2026-11-22 15:39:59.120",
            latitude=49.2853,
            longitude=-123.1189,
            summary_ids=frozenset({"shardId-000000000000:1"}),
        )
    )


def reading_line(name: str = "Shadowfax   ", vitals: str = "health 150  magic 118") -> str:
    return f"2026-11-22 15:39:12.000  {name}   49.28530, -123.11890  dist   12.3 m  {vitals}"


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (reading(), reading_line()),
        (reading().rstrip(b"\n"), reading_line()),
        (reading(health=99), reading_line(vitals="health  99  magic 118  LOW health")),
        (reading(magic=42), reading_line(vitals="health 150  magic  42  LOW magic")),
        (
            reading(health=0, magic=99),
            reading_line(vitals="health   0  magic  99  LOW health and magic"),
        ),
        (reading(health=100, magic=100), reading_line(vitals="health 100  magic 100")),
        (
            reading(name="Rocinante the Magnificent"),
            reading_line(name="Rocinante the Magnificent"),
        ),
    ],
    ids=["raw", "no-newline", "low-health", "low-magic", "both-low", "at-100", "long-name"],
)
def test_a_raw_record_is_a_line_of_columns_marked_when_a_vital_is_low(
    data: bytes, line: str
) -> None:
    assert readable_line(data) == line


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (
            summary(),
            "summary 2026-11-22 15:39  Shadowfax     distance 734.2 m  health 98–150  "
            "magic 100–150  (60 samples)  LOW health",
        ),
        (
            summary(min_health=100, samples=1),
            "summary 2026-11-22 15:39  Shadowfax     distance 734.2 m  health 100–150  "
            "magic 100–150  (1 sample)",
        ),
        (
            # The workshop's own summary shape: no sample count, a window of 30 s.
            json.dumps(
                {
                    "Name": "Shadowfax",
                    "StatusTime": "2026-11-22 15:39:30.000",
                    "Distance": 900,
                    "MinMagicPoints": 97,
                    "MaxMagicPoints": 101,
                    "MinHealthPoints": 140,
                    "MaxHealthPoints": 150,
                }
            ).encode(),
            "summary 2026-11-22 15:39:30  Shadowfax     distance 900.0 m  health 140–150  "
            "magic 97–101  LOW magic",
        ),
    ],
    ids=["pipeline-row", "one-sample", "workshop-row"],
)
def test_a_summary_row_is_a_digest_of_its_window(data: bytes, line: str) -> None:
    assert readable_line(data) == line


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b'{ "Name": "Rocinante", "Health": 99 }\n', '{"Name":"Rocinante","Health":99}'),
        (b'{"Name":"Shadowfax","Health":"150"}', '{"Name":"Shadowfax","Health":"150"}'),
        (b'{"Name":"Bucephalus","Note":"caf\xc3\xa9"}', '{"Name":"Bucephalus","Note":"café"}'),
        (b"[1, 2,\n 3]", "[1,2,3]"),
        (b'"just a string"', '"just a string"'),
        (b'{"Name":"A\\u001b[2JB"}', '{"Name":"A\\u001b[2JB"}'),  # json.dumps escapes C0 itself
        (b'{"Name":"A\xc2\x9b2JB"}', '{"Name":"A\\x9b2JB"}'),  # C1 CSI is not escaped by it
        (b'{"Name":"\\ud800"}', '{"Name":"\\ud800"}'),  # a lone surrogate cannot be printed
    ],
    ids=["spaced", "wrong-type", "utf-8", "array", "string", "c0", "c1", "surrogate"],
)
def test_other_json_is_shown_compact_and_escaped(data: bytes, line: str) -> None:
    assert readable_line(data) == line


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"hello unicorns\n", "hello unicorns"),
        (b"Name=Shadowfax,Health=150\r\n", "Name=Shadowfax,Health=150"),
        (b"two\nlines\n", "two\\nlines"),
        (b'{"Name":"Shadowfax"', '{"Name":"Shadowfax"'),
        (b"\xff\xfeA\x00B", "\\xff\\xfeA\\x00B"),
        (b"caf\xe9 \x1b[31mred", "caf\\xe9 \\x1b[31mred"),
        (b"", "(empty record)"),
        (b"  \n", "(empty record)"),
    ],
    ids=["text", "crlf", "newline-inside", "broken-json", "utf-16", "latin-1", "empty", "blank"],
)
def test_anything_else_is_its_text_escaped(data: bytes, line: str) -> None:
    assert readable_line(data) == line


# Controls, format characters (bidi overrides), surrogates, line and paragraph separators.
UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("\x1b[31mEvil\nName", "\\x1b[31mEvil\\nName"),
        ("Tab\there\rCR\x7f\x00", "Tab\\there\\rCR\\x7f\\x00"),
        ("abc\u202edcba", "abc\\u202edcba"),  # right-to-left override
        ("line\u2028separator", "line\\u2028separator"),
        ("\x9b31mCSI", "\\x9b31mCSI"),
        ("<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>"),
        ("Ünïcörn 独角兽 🦄", "Ünïcörn 独角兽 🦄"),
        ("no\u00a0break", "no\u00a0break"),
        ("C:\\path", "C:\\path"),
    ],
    ids=["ansi-nl", "controls", "bidi", "u2028", "c1", "html", "unicode", "nbsp", "backslash"],
)
def test_a_name_is_printed_as_it_is_but_control_characters_are_escaped(
    name: str, shown: str
) -> None:
    line = readable_line(reading(name=name))

    assert line.startswith(f"2026-11-22 15:39:12.000  {shown}")
    assert not [c for c in line if unicodedata.category(c) in UNSAFE_CATEGORIES]
    assert escape(name) == shown


def test_a_summary_name_is_escaped_too() -> None:
    row = json.loads(summary())
    row["Name"] = "\x1b]0;pwned\x07"

    line = readable_line(json.dumps(row).encode())

    assert line.startswith("summary 2026-11-22 15:39  \\x1b]0;pwned\\x07  distance")


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (reading(), reading()[:-1].decode()),
        (b'{"Name":"caf\xc3\xa9"}\r\n', '{"Name":"café"}'),
        (b'{"a":1}\n\n', '{"a":1}\n'.replace("\n", "\\u000a")),
        (b'{"Name":"<b>\\u001b</b>"}', '{"Name":"<b>\\u001b</b>"}'),
        (b"\xff\xfe\x1b[2J\ttab", "\\xff\\xfe\\u001b[2J\ttab"),
        (b'{\n  "pretty": true\n}', '{\\u000a  "pretty": true\\u000a}'),
        (b"x\xc2\x9by\xe2\x80\xa8z", "x\\u009by\\u2028z"),
    ],
    ids=["reading", "crlf", "two-newlines", "escaped-json", "not-utf-8", "pretty", "c1-u2028"],
)
def test_json_mode_prints_the_data_as_stored_on_one_safe_line(data: bytes, line: str) -> None:
    assert json_line(data) == line


@pytest.mark.parametrize(
    ("shard_id", "label"),
    [
        ("shardId-000000000000", "shard 0"),
        ("shardId-000000000017", "shard 17"),
        ("custom\x1b", "custom\\x1b"),
    ],
)
def test_a_shard_is_named_by_its_number(shard_id: str, label: str) -> None:
    assert shard_label(shard_id) == label


def test_a_number_too_large_for_a_float_is_shown_as_json_not_a_crash() -> None:
    huge = "1" + "0" * 400
    data = (
        '{"Name":"Shadowfax","StatusTime":"2026-11-22 15:39:12.000","Latitude":' + huge + ","
        '"Longitude":-73.98,"Distance":30.0,"HealthPoints":150,"MagicPoints":150}\n'
    ).encode()
    line = readable_line(data)
    assert huge in line and line.startswith("{")
