"""One line of text per Kinesis record, for `python -m producer.tail`.

A raw sensor record becomes a line of fixed columns, marked when a vital is
low; a summary row becomes a one-line digest of its window; any other JSON is
shown compact, and anything else as its text. Record data is user input, so
every character that could start a new line or drive the terminal (escape
sequences, carriage returns, bidirectional overrides) is shown as an escape
instead; everything else, markup included, is printed as it is.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from chalicelib.pipeline.timestamps import is_status_time
from chalicelib.settings import DEFAULT_THRESHOLD

NAME_WIDTH = 12  # the fleet's names fit; longer ones push the columns right

_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# What --json escapes: whatever breaks one record per line or reaches the
# terminal as a command (C0 but tab, DEL, C1, the Unicode line separators).
_UNSAFE_IN_JSON = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
_SUMMARY_INTEGERS = ("MinHealthPoints", "MaxHealthPoints", "MinMagicPoints", "MaxMagicPoints")


def escape(text: str) -> str:
    """`text` with every character that is not printable shown as a backslash escape.

    Printable means letters, marks, numbers, punctuation, symbols and spaces:
    `\\x1b` (ESC), newlines, tabs, other controls, format characters such as
    U+202E and lone surrogates are escaped, Python-style.
    """
    if text.isprintable():  # the usual case, and much faster than a character walk
        return text
    return "".join(
        c if c.isprintable() or unicodedata.category(c) == "Zs" else _escape_char(c) for c in text
    )


def _escape_char(c: str) -> str:
    named = _NAMED_ESCAPES.get(c)
    if named is not None:
        return named
    code = ord(c)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def json_line(data: bytes) -> str:
    """The record's data as stored, for `--json`: one line, safe on a terminal.

    One trailing newline (the workshop producer's) is dropped. Bytes that are
    not UTF-8 appear as `\\xNN`; control characters as JSON's own `\\u00NN`, so
    that one inside a JSON string still means the same. Any other record,
    the JSON records of the pipeline among them, comes out byte for byte.
    """
    text = _strip_newline(data.decode("utf-8", "backslashreplace"))
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def readable_line(data: bytes, threshold: int = DEFAULT_THRESHOLD) -> str:
    """The record's data as one line for people; vitals below `threshold` are marked LOW."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return escape(_strip_newline(data.decode("utf-8", "backslashreplace")))
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested beyond what json can parse
        return escape(_strip_newline(text)) if text.strip() else "(empty record)"
    if type(value) is dict:
        if _is_summary(value):
            return _summary_line(value, threshold)
        if _is_reading(value):
            return _reading_line(value, threshold)
    # ensure_ascii=False keeps names legible; escape() then catches what
    # json.dumps leaves raw (C1 controls, U+2028, lone surrogates).
    return escape(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


def shard_label(shard_id: str) -> str:
    """A short name for a shard: `shardId-000000000001` is `shard 1`."""
    prefix, _, number = shard_id.partition("-")
    if prefix == "shardId" and number.isdigit() and number.isascii():
        return f"shard {int(number)}"
    return escape(shard_id)


def _strip_newline(text: str) -> str:
    if text.endswith("\r\n"):
        return text[:-2]
    return text.removesuffix("\n")


def _is_number(value: object) -> bool:
    """A JSON number that fits a float (bool is not a number here)."""
    if type(value) is float:
        return True
    if type(value) is not int:
        return False
    try:
        float(value)  # a 400-digit integer does not, and could not be formatted as one
    except OverflowError:
        return False
    return True


def _is_reading(row: dict[str, Any]) -> bool:
    return (
        type(row.get("Name")) is str
        and type(row.get("StatusTime")) is str
        and all(_is_number(row.get(f)) for f in ("Latitude", "Longitude", "Distance"))
        and all(type(row.get(f)) is int for f in ("HealthPoints", "MagicPoints"))
    )


def _is_summary(row: dict[str, Any]) -> bool:
    return (
        type(row.get("Name")) is str
        and type(row.get("StatusTime")) is str
        and _is_number(row.get("Distance"))
        and all(type(row.get(f)) is int for f in _SUMMARY_INTEGERS)
    )


def _reading_line(row: dict[str, Any], threshold: int) -> str:
    health, magic = row["HealthPoints"], row["MagicPoints"]
    return (
        f"{escape(row['StatusTime'])}  {escape(row['Name']):<{NAME_WIDTH}}  "
        f"{row['Latitude']:9.5f}, {row['Longitude']:10.5f}  dist {row['Distance']:6.1f} m  "
        f"health {health:3d}  magic {magic:3d}" + _low_marker(health, magic, threshold)
    )


def _summary_line(row: dict[str, Any], threshold: int) -> str:
    samples = row.get("SampleCount")
    count = (
        "" if type(samples) is not int else f"  ({samples} sample{'' if samples == 1 else 's'})"
    )
    return (
        f"summary {_window_start(row['StatusTime'])}  {escape(row['Name']):<{NAME_WIDTH}}  "
        f"distance {row['Distance']:.1f} m  "
        f"health {row['MinHealthPoints']}–{row['MaxHealthPoints']}  "
        f"magic {row['MinMagicPoints']}–{row['MaxMagicPoints']}{count}"
        + _low_marker(row["MinHealthPoints"], row["MinMagicPoints"], threshold)
    )


def _window_start(status_time: str) -> str:
    # Windows are usually whole minutes: `2026-11-22 15:39`, not `15:39:00.000`.
    if not is_status_time(status_time):
        return escape(status_time)
    if status_time.endswith(":00.000"):
        return status_time[:16]
    return status_time.removesuffix(".000")


def _low_marker(health: int, magic: int, threshold: int) -> str:
    low = [name for name, points in (("health", health), ("magic", magic)) if points < threshold]
    return f"  LOW {' and '.join(low)}" if low else ""
