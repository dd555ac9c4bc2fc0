"""`python -m local sql ...` in-process, over given sources: status, stdout and stderr."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout

from local.cli import command_line
from local.sql import Sources, sql_command


def run_cli(argv: list[str], sources: Sources) -> tuple[int, str, str]:
    """The command line parsed as `python -m local sql` parses it, run over `sources`."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            args = command_line().parse_args(["sql", *argv])
        except SystemExit as done:  # --help, or a usage error
            return int(done.code or 0), out.getvalue(), err.getvalue()
    status = sql_command(args, sources=sources, out=out, err=err)
    return status, out.getvalue(), err.getvalue()
