"""What the demo found, gathered from the local endpoint and told as text or one JSON object.

`gather` reads the results where a user would look for them (the summary
table, the mailbox, the archive bucket, the SQL questions); `render` lays them
out for a person; `as_json` is the same content for a program.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import mailbox
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from chalicelib import names
from chalicelib.adapters.dynamo import from_attributes

SHOWN_SUMMARIES = 12
SHOWN_ROWS = 4


@dataclass
class Email:
    date: str
    subject: str
    kind: str
    unicorn: str  # or the zone, for a fare alert


@dataclass
class Question:
    name: str
    title: str
    params: list[str]
    columns: list[str]
    rows: list[list[Any]]
    total: int
    error: str | None = None


@dataclass(kw_only=True)
class RunReport:
    """What any demo run reports: where it ran, what went through, its mail and archive."""

    endpoint: str
    stage: str
    window_seconds: int
    elapsed_seconds: float
    produced: dict[str, Any]
    stages: dict[str, dict[str, int]]
    mailbox: str
    emails: list[Email]
    archive_bucket: str
    archive_objects: list[dict[str, Any]]
    questions: list[Question] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    logs: str = ""
    roles: int = 0  # the role sessions the endpoint held to their policies
    denied: list[str] = field(default_factory=list)  # the calls it refused, as AWS words them

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(kw_only=True)
class Report(RunReport):
    """The unicorn demo's: the summaries and the fleet report besides."""

    summaries: list[dict[str, Any]]
    fleet_report: dict[str, Any] = field(default_factory=dict)  # what the report function did


def read_summaries(session: Any) -> list[dict[str, Any]]:
    """Every row of the summary table, in name and time order."""
    dynamodb = session.client("dynamodb")
    rows: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": names.SUMMARY_TABLE}
    while True:
        page = dynamodb.scan(**kwargs)
        rows.extend(from_attributes(item) for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    for row in rows:
        row["SummaryIds"] = sorted(row.get("SummaryIds", []))
    return sorted(rows, key=lambda r: (r["Name"], r["StatusTime"]))


def read_emails(path: Path, since: datetime | None = None) -> list[Email]:
    """The mailbox's messages (those dated `since` or later), oldest first.

    The Maildir outlives a run, so a run reports its own messages only.
    """
    if not path.exists():
        return []
    found = []
    for message in mailbox.Maildir(path, factory=None, create=False):
        parsed = email.message_from_bytes(bytes(message), policy=email.policy.default)
        date = email.utils.parsedate_to_datetime(str(parsed["Date"]))
        if since is None or date >= since:
            found.append((date, parsed))
    return [
        Email(
            date=date.strftime("%H:%M:%S"),
            subject=str(parsed["Subject"]),
            kind=str(parsed.get("X-SNS-Attribute-kind", "")),
            unicorn=str(
                parsed.get("X-SNS-Attribute-unicorn", parsed.get("X-SNS-Attribute-zone", ""))
            ),
        )
        for date, parsed in sorted(found, key=lambda pair: pair[0])
    ]


def read_archive(session: Any, bucket: str, prefix: str) -> list[dict[str, Any]]:
    s3 = session.client("s3")
    objects: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        objects.extend({"key": o["Key"], "bytes": o["Size"]} for o in page.get("Contents", []))
    return objects


def render(report: Report) -> str:
    """The report for a person."""
    lines = ["", "Wild Rydes — what the local demo did", "=" * 36, ""]
    lines += _flow(report)
    lines += iam_lines(report)
    lines += _summaries(report)
    lines += _emails(report)
    lines += _archive(report)
    lines += _fleet_report(report)
    lines += _questions(report)
    lines += problem_lines(report)
    lines += _next_steps(report)
    return "\n".join(lines)


def _flow(report: Report) -> list[str]:
    produced = report.produced
    return flow_lines(
        f"  {'producer':<16} → {names.RAW_STREAM:<22} {produced.get('sent', 0):>6} records sent"
        f" ({produced.get('unicorns', '?')} unicorns, seed {produced.get('seed', '?')})",
        report.stages,
    )


def flow_lines(producer: str, stages: dict[str, dict[str, int]]) -> list[str]:
    """The producer's line, then a line per stage of the runtime: what went through it."""
    lines = ["Records through the pipeline", producer]
    for name, stats in stages.items():
        if name.startswith("firehose"):
            stream = name.partition(" ")[2] or "stream"
            size = f"{stats['bytes'] / 1024:.1f} KiB"
            if stats.get("record bytes", stats["bytes"]) != stats["bytes"]:
                size = f"{stats['record bytes'] / 1024:.1f} KiB gzipped to {size}"
            lines.append(
                f"  {'firehose':<16} ← {stream:<22} {stats['records']:>6} records in "
                f"{plural(stats['objects'], 'object')} ({size})"
            )
        elif name.startswith("mailbox"):
            address = name.partition(" ")[2]
            lines.append(f"  {'mailbox':<16} ← {address:<22} {stats['emails']:>6} emails")
        elif "runs" in stats:
            function, _, every = name.partition(" ")
            lines.append(
                f"  {function:<16} ← {'schedule ' + every:<22} {stats['runs']:>6} runs"
                f" · {stats['errors']} errors"
            )
        else:
            function, _, stream = name.partition(" ← ")
            noun = "rows" if stream in (names.SUMMARY_STREAM, names.INSIGHT_STREAM) else "records"
            extra = f" · {stats['windows']} windows closed" if stats.get("windows") else ""
            lines.append(
                f"  {function:<16} ← {stream:<22} {stats['records']:>6} {noun}"
                f" · {stats['invocations']} invocations{extra} · {stats['errors']} errors"
            )
    return [*lines, ""]


def iam_lines(report: RunReport) -> list[str]:
    """Whether every call kept to its role's policy on the endpoint."""
    kept = (
        f"{len(report.denied)} calls denied (under Problems)"
        if report.denied
        else "every call within its role's policy"
    )
    return [f"IAM: {report.roles} roles (each function's, Firehose's), enforced: {kept}", ""]


def problem_lines(report: RunReport) -> list[str]:
    """What went wrong: runtime errors and calls IAM refused; nothing when all went well."""
    problems = [*report.errors, *(f"IAM denied: {message}" for message in report.denied)]
    if not problems:
        return []
    return ["Problems", *[f"  {p}" for p in problems], f"  (logs: {report.logs})", ""]


def _summaries(report: Report) -> list[str]:
    rows = report.summaries
    windows = sorted({r["StatusTime"] for r in rows})
    unicorns = len({r["Name"] for r in rows})
    lines = [
        f"Summaries in {names.SUMMARY_TABLE}: {len(rows)} rows ({unicorns} unicorns, "
        f"{len(windows)} windows of {report.window_seconds} s); the last two windows:"
    ]
    lines.append(
        f"  {'Name':<12} {'Window':<9} {'Samples':>7} {'Distance m':>11} "
        f"{'Health':>9} {'Magic':>9}"
    )
    latest = set(windows[-2:])
    shown = [
        r
        for r in sorted(rows, key=lambda r: (r["StatusTime"], r["Name"]))
        if r["StatusTime"] in latest
    ]
    for row in shown[:SHOWN_SUMMARIES]:
        lines.append(
            f"  {row['Name'][:12]:<12} {row['StatusTime'][11:19]:<9} {row['SampleCount']:>7} "
            f"{row['Distance']:>11.1f} {row['MinHealthPoints']:>4}–{row['MaxHealthPoints']:<4} "
            f"{row['MinMagicPoints']:>4}–{row['MaxMagicPoints']}"
        )
    return [*lines, ""]


def _emails(report: Report) -> list[str]:
    lines = [f"Alert emails: {len(report.emails)} in the Maildir {report.mailbox}"]
    lines += [f"  {e.date}  {e.subject}" for e in report.emails]
    if not report.emails:
        lines.append("  none (no unicorn fell below the threshold)")
    return [*lines, ""]


def _archive(report: Report) -> list[str]:
    objects = report.archive_objects
    total = sum(o["bytes"] for o in objects)
    lines = [
        f"Archive: {plural(len(objects), 'object')} ({total / 1024:.1f} KiB) "
        f"in s3://{report.archive_bucket}/"
    ]
    lines += [f"  {o['key']}" for o in objects[:4]]
    if len(objects) > 4:
        lines.append(f"  … and {len(objects) - 4} more")
    return [*lines, ""]


def _fleet_report(report: Report) -> list[str]:
    done = report.fleet_report
    if not done:
        return []
    if "error" in done:
        return ["Fleet report: the report function failed: " + str(done["error"]), ""]
    return [
        f"Fleet report (the last hour: {done['unicorns']} unicorns, "
        f"{done['incidents']} vitals incidents, {done['bytes'] / 1024:.1f} KiB)",
        f"  latest   {done['latest']}",
        f"  dated    {done['report']}",
        f"  a copy   {done['copy']}   (open it in a browser)",
        "",
    ]


def _questions(report: Report) -> list[str]:
    title = "The workshop's questions, answered locally by DuckDB over the archive"
    return question_lines(title, report.questions)


def question_lines(title: str, questions: list[Question]) -> list[str]:
    """Each named query's answer: its first rows as a small table."""
    if not questions:
        return []
    lines = [title]
    for number, question in enumerate(questions, 1):
        shown = f" ({', '.join(question.params)})" if question.params else ""
        lines.append(f"  {number}. {question.title}{shown}: {question.total} rows")
        if question.error:
            lines.append(f"     error: {question.error}")
            continue
        widths = [
            max(len(c), *(len(_cell(r[i])) for r in question.rows)) if question.rows else len(c)
            for i, c in enumerate(question.columns)
        ]
        header = "  ".join(c.ljust(w) for c, w in zip(question.columns, widths, strict=True))
        lines.append(f"     {header}".rstrip())
        for row in question.rows:
            cells = "  ".join(_cell(v).ljust(w) for v, w in zip(row, widths, strict=True))
            lines.append(f"     {cells}".rstrip())
        if question.total > len(question.rows):
            lines.append(f"     … and {question.total - len(question.rows)} more")
    return [*lines, ""]


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _cell(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="milliseconds")
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return str(value)


def _next_steps(report: Report) -> list[str]:
    return [
        "What to try next",
        "  make up                                  the same stack until Ctrl-C, "
        "API on http://127.0.0.1:8000",
        '  make sql Q="SELECT name, count(*) AS n FROM wildrydes GROUP BY name"',
        f"  mutt -f {report.mailbox}    read the alert emails",
        "  make demo JSON=1                         this report as one JSON object",
        f"  less {report.logs}        what the functions logged",
        "",
    ]
