"""`make demo`: the whole pipeline on this machine, from a cold start to a report.

Starts the local stack, runs the producer (5 unicorns, some unwell) long
enough for several complete windows, lets the last window close and every
stage drain, gathers the results and prints the report. Every process it
started is stopped when it ends, also on Ctrl-C or an error.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from chalicelib import names
from chalicelib.timestamps import from_epoch
from infra.named_queries import named_queries
from infra.resources import ARCHIVE_BUCKET_OUTPUT
from local import report as reporting
from local.child import spawn, stop_process
from local.endpoint import client_environment
from local.sql import Param, Sources, SqlError, run_named
from local.stack import LocalStack, StackOptions

PROGRESS_SECONDS = 10.0
DRAIN_MARGIN = 30.0  # seconds beyond a window for the last summaries to land
REPORT_FUNCTION = "report"


@dataclass
class DemoOptions:
    stack: StackOptions
    unicorns: int = 5
    duration: float = 60.0
    seed: int = 2026
    as_json: bool = False


class Producer:
    """`python -m producer` in a child process, its progress in a log file."""

    def __init__(self, stack: LocalStack, options: DemoOptions) -> None:
        self.log_path = stack.logs / "producer.log"
        command = [
            sys.executable,
            "-m",
            "producer",
            "--unicorns",
            str(options.unicorns),
            "--duration",
            f"{options.duration:g}",
            "--seed",
            str(options.seed),
            "--progress",
            "0",
        ]
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
            f"mailbox {options.stack.alert_email}"
        )
        producer = Producer(stack, options)
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
        say("rendering the fleet report (the scheduled report function, run once more) ...")
        fleet_report = run_report(stack)
        report = gather(stack, options, produced, time.monotonic() - started, since)
        report.fleet_report = fleet_report
        say("answering the workshop's four questions with DuckDB over the archive ...")
        report.questions = answer_questions(stack, report)
        report.elapsed_seconds = round(time.monotonic() - started, 1)
        if options.as_json:
            print(json.dumps(report.as_json(), default=str), file=out)
        else:
            print(reporting.render(report), file=out)
        return 0
    except KeyboardInterrupt:
        say("interrupted: stopping everything")
        return 130
    finally:
        if producer is not None:
            producer.stop()
        stack.stop()
        signal.signal(signal.SIGTERM, previous)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _progress(stack: LocalStack) -> str:
    stats = stack.stats()
    parts = []
    for name, counters in stats.items():
        if name.startswith("firehose"):
            objects = counters["objects"]
            archived = f"{objects} object" + ("" if objects == 1 else "s")
            parts.append(f"on stream {counters['records']} · archived {archived}")
        elif name.startswith("mailbox"):
            parts.append(f"emails {counters['emails']}")
        elif "runs" in counters:
            parts.append(f"{name.split(' ')[0]} runs {counters['runs']}")
        else:
            function = name.split(" ")[0]
            parts.append(f"{function} {counters['records']}")
    lag = max(stack.lag().values(), default=0.0)
    errors = sum(s.get("errors", 0) for s in stats.values())
    return " · ".join(parts) + f" · lag {lag:.1f} s · errors {errors}"


def gather(
    stack: LocalStack,
    options: DemoOptions,
    produced: dict[str, Any],
    elapsed: float,
    since: datetime | None = None,
) -> reporting.Report:
    assert stack.provisioned is not None
    session = stack.session()
    bucket = stack.provisioned.outputs[ARCHIVE_BUCKET_OUTPUT]
    mail = stack.mail / options.stack.alert_email
    return reporting.Report(
        endpoint=stack.url,
        stage=options.stack.stage,
        window_seconds=stack.window,
        elapsed_seconds=round(elapsed, 1),
        produced=produced,
        stages=stack.stats(),
        summaries=reporting.read_summaries(session),
        mailbox=_shown(mail),
        emails=reporting.read_emails(mail, since),
        archive_bucket=bucket,
        archive_objects=reporting.read_archive(session, bucket, names.ARCHIVE_PREFIX),
        errors=stack.errors(),
        logs=_shown(stack.logs / "functions.log"),
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
    result["copy"] = _shown(copy)
    return result


QUESTION_TITLES = {
    "trip_positions": "positions reported on one unicorn's trip",
    "points_after": "data points after a given time",
    "distance_per_unicorn": "total distance per unicorn (m)",
    "low_vitals": "data points with a vital below 100",
}


def answer_questions(stack: LocalStack, report: reporting.Report) -> list[reporting.Question]:
    """The four named queries on DuckDB over the archive, with values from this run."""
    assert stack.provisioned is not None
    sources = Sources(
        table=stack.archive_table(),
        cache_dir=stack.options.work_dir / "archive",
        s3=stack.session().client("s3"),
    )
    unwell = [e.unicorn for e in report.emails if e.kind == "alert"]
    unicorn = unwell[0] if unwell else (report.summaries[0]["Name"] if report.summaries else "")
    last_window = report.summaries[-1]["StatusTime"][:19] if report.summaries else ""
    values: dict[str, list[Param]] = {"trip_positions": [unicorn], "points_after": [last_window]}
    answers = []
    for query in named_queries():
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


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
