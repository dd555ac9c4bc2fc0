"""The SQL tools' errors, as one line each, and the values a query's `?` takes."""

from __future__ import annotations

from datetime import date, datetime

from botocore.exceptions import ClientError

# A value the user supplies for a `?`.
Param = str | int | float | bool | None | datetime | date


class SqlError(Exception):
    """A problem the user can act on, described in one line."""


class QueryError(SqlError):
    """A query failed; the message names the query (`label`) and the engine's reason."""

    def __init__(self, label: str, reason: str) -> None:
        super().__init__(f"{label}: {one_line(reason)}")
        self.label = label


def one_line(text: str) -> str:
    """The first line of an error, its spacing tidied: what the user sees."""
    first = text.strip().splitlines()[0] if text.strip() else "failed"
    return " ".join(first.split())


def aws_reason(err: ClientError) -> str:
    """An AWS error as `Code: Message`."""
    error = err.response.get("Error", {})
    return f"{error.get('Code', 'Error')}: {error.get('Message', err)}"
