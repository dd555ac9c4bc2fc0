"""What `make demo DATASET=taxi` found: trips in, insights per zone, the fare watch's emails.

Read where a user would look: the insights table through the same code the
API's `/taxi/peaks` and `/taxi/zones` run, the fare alert Maildir, the archive.
Every trip on the stream is accounted for: counted in a zone's window, or
dead-lettered with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib import names
from chalicelib.taxi.store import ZoneWindowStore
from chalicelib.taxi.view import TaxiView
from local.report import (
    RunReport,
    flow_lines,
    iam_lines,
    plural,
    problem_lines,
    question_lines,
)

SHOWN = 5


@dataclass(kw_only=True)
class TaxiReport(RunReport):
    """The taxi demo's: the day, its insights and how every trip was accounted for."""

    day: str
    zone_windows: int
    trips_counted: int
    dead_lettered: int
    peaks: dict[str, Any]
    zones: list[dict[str, Any]]


def read_insights(session: Any, day: str) -> tuple[dict[str, Any], list[dict[str, Any]], int, int]:
    """The day's peaks and zones as the API answers them, its windows and trips counted."""
    store = ZoneWindowStore(session.client("dynamodb"), names.INSIGHT_TABLE)
    view = TaxiView(store, clock=lambda: 0.0)
    peaks = view.peaks({"date": day, "top": str(SHOWN)})
    zones = view.zones({"date": day})["zones"]
    windows = store.day(day)
    return peaks, zones, len(windows), sum(w.trips for w in windows)


def render(report: TaxiReport) -> str:
    produced = report.produced
    lines = ["", "Wild Rydes taxi — what the local demo did", "=" * 41, ""]
    lines += flow_lines(
        f"  {'producer':<16} → {names.TRIP_STREAM:<22} {produced.get('sent', 0):>6} trips sent"
        f" ({produced.get('day', '?')} from {produced.get('start', '?')}, "
        f"seed {produced.get('seed', '?')})",
        report.stages,
    )
    lines += iam_lines(report)
    sent = int(produced.get("sent", 0))
    lines += [
        f"Insights in {names.INSIGHT_TABLE}: {report.zone_windows} zone windows of 15 minutes",
        f"  trips counted {report.trips_counted} + dead-lettered {report.dead_lettered} "
        f"= {report.trips_counted + report.dead_lettered} of {sent} sent"
        + ("" if report.trips_counted + report.dead_lettered == sent else "  ← MISMATCH"),
        "",
    ]
    lines += _peaks(report)
    lines += [f"Fare alert emails: {len(report.emails)} in the Maildir {report.mailbox}"]
    lines += [f"  {e.date}  {e.subject}" for e in report.emails]
    if not report.emails:
        lines.append("  none (no zone's fares strayed from its last hour)")
    lines.append("")
    objects = report.archive_objects
    lines.append(
        f"Archive: {plural(len(objects), 'object')} of trips "
        f"({sum(o['bytes'] for o in objects) / 1024:.1f} KiB) in s3://{report.archive_bucket}/"
    )
    lines += [f"  {o['key']}" for o in objects[:3]]
    lines.append("")
    lines += question_lines("Taxi questions, answered locally by DuckDB", report.questions)
    lines += problem_lines(report)
    lines += [
        "What to try next",
        "  make up                                  the stack and the console until Ctrl-C",
        f"  open http://127.0.0.1:8000/#taxi/{report.day}   (with make up: the taxi tab)",
        f"  mutt -f {report.mailbox}    read the fare alerts",
        "  make demo DATASET=taxi JSON=1            this report as one JSON object",
        "",
    ]
    return "\n".join(lines)


def _peaks(report: TaxiReport) -> list[str]:
    peaks = report.peaks
    lines = [
        f"{report.day}: {peaks['trips']} trips picked up, ${peaks['revenue']:,.2f} in fares; "
        "the busiest 15 minutes:"
    ]
    for window in peaks["busiestWindows"]:
        zone = window["busiestZone"]
        lines.append(
            f"  {window['windowStart'][11:16]}–{window['windowEnd'][11:16]}  "
            f"{window['trips']:>5} trips  busiest zone {zone['name']} ({zone['trips']})"
        )
    lines.append("The busiest zones:")
    lines.append(f"  {'Zone':<30} {'Trips':>6} {'Avg fare':>9} {'$/mile':>7} {'Tip %':>6}")
    for row in report.zones[:SHOWN]:
        lines.append(
            f"  {row['zone']:>3} {row['name'][:26]:<26} {row['trips']:>6} "
            f"{_money(row['averageFare']):>9} {_money(row['farePerMile']):>7} "
            f"{_number(row['tipPercent']):>6}"
        )
    return [*lines, ""]


def _money(value: float | None) -> str:
    return "–" if value is None else f"${value:.2f}"


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"
