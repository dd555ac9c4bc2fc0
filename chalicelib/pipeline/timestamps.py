"""The `StatusTime` text format and conversions between it, ISO 8601 and epoch seconds.

`StatusTime` is the workshop's UTC timestamp with milliseconds,
`YYYY-MM-DD HH:MM:SS.mmm`. Because it is fixed-width, text order is time order,
which is what lets DynamoDB range queries and the window code compare strings.
"""

from __future__ import annotations

from datetime import UTC, datetime

STATUS_TIME_LENGTH = len("2026-11-22 14:05:09.123")


def format_status_time(moment: datetime) -> str:
    """`moment` as `StatusTime`; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return _format(moment, " ", "")


def is_status_time(text: str) -> bool:
    """True when `text` is exactly `YYYY-MM-DD HH:MM:SS.mmm` and a real instant."""
    # On the per-record path, so the fewest checks that make fromisoformat's C
    # parser accept this layout only, digits checked by it: [7] rules out week
    # dates ("2026-W47-7 ..."), [10] and [19] the basic and compact forms, and
    # a zone ("...09.12Z") shows in tzinfo. A property test holds it to a regex.
    if (
        len(text) != STATUS_TIME_LENGTH
        or not text.isascii()
        or text[7] != "-"
        or text[10] != " "
        or text[19] != "."
    ):
        return False
    try:
        return datetime.fromisoformat(text).tzinfo is None
    except ValueError:
        return False


def parse_status_time(text: str) -> datetime:
    """The UTC instant of a `StatusTime`; ValueError when `text` is not one."""
    if not is_status_time(text):
        raise ValueError(f"not a StatusTime (YYYY-MM-DD HH:MM:SS.mmm): {text!r}")
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def parse_instant(text: str) -> datetime:
    """A UTC instant from `StatusTime`, or ISO 8601 with or without an offset.

    Accepts `2026-11-22 14:05:09.123`, `2026-11-22T14:05:09Z`,
    `2026-11-22T15:05:09+01:00`, `2026-11-22T14:05` and `2026-11-22`.
    Text without an offset is UTC, as `StatusTime` is. ValueError otherwise.
    """
    cleaned = text.strip()
    if cleaned.endswith("z"):  # fromisoformat takes "Z" only
        cleaned = cleaned[:-1] + "Z"
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(
            f"not a time: {text!r} (use 'YYYY-MM-DD HH:MM:SS.mmm' or ISO 8601)"
        ) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise ValueError(f"not a time between the years 1 and 9999 in UTC: {text!r}") from None


def from_epoch(seconds: float) -> datetime:
    """The UTC instant `seconds` after the Unix epoch."""
    return datetime.fromtimestamp(seconds, UTC)


def to_iso(moment: datetime) -> str:
    """`moment` as ISO 8601 in UTC with a `Z`, as Lambda writes window bounds."""
    return _format(moment.astimezone(UTC), "T", "Z")


def _format(m: datetime, separator: str, suffix: str) -> str:
    # strftime does not zero-pad years before 1000 on every platform.
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}{separator}"
        f"{m.hour:02d}:{m.minute:02d}:{m.second:02d}.{m.microsecond // 1000:03d}{suffix}"
    )
