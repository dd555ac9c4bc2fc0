"""`python -m local`: the local pipeline's commands (`demo`, `up`, `sql`)."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import boto3

from infra import names as infra_names
from infra.errors import InfraError
from infra.stages import CONFIG_PATH
from infra.system import ARCHIVED_STREAMS
from local.demo import DemoOptions, run_demo
from local.endpoint import (
    ACCOUNT,
    CREDENTIALS,
    DEFAULT_PORT,
    HOST,
    REGION,
    EndpointError,
    port_free,
)
from local.provision import ProvisionError
from local.sql import Sources, archive_tables, sql_command
from local.sql.command import add_sql_command
from local.stack import API_PORT, LOCAL_STAGE, SCHEDULE_INTERVAL, StackOptions
from local.state import LINK_NAME, STATE_VARIABLE, StateError, link_state, state_dir
from local.up import UpOptions, run_up

# The archive bucket's name on the embedded endpoint (moto's account and region).
LOCAL_BUCKET = infra_names.ARCHIVE_BUCKET.replace("${AWS::AccountId}", ACCOUNT).replace(
    "${AWS::Region}", REGION
)


def _stack_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"endpoint port (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--stage",
        default=LOCAL_STAGE,
        help=f"stage of .chalice/config.json (default {LOCAL_STAGE})",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        help="where the run keeps its logs, mail, checkpoints and archive copy (default: "
        f"${STATE_VARIABLE}, else a folder of this project's under $XDG_STATE_HOME/wildrydes, "
        f"linked from {LINK_NAME})",
    )
    parser.add_argument(
        "--schedule-every",
        type=_positive_seconds,
        default=SCHEDULE_INTERVAL,
        metavar="SECONDS",
        help="run scheduled functions (the report) this often "
        f"(default {SCHEDULE_INTERVAL:g}; 0 = their declared rate)",
    )
    parser.add_argument(
        "--config", type=Path, default=CONFIG_PATH, help="the Chalice config with the stage"
    )


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0 or value != value:  # negative or NaN
        raise argparse.ArgumentTypeError(f"expected seconds (0 or more), got {text!r}")
    return value


def command_line() -> argparse.ArgumentParser:
    """The command line of `python -m local`: demo, up and sql."""
    parser = argparse.ArgumentParser(
        prog="python -m local", description="The Wild Rydes pipeline on this machine."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run the pipeline end to end and report")
    _stack_arguments(demo)
    demo.add_argument("--unicorns", type=int, default=5, help="fleet size (default 5)")
    demo.add_argument(
        "--duration", type=float, default=60.0, help="seconds of producing (default 60)"
    )
    demo.add_argument("--seed", type=int, default=2026, help="producer seed (default 2026)")
    demo.add_argument(
        "--dataset",
        choices=("unicorns", "taxi"),
        default="unicorns",
        help="the unicorn fleet (default) or a morning of taxi trips with a fare spike",
    )
    demo.add_argument("--json", action="store_true", help="the report as one JSON object")
    up = commands.add_parser("up", help="run the stack, the API and a producer until Ctrl-C")
    _stack_arguments(up)
    up.add_argument(
        "--api-port", type=int, default=API_PORT, help=f"API port (default {API_PORT})"
    )
    up.add_argument("--unicorns", type=int, default=5, help="fleet size (default 5)")
    up.add_argument("--no-producer", action="store_true", help="start no producer")
    up.add_argument(
        "--no-api",
        action="store_true",
        help="start no API: leave the port to your own `chalice local --stage local`",
    )
    sql = add_sql_command(commands, tuple(archived.table for archived in ARCHIVED_STREAMS))
    sql.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"the endpoint's port (default {DEFAULT_PORT}); "
        "a running endpoint's archive is copied first",
    )
    sql.add_argument(
        "--work-dir", type=Path, help="where the archive copy is kept (default: as for up)"
    )
    # The archive's tables are the same in every stage; --stage is still taken, as before.
    sql.add_argument("--stage", default=LOCAL_STAGE, help=argparse.SUPPRESS)
    return parser


def _work_dir(chosen: Path | None) -> Path:
    """The directory given, or the project's state directory, linked from the project."""
    if chosen is not None:
        return chosen
    state = state_dir()
    note = link_state(state)
    if note:
        print(f"local: {note}", file=sys.stderr)
    return state


def run_sql(args: argparse.Namespace) -> int:
    """The SQL command over the running endpoint's archive, or over the last run's copy."""
    running = not port_free(args.port)
    try:
        cache = _work_dir(args.work_dir) / "archive"
    except StateError as err:
        print(f"local sql: {err}", file=sys.stderr)
        return 1
    needs_archive = not args.list and args.engine == "duckdb"
    if needs_archive and not running and not cache.exists():
        print(
            "local sql: no archive yet: run `make demo` (or keep `make up` running) first",
            file=sys.stderr,
        )
        return 1
    s3 = None
    if running:
        s3 = boto3.session.Session(
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=REGION,
        ).client("s3", endpoint_url=f"http://{HOST}:{args.port}")
    # Athena is AWS itself: the default credentials, region and endpoint.
    athena = boto3.session.Session().client("athena") if args.engine == "athena" else None
    sources = Sources(tables=archive_tables(LOCAL_BUCKET), cache_dir=cache, s3=s3, athena=athena)
    return sql_command(args, sources=sources, out=sys.stdout, err=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    # Started as a background job, a process inherits SIGINT ignored, and then
    # `kill -INT` could not stop it cleanly: always turn SIGINT into Ctrl-C.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    argv = list(sys.argv[1:] if argv is None else argv)
    args = command_line().parse_args(argv)
    if args.command == "sql":
        return run_sql(args)
    try:
        work_dir = _work_dir(args.work_dir)
    except StateError as err:
        print(f"local: {err}", file=sys.stderr)
        return 1
    stack = StackOptions(
        stage=args.stage,
        port=args.port,
        work_dir=work_dir,
        config_path=args.config,
        schedule_interval=args.schedule_every or None,
    )
    try:
        if args.command == "demo":
            return run_demo(
                DemoOptions(
                    stack=stack,
                    unicorns=args.unicorns,
                    duration=args.duration,
                    seed=args.seed,
                    as_json=args.json,
                    dataset=args.dataset,
                )
            )
        if args.command == "up":
            return run_up(
                UpOptions(
                    stack=stack,
                    api_port=args.api_port,
                    unicorns=args.unicorns,
                    produce=not args.no_producer,
                    serve_api=not args.no_api,
                )
            )
    except (EndpointError, ProvisionError, InfraError) as err:
        print(f"local: {err}", file=sys.stderr)
        return 1
    return 2
