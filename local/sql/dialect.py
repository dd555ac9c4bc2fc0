"""Athena's SQL (Trino's dialect) on DuckDB: one translation, and the session it needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import unit_to_str
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.errors import ErrorLevel
from sqlglot.generators.duckdb import DuckDBGenerator

from local.sql.errors import SqlError, one_line

# Session settings that make DuckDB behave as Athena (Trino) does:
# - TimeZone: Athena's sessions are UTC, and so is every StatusTime;
# - integer_division: in Trino 7 / 2 is 3, in DuckDB 3.5 unless this is set;
# - default_null_order: Trino puts NULLs last in both directions.
DUCKDB_SETTINGS: dict[str, str | bool] = {
    "TimeZone": "UTC",
    "integer_division": True,
    "default_null_order": "nulls_last",
}


def _whole_units(generator: DuckDBGenerator, expression: exp.DateDiff) -> str:
    """Trino's date_diff counts whole units (14:59 to 15:10 is 0 hours); DuckDB's
    date_diff counts the boundaries crossed (1 hour), its date_sub whole units."""
    return generator.func(
        "DATE_SUB", unit_to_str(expression), expression.expression, expression.this
    )


class _AthenaOnDuckDb(DuckDB):
    """DuckDB as sqlglot writes it, but for the one translation that changes answers."""

    class Generator(DuckDBGenerator):
        TRANSFORMS: ClassVar[dict[type[exp.Expr], Callable[..., str]]] = {
            **DuckDBGenerator.TRANSFORMS,
            exp.DateDiff: _whole_units,
        }


def to_duckdb(sql: str) -> str:
    """Athena's SQL (Trino's dialect) as DuckDB's, translated by sqlglot.

    sqlglot knows both dialects' functions, types and literals; `?` parameters
    stay as they are. Integer division, time zone and NULL order are session
    settings (`DUCKDB_SETTINGS`), and `date_diff` is written as DuckDB's
    `date_sub` so that it counts whole units, as Trino's does. What sqlglot cannot
    carry over is refused by name rather than run with a different meaning.
    """
    try:
        statements = sqlglot.transpile(
            sql, read="athena", write=_AthenaOnDuckDb, unsupported_level=ErrorLevel.RAISE
        )
    except sqlglot.errors.ParseError as err:
        first = err.errors[0] if err.errors else {}
        where = (
            f" at line {first['line']}, column {first['col']} (near {first['highlight']!r})"
            if first.get("line")
            else ""
        )
        reason = first.get("description") or str(err)
        raise SqlError(f"not Athena SQL{where}: {one_line(reason)}") from None
    except sqlglot.errors.TokenError as err:  # an unclosed quote, a stray character
        raise SqlError(f"not Athena SQL: {one_line(str(err))}") from None
    except sqlglot.errors.SqlglotError as err:
        reason = one_line(str(err)).replace(_AthenaOnDuckDb.__name__, "DuckDB")
        raise SqlError(f"cannot run on DuckDB: {reason}") from None
    return ";\n".join(statements)
