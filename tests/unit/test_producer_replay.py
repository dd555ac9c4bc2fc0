"""Reading a replay file: lines kept byte for byte, and the checks that refuse a whole file."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest

from chalicelib.adapters.streams import MAX_RECORD_BYTES
from producer.replay import ReplayError, parse_lines, read_entries

SHADOWFAX = b'{"Name":"Shadowfax","StatusTime":"2026-11-22 14:05:09.123","HealthPoints":150}'
ROCINANTE = b'{ "Name": "Rocinante", "MagicPoints": -7 }'


def test_lines_are_kept_as_they_are_keyed_by_name_and_blank_lines_skipped() -> None:
    data = SHADOWFAX + b"\n\n   \n" + ROCINANTE + b"\r\n" + SHADOWFAX

    entries = parse_lines(data, "archive.json")

    assert entries == [
        (SHADOWFAX + b"\n", "Shadowfax"),
        (ROCINANTE + b"\r\n", "Rocinante"),
        (SHADOWFAX + b"\n", "Shadowfax"),
    ]


@pytest.mark.parametrize("data", [b"", b"\n", b"  \n\n\t\n"])
def test_a_file_of_blank_lines_has_nothing_to_replay(data: bytes) -> None:
    assert parse_lines(data, "empty.json") == []


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"Name": "Shadowfax"', "not JSON (Expecting ',' delimiter"),
        (b"Shadowfax,150,150", "not JSON (Expecting value"),
        (b'["Shadowfax"]', "not a JSON object"),
        (b'"Shadowfax"', "not a JSON object"),
        (b'{"name": "Shadowfax"}', 'no "Name" field'),
        (b'{"Name": ""}', '"Name" must be a non-empty string'),
        (b'{"Name": 7}', '"Name" must be a non-empty string'),
        (b'{"Name": null}', '"Name" must be a non-empty string'),
        (b'{"Name": "' + b"x" * 257 + b'"}', '"Name" is longer than 256 characters'),
        (b'{"Name": "Sh\xffdowfax"}', "not UTF-8 (invalid start byte at byte 12)"),
        (
            b'{"Name": "Shadowfax", "Pad": "' + b"x" * MAX_RECORD_BYTES + b'"}',
            "over the Kinesis record limit",
        ),
    ],
)
def test_a_bad_line_refuses_the_file_naming_path_and_line(line: bytes, reason: str) -> None:
    data = SHADOWFAX + b"\n\n" + line + b"\n" + SHADOWFAX + b"\n"

    with pytest.raises(ReplayError) as caught:
        parse_lines(data, "archive.json")

    assert str(caught.value).startswith(f"archive.json:3: {reason}")
    assert "\n" not in str(caught.value)


def test_values_the_pipeline_would_reject_are_still_replayed() -> None:
    line = b'{"Name": "Shadowfax", "HealthPoints": "lots", "Latitude": NaN}'

    assert parse_lines(line, "odd.json") == [(line + b"\n", "Shadowfax")]


@pytest.mark.parametrize(
    ("data", "count"),
    [
        (b"nope\n" + SHADOWFAX + b"\n[]\n{}\n", " (and 2 more bad lines)"),
        (b"nope\n" + SHADOWFAX + b"\n[]\n", " (and 1 more bad line)"),
        (b"nope\n" + SHADOWFAX + b"\n", ""),
    ],
)
def test_every_bad_line_is_counted_after_the_first(data: bytes, count: str) -> None:
    with pytest.raises(ReplayError) as caught:
        parse_lines(data, "in.json")

    assert str(caught.value).startswith("in.json:1: not JSON (")
    assert str(caught.value).endswith(")" + count)


def test_a_file_is_read_from_its_path_or_from_stdin(tmp_path: Path) -> None:
    path = tmp_path / "archive.json"
    path.write_bytes(SHADOWFAX + b"\n")
    nothing = io.BytesIO(b"")

    assert read_entries(str(path), nothing) == [(SHADOWFAX + b"\n", "Shadowfax")]
    assert read_entries("-", io.BytesIO(ROCINANTE)) == [(ROCINANTE + b"\n", "Rocinante")]
    with pytest.raises(ReplayError, match=r"^<stdin>:1: not JSON"):
        read_entries("-", io.BytesIO(b"oops\n"))


def test_a_missing_file_is_a_replay_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"

    with pytest.raises(ReplayError, match=f"^{missing}: No such file or directory$"):
        read_entries(str(missing), io.BytesIO(b""))


def test_an_archive_object_as_firehose_writes_it_gzipped_is_replayed_as_it_holds(
    tmp_path: Path,
) -> None:
    path = tmp_path / "wildrydes-1-2026-11-22-14-05-09-x.gz"
    path.write_bytes(gzip.compress(SHADOWFAX + b"\n" + ROCINANTE + b"\n"))

    assert read_entries(str(path), io.BytesIO(b"")) == [
        (SHADOWFAX + b"\n", "Shadowfax"),
        (ROCINANTE + b"\n", "Rocinante"),
    ]
    assert read_entries("-", io.BytesIO(path.read_bytes()))[1] == (ROCINANTE + b"\n", "Rocinante")


def test_a_gzip_file_cut_short_is_refused_whole(tmp_path: Path) -> None:
    whole = gzip.compress(SHADOWFAX + b"\n" * 1000)
    path = tmp_path / "cut.gz"
    path.write_bytes(whole[: len(whole) // 2])

    with pytest.raises(ReplayError, match=rf"^{path}: not a whole gzip file"):
        read_entries(str(path), io.BytesIO(b""))
