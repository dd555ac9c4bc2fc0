"""`make sql`: the query arguments of `python -m local sql`, and running them.

`local/cli.py` owns the command line; this adds the `sql` command's query
arguments to it (`add_sql_command`) and runs what was parsed (`sql_command`).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import IO, Any

from infra.named_queries import named_queries
from local.sql.engines import ENGINES
from local.sql.errors import Param, SqlError
from local.sql.queries import Sources, describe_parameters, run_named, run_query
from local.sql.results import DEFAULT_MAX_ROWS, format_table


def add_sql_command(commands: Any, tables: Sequence[str]) -> argparse.ArgumentParser:
    """The `sql` command on `commands` (an argparse subparsers object), with its query
    arguments; the caller adds where the archive is."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "sql",
        help="SQL over the archive (python -m local sql --help)",
        description=(
            f"SQL over the Wild Rydes archive (tables {', '.join(tables)}), in Athena's "
            "dialect: on embedded DuckDB over a local copy of the archive, or on Athena."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    prog = parser.prog
    parser.epilog = (
        "examples:\n"
        f'  {prog} "SELECT dt, count(*) FROM wildrydes GROUP BY dt ORDER BY dt"\n'
        f"  {prog} --named points_after --param '2026-11-22 14:00:00'\n"
        f'  {prog} "SELECT * FROM wildrydes WHERE healthpoints < ?" --param 100\n'
        f"  {prog} --named peak_hours --param 2026-11-23\n"
        f"  {prog} --named fare_trends --param 161\n"
        f'  {prog} "SELECT pickupzone, count(*) AS trips FROM taxi_trips GROUP BY 1"\n'
        f"  {prog} --list"
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
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="duckdb",
        help="embedded DuckDB (default) or Athena (your AWS account: its credentials apply)",
    )
    parser.add_argument(
        "--no-sync", action="store_true", help="duckdb: query the cached archive as it is"
    )
    parser.add_argument(
        "--max-rows",
        type=int,
        default=DEFAULT_MAX_ROWS,
        metavar="N",
        help=f"rows printed at most (default {DEFAULT_MAX_ROWS}); the rest are counted",
    )
    return parser


def cli_param(text: str) -> Param:
    """A command-line value: `42` and `-1.5` are numbers, anything else (`007` too) text."""
    if re.fullmatch(r"-?(?:0|[1-9][0-9]*)", text):
        return int(text)
    if re.fullmatch(r"-?(?:0|[1-9][0-9]*)\.[0-9]+", text):
        return float(text)
    return text


def sql_command(args: argparse.Namespace, *, sources: Sources, out: IO[str], err: IO[str]) -> int:
    """Runs the parsed `sql` command: the result as a table on `out`, or one line on `err`
    and status 1."""
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
