"""`make demo`: the whole pipeline on this machine, from a cold start to a report.

Starts the local stack, runs the producer (5 unicorns, some unwell) long
enough for several complete windows, lets the last window close and every
stage drain, gathers the results and prints the report. Every process it
started is stopped when it ends, also on Ctrl-C or an error.

`make demo DATASET=taxi` does the same with the taxi data set: four hours of
a morning's trips (07:00 to 11:00 of today, 20,000 trips a day) in a minute,
with zone 161's meters charging double from 08:00 to 08:30, and reports the
day's peaks and zones as the API answers them, the fare alerts and the
taxi questions over the archive (`local.taxi_report`).
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from chalicelib import names
from chalicelib.pipeline.timestamps import from_epoch
from infra import names as infra_names
from infra.named_queries import named_queries
from infra.names import API_HANDLER_FUNCTION
from infra.resources import ARCHIVE_BUCKET_OUTPUT
from local import report as reporting
from local import taxi_report
from local.child import spawn, stop_process
from local.endpoint import client_environment
from local.sql import Param, Sources, SqlError, run_named
from local.stack import LocalStack, StackOptions
from local.state import shown

PROGRESS_SECONDS = 10.0
DRAIN_MARGIN = 30.0  # seconds beyond a window for the last summaries to land
REPORT_FUNCTION = "report"


# The taxi demo's morning: from 07:00, 4 simulated minutes a second, with a spike.
TAXI_START = "07:00"
TAXI_SPEED = 240
TAXI_TRIPS_PER_DAY = 20_000
TAXI_SPIKE = "161@08:00-08:30"


@dataclass
class DemoOptions:
    stack: StackOptions
    unicorns: int = 5
    duration: float = 60.0
    seed: int = 2026
    as_json: bool = False
    dataset: str = "unicorns"  # or "taxi"

    def producer_arguments(self, day: str) -> list[str]:
        common = ["--duration", f"{self.duration:g}", "--seed", str(self.seed), "--progress", "0"]
        if self.dataset == "taxi":
            return [
                *("--dataset", "taxi", "--day", day, "--start", TAXI_START),
                *("--speed", str(TAXI_SPEED), "--trips-per-day", str(TAXI_TRIPS_PER_DAY)),
                *("--fare-spike", TAXI_SPIKE, *common),
            ]
        return ["--unicorns", str(self.unicorns), *common]


class Producer:
    """`python -m producer` in a child process, its progress in a log file."""

    def __init__(self, stack: LocalStack, arguments: list[str]) -> None:
        self.log_path = stack.logs / "producer.log"
        command = [sys.executable, "-m", "producer", *arguments]
        self.log_path.unlink(missing_ok=True)
        self.process = spawn(
            command, log=self.log_path, env={**os.environ, **client_environment(stack.url)}
        )

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        stop_process(self.process, signal.SIGINT)  # the producer stops with its summary

    def summary(self) -> dict[str, Any]:
        """What the producer said it did, from its first and last lines."""
        lines = self.log_path.read_text().splitlines()
        found: dict[str, Any] = {
            "exit": self.process.returncode,
            "last_line": lines[-1] if lines else "",
        }
        if lines:
            opening = re.search(r": (\d+) unicorns? .*seed (\d+); unwell: (.*)$", lines[0])
            if opening:
                found["unicorns"] = int(opening.group(1))
                found["seed"] = int(opening.group(2))
                found["unwell"] = opening.group(3)
            taxi = re.search(r"taxi trips of (\S+) from (\S+), .*seed (\d+)", lines[0])
            if taxi:
                found.update(day=taxi.group(1), start=taxi.group(2), seed=int(taxi.group(3)))
            closing = re.search(r"sent (\d+), retried (\d+), failed (\d+)", lines[-1])
            if closing:
                found.update(
                    sent=int(closing.group(1)),
                    retried=int(closing.group(2)),
                    failed=int(closing.group(3)),
                )
        return found


def run_demo(options: DemoOptions, *, out: TextIO = sys.stdout) -> int:
    """Run the demo; returns the exit status."""
    started = time.monotonic()
    since = from_epoch(int(time.time()))  # emails of earlier runs stay in the Maildir

    def say(text: str) -> None:
        print(f"[{time.monotonic() - started:5.1f}s] {text}", file=out, flush=True)

    previous = signal.signal(signal.SIGTERM, _terminate)
    stack = LocalStack(options.stack)
    producer: Producer | None = None
    try:
        say(
            f"starting the embedded AWS endpoint on {stack.url} and provisioning stage "
            f"{options.stack.stage!r} from infra/ ..."
        )
        stack.start()
        assert stack.provisioned is not None
        provisioned = stack.provisioned
        say(
            f"ready: stack {provisioned.stack} ({len(provisioned.physical)} resources); "
            f"mappings {', '.join(f.spec.name for f in stack.functions)} "
            f"({stack.window} s windows); Firehose emulation; "
            f"mailboxes {options.stack.alert_email}, {options.stack.fare_email}"
        )
        day = datetime.now(UTC).date().isoformat()
        producer = Producer(stack, options.producer_arguments(day))
        if options.dataset == "taxi":
            say(
                f"producing: the taxi trips of {day} from {TAXI_START}, "
                f"{TAXI_SPEED} simulated seconds a second for {options.duration:g} s, "
                f"about {TAXI_TRIPS_PER_DAY:,} trips a day; zone 161's meters charge double "
                f"from 08:00 to 08:30 (seed {options.seed})"
            )
        else:
            say(
                f"producing: {options.unicorns} unicorns, 1 record/s each for "
                f"{options.duration:g} s (seed {options.seed})"
            )
        next_progress = time.monotonic() + PROGRESS_SECONDS
        while producer.running():
            time.sleep(0.2)
            if time.monotonic() >= next_progress:
                say(_progress(stack))
                next_progress += PROGRESS_SECONDS
        produced = producer.summary()
        if produced["exit"] != 0:
            say(f"the producer failed: {produced['last_line']}")
            return 1
        say(f"producer finished: {produced['last_line'].removeprefix('producer: done: ')}")
        wait = stack.window + DRAIN_MARGIN
        say(f"letting the last window close and every stage drain (at most {wait:.0f} s) ...")
        if not stack.drain(wait):
            say("some stages were still busy when the wait ran out")
        say(_progress(stack))
        if options.dataset == "taxi":
            say("reading the day's insights, the fare alerts and the archive ...")
            taxi = gather_taxi(stack, options, produced, time.monotonic() - started, since, day)
            say("answering the taxi questions with DuckDB over the archived trips ...")
            taxi.questions = answer_taxi_questions(stack, day)
            taxi.elapsed_seconds = round(time.monotonic() - started, 1)
            _print(taxi, taxi_report.render(taxi), options, out)
            return 0
        say("rendering the fleet report (the scheduled report function, run once more) ...")
        fleet_report = run_report(stack)
        report = gather(stack, options, produced, time.monotonic() - started, since)
        report.fleet_report = fleet_report
        say("answering the workshop's four questions with DuckDB over the archive ...")
        report.questions = answer_questions(stack, report)
        report.elapsed_seconds = round(time.monotonic() - started, 1)
        _print(report, reporting.render(report), options, out)
        return 0
    except KeyboardInterrupt:
        say("interrupted: stopping everything")
        return 130
    finally:
        if producer is not None:
            producer.stop()
        stack.stop()
        signal.signal(signal.SIGTERM, previous)


def _print(report: reporting.RunReport, text: str, options: DemoOptions, out: TextIO) -> None:
    """The report as text for a person, or as one JSON object (`--json`)."""
    print(json.dumps(report.as_json(), default=str) if options.as_json else text, file=out)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _progress(stack: LocalStack) -> str:
    stats = stack.stats()
    parts = []
    for name, counters in stats.items():
        if name.startswith("firehose"):
            # One per archived stream, and one mailbox per address: say which.
            stream = name.partition(" ")[2]
            archived = reporting.plural(counters["objects"], "object")
            parts.append(f"firehose {stream} {counters['records']} in {archived}")
        elif name.startswith("mailbox"):
            parts.append(f"emails to {name.partition(' ')[2]} {counters['emails']}")
        elif "runs" in counters:
            parts.append(f"{name.split(' ')[0]} runs {counters['runs']}")
        else:
            function = name.split(" ")[0]
            parts.append(f"{function} {counters['records']}")
    lag = max(stack.lag().values(), default=0.0)
    errors = sum(s.get("errors", 0) for s in stats.values())
    return " · ".join(parts) + f" · lag {lag:.1f} s · errors {errors}"


def run_report_fields(
    stack: LocalStack,
    options: DemoOptions,
    produced: dict[str, Any],
    elapsed: float,
    since: datetime | None,
    mail: Path,
    archive_prefix: str,
) -> dict[str, Any]:
    """What every demo report holds (`reporting.RunReport`), read from the stack."""
    assert stack.provisioned is not None
    session = stack.session()
    bucket = stack.provisioned.outputs[ARCHIVE_BUCKET_OUTPUT]
    return {
        "endpoint": stack.url,
        "stage": options.stack.stage,
        "window_seconds": stack.window,
        "elapsed_seconds": round(elapsed, 1),
        "produced": produced,
        "stages": stack.stats(),
        "mailbox": shown(mail),
        "emails": reporting.read_emails(mail, since),
        "archive_bucket": bucket,
        "archive_objects": reporting.read_archive(session, bucket, archive_prefix),
        "errors": stack.errors(),
        "logs": shown(stack.logs / "functions.log"),
        "roles": stack.role_sessions,
        "denied": [denial["message"] for denial in stack.denials()],
    }


def gather(
    stack: LocalStack,
    options: DemoOptions,
    produced: dict[str, Any],
    elapsed: float,
    since: datetime | None = None,
) -> reporting.Report:
    mail = stack.mail / options.stack.alert_email
    return reporting.Report(
        **run_report_fields(stack, options, produced, elapsed, since, mail, names.ARCHIVE_PREFIX),
        summaries=reporting.read_summaries(stack.session()),
    )


def gather_taxi(
    stack: LocalStack,
    options: DemoOptions,
    produced: dict[str, Any],
    elapsed: float,
    since: datetime | None,
    day: str,
) -> taxi_report.TaxiReport:
    mail = stack.mail / options.stack.fare_email
    fields = run_report_fields(
        stack, options, produced, elapsed, since, mail, names.TRIP_ARCHIVE_PREFIX
    )
    session = stack.session()
    # As the API answers them: with the API function's own role.
    api = stack.roles[API_HANDLER_FUNCTION].session()
    peaks, zones, windows, counted = taxi_report.read_insights(api, day)
    dead_prefix = f"{names.DEAD_LETTER_PREFIX}aggregate_trips/"
    dead = reporting.read_archive(session, fields["archive_bucket"], dead_prefix)
    return taxi_report.TaxiReport(
        **fields,
        day=day,
        zone_windows=windows,
        trips_counted=counted,
        dead_lettered=_lines(session, fields["archive_bucket"], dead),
        peaks=peaks,
        zones=zones,
    )


def _lines(session: Any, bucket: str, objects: list[dict[str, Any]]) -> int:
    """Records kept in these dead-letter objects (one JSON line each)."""
    s3 = session.client("s3")
    return sum(
        len(s3.get_object(Bucket=bucket, Key=o["key"])["Body"].read().splitlines())
        for o in objects
    )


def run_report(stack: LocalStack) -> dict[str, Any]:
    """Run the report function over the run's hour and keep a copy in the work dir."""
    try:
        outcome = stack.run_scheduled(REPORT_FUNCTION)
    except (RuntimeError, KeyError) as err:  # the runtime did not stop; no such function
        return {"error": str(err)}
    if not outcome.ok:
        return {"error": outcome.error}
    result: dict[str, Any] = dict(outcome.payload)
    bucket, _, key = str(result["latest"]).removeprefix("s3://").partition("/")
    copy = stack.options.work_dir / "reports" / "latest.html"
    copy.parent.mkdir(parents=True, exist_ok=True)
    body = stack.session().client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    copy.write_bytes(body)
    result["copy"] = shown(copy)
    return result


QUESTION_TITLES = {
    "trip_positions": "positions reported on one unicorn's trip",
    "points_after": "data points after a given time",
    "distance_per_unicorn": "total distance per unicorn (m)",
    "low_vitals": "data points with a vital below 100",
    "peak_hours": "trips and fares per hour of pickup, busiest first",
    "fare_trends": "one zone's fares hour by hour",
}


def answer_questions(stack: LocalStack, report: reporting.Report) -> list[reporting.Question]:
    """The four named queries on DuckDB over the archive, with values from this run."""
    assert stack.provisioned is not None
    sources = Sources(
        tables=stack.archive_tables(),
        cache_dir=stack.options.work_dir / "archive",
        s3=stack.session().client("s3"),
    )
    unwell = [e.unicorn for e in report.emails if e.kind == "alert"]
    unicorn = unwell[0] if unwell else (report.summaries[0]["Name"] if report.summaries else "")
    last_window = report.summaries[-1]["StatusTime"][:19] if report.summaries else ""
    values: dict[str, list[Param]] = {"trip_positions": [unicorn], "points_after": [last_window]}
    return answer(sources, infra_names.GLUE_TABLE, values)


def answer_taxi_questions(stack: LocalStack, day: str) -> list[reporting.Question]:
    """The taxi named queries on DuckDB over the archived trips: the day, the spiked zone."""
    sources = Sources(
        tables=stack.archive_tables(),
        cache_dir=stack.options.work_dir / "archive",
        s3=stack.session().client("s3"),
    )
    zone = int(TAXI_SPIKE.partition("@")[0])
    values: dict[str, list[Param]] = {"peak_hours": [day], "fare_trends": [zone]}
    return answer(sources, infra_names.TRIP_GLUE_TABLE, values)


def answer(
    sources: Sources, table: str, values: dict[str, list[Param]]
) -> list[reporting.Question]:
    """Each named query over `table`, with its values, as the report shows it."""
    answers = []
    for query in named_queries(table):
        params = values.get(query.name, [])
        question = reporting.Question(
            name=query.name,
            title=QUESTION_TITLES.get(query.name, query.name),
            params=[str(p) for p in params],
            columns=[],
            rows=[],
            total=0,
        )
        try:
            result = run_named(query.name, params, sources=sources)
        except SqlError as err:
            question.error = str(err)
        else:
            question.columns = list(result.columns)
            question.rows = [list(row) for row in result.rows[: reporting.SHOWN_ROWS]]
            question.total = len(result.rows)
        answers.append(question)
    return answers
