"""`make sql`'s command line."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import IO, Any, NoReturn

from infra.named_queries import named_queries
from local.sql.engines import ENGINES
from local.sql.errors import Param, SqlError
from local.sql.queries import Sources, describe_parameters, run_named, run_query
from local.sql.results import DEFAULT_MAX_ROWS, format_table


class _Parser(argparse.ArgumentParser):
    """argparse writing to the given streams and raising instead of exiting."""

    def __init__(self, out: IO[str], err: IO[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._out, self._err = out, err

    def _print_message(self, message: str, file: Any = None) -> None:
        if message:
            (self._err if file is sys.stderr else self._out).write(message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            self._err.write(message)
        raise _Exit(status)


class _Exit(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _parser(out: IO[str], err: IO[str], prog: str, tables: Sequence[str]) -> _Parser:
    parser = _Parser(
        out,
        err,
        prog=prog,
        description=(
            f"SQL over the Wild Rydes archive (tables {', '.join(tables)}), in Athena's "
            "dialect: on embedded DuckDB over a local copy of the archive, or on Athena."
        ),
        epilog=(
            "examples:\n"
            f'  {prog} "SELECT dt, count(*) FROM wildrydes GROUP BY dt ORDER BY dt"\n'
            f"  {prog} --named points_after --param '2026-11-22 14:00:00'\n"
            f'  {prog} "SELECT * FROM wildrydes WHERE healthpoints < ?" --param 100\n'
            f"  {prog} --named peak_hours --param 2026-11-23\n"
            f"  {prog} --named fare_trends --param 161\n"
            f'  {prog} "SELECT pickupzone, count(*) AS trips FROM taxi_trips GROUP BY 1"\n'
            f"  {prog} --list"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("sql", nargs="?", help="the query; ? marks a --param")
    what.add_argument(
        "--named", metavar="NAME", help="a named query, e.g. low_vitals or peak_hours (--list)"
    )
    what.add_argument("--list", action="store_true", help="list the named queries")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="V",
        help="a value for the next ?; plain numbers are numbers, anything else text",
    )
    parser.add_argument("--engine", choices=ENGINES, default="duckdb")
    parser.add_argument(
        "--no-sync", action="store_true", help="duckdb: query the cached archive as it is"
    )
    parser.add_argument("--max-rows", type=int, default=DEFAULT_MAX_ROWS, metavar="N")
    return parser


def cli_param(text: str) -> Param:
    """A command-line value: `42` and `-1.5` are numbers, anything else (`007` too) text."""
    if re.fullmatch(r"-?(?:0|[1-9][0-9]*)", text):
        return int(text)
    if re.fullmatch(r"-?(?:0|[1-9][0-9]*)\.[0-9]+", text):
        return float(text)
    return text


def sql_command(
    argv: Sequence[str],
    *,
    sources: Sources,
    out: IO[str],
    err: IO[str],
    prog: str = "python -m local sql",
) -> int:
    """`sql "SELECT ..." [--param V ...] [--engine duckdb|athena]`, `sql --named NAME`.

    Prints the result as a table on `out`; a failure is one line on `err` and
    status 1, a usage error status 2.
    """
    parser = _parser(out, err, prog, [t.name for t in sources.tables])
    try:
        args = parser.parse_args(list(argv))
    except _Exit as done:
        return done.status
    try:
        if args.list:
            for query in named_queries():
                out.write(
                    f"q{query.number} {query.name} ({query.table}, "
                    f"{describe_parameters(query.parameters)}): {query.description}\n"
                )
            return 0
        params = [cli_param(p) for p in args.param]
        if args.no_sync:
            sources = replace(sources, s3=None)
        if args.named:
            result = run_named(args.named, params, sources=sources, engine=args.engine)
        else:
            result = run_query(args.sql, params, sources=sources, engine=args.engine)
    except SqlError as problem:
        err.write(f"error: {problem}\n")
        return 1
    out.write(format_table(result, max(args.max_rows, 0)) + "\n")
    return 0
