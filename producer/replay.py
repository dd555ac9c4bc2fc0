"""Records to replay from newline-delimited JSON, checked in full before any is sent.

The input is typically an archive object downloaded from the bucket (gzipped,
as Firehose writes it, or not): one raw record a line, exactly as the
producer sent it. Each line goes back on the
stream byte for byte (plus the newline if the file's last line lacks one),
keyed by its `Name`. Values are not checked against the workshop's rules: a
bad reading is the pipeline's to dead-letter, and replaying one is a way to
test that. What is checked is what the stream itself needs: a JSON object
with a usable partition key, within the record size limit. A file that fails
is refused whole, so a replay never stops halfway through.
"""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path
from typing import BinaryIO

from chalicelib.adapters.streams import MAX_RECORD_BYTES
from chalicelib.pipeline.events import Entry
from chalicelib.unicorns.records import MAX_NAME_LENGTH

STDIN = "-"
GZIP_MAGIC = b"\x1f\x8b"  # how every gzip file starts; no JSON line can


class ReplayError(ValueError):
    """The input cannot be replayed; the message names the file and line."""


def read_entries(path: str, stdin: BinaryIO) -> list[Entry]:
    """The entries to put for the file at `path` (or `stdin` when `path` is "-").

    A gzipped file (as the archive's objects are, `….gz`) is read as what it holds.
    """
    source = "<stdin>" if path == STDIN else path
    if path == STDIN:
        data = stdin.read()
    else:
        try:
            data = Path(path).read_bytes()
        except OSError as err:
            raise ReplayError(f"{path}: {err.strerror or err}") from None
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as err:
            raise ReplayError(f"{source}: not a whole gzip file ({err})") from None
    return parse_lines(data, source)


def parse_lines(data: bytes, source: str) -> list[Entry]:
    """One (data, partition key) entry per non-blank line of `data`.

    ReplayError names the first bad line of `source` and how many more there are.
    """
    entries: list[Entry] = []
    problems: list[str] = []
    for number, line in enumerate(data.split(b"\n"), 1):
        if not line.strip():
            continue
        record = line + b"\n"
        try:
            entries.append((record, _partition_key(record)))
        except ReplayError as err:
            problems.append(f"{source}:{number}: {err}")
    if problems:
        more = len(problems) - 1
        if more:
            problems[0] += f" (and {more} more bad line{'s' if more > 1 else ''})"
        raise ReplayError(problems[0])
    return entries


def _partition_key(record: bytes) -> str:
    try:
        text = record.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ReplayError(f"not UTF-8 ({err.reason} at byte {err.start})") from None
    try:
        obj = json.loads(text)
    except ValueError as err:
        raise ReplayError(f"not JSON ({err})") from None
    except RecursionError:
        raise ReplayError("not JSON (nested too deeply)") from None
    if not isinstance(obj, dict):
        raise ReplayError("not a JSON object")
    if "Name" not in obj:
        raise ReplayError('no "Name" field to use as the partition key')
    name = obj["Name"]
    if not isinstance(name, str) or not name:
        raise ReplayError('"Name" must be a non-empty string')
    if len(name) > MAX_NAME_LENGTH:
        raise ReplayError(
            f'"Name" is longer than {MAX_NAME_LENGTH} characters, the partition key limit'
        )
    size = len(record) + len(name.encode())
    if size > MAX_RECORD_BYTES:
        raise ReplayError(
            f"over the Kinesis record limit ({size} bytes with the partition key, "
            f"at most {MAX_RECORD_BYTES})"
        )
    return name
