"""A query's rows, and the table `make sql` prints of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

DEFAULT_MAX_ROWS = 50


@dataclass(frozen=True)
class QueryResult:
    """Column names and rows of Python values, the same from either engine."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


def format_table(result: QueryResult, max_rows: int = DEFAULT_MAX_ROWS) -> str:
    """`result` as aligned plain text: a header, at most `max_rows` rows, and a count."""
    if not result.columns:
        return "(no result)"
    shown = result.rows[:max_rows]
    cells = [[_cell(value) for value in row] for row in shown]
    widths = [
        max([len(name)] + [len(row[i]) for row in cells]) for i, name in enumerate(result.columns)
    ]
    numeric = [
        any(_is_number(row[i]) for row in shown)
        and all(_is_number(row[i]) or row[i] is None for row in shown)
        for i in range(len(result.columns))
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if right else v.ljust(w)
            for v, w, right in zip(values, widths, numeric, strict=True)
        ).rstrip()

    lines = [line(result.columns), line(["-" * w for w in widths])]
    lines += [line(row) for row in cells]
    hidden = len(result.rows) - len(shown)
    if hidden:
        lines.append(f"… and {hidden} more")
    else:
        count = len(result.rows)
        lines.append("(no rows)" if not count else f"({count} row{'s' if count > 1 else ''})")
    return "\n".join(lines)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        return value.isoformat(" ", "milliseconds" if value.microsecond else "seconds")
    if isinstance(value, float):
        return repr(round(value, 6))
    return str(value)
