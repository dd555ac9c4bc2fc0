"""The hourly fleet report: what it is made of, and how it is gathered and stored.

A scheduled function gathers the last hour from the stores the pipeline
fills (per-minute summaries from DynamoDB, positions from the raw archive
Firehose writes to S3, open incidents from the status table), renders one
self-contained HTML page (`chalicelib.unicorns.report_html`) and writes it to the
archive bucket twice: a dated copy under `reports/YYYY/MM/DD/HHMM.html`,
named by the hour's end so a retried run overwrites rather than adds, and
`reports/latest.html`, a stable address for people who do not open a
dashboard.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib import names
from chalicelib.adapters.archive import Archive
from chalicelib.observability import MetricsFactory, no_metrics
from chalicelib.pipeline.timestamps import format_status_time, from_epoch, parse_instant
from chalicelib.unicorns.params import MAX_LIMIT, SummaryQuery
from chalicelib.unicorns.records import InvalidRecord, parse_reading
from chalicelib.unicorns.store import StatusStore, SummaryStore
from chalicelib.unicorns.summaries import Summary
from chalicelib.unicorns.vitals import Status

log = logging.getLogger(__name__)

PERIOD = timedelta(hours=1)
TRAIL_SPACING = 15  # seconds: a trail keeps one position per unicorn per 15 s
MAX_TRAIL_POINTS = 240  # per unicorn: enough for a smooth line, small enough to inline
# What one run reads of the archive at most, as stored. Gzipped, 12 MiB hold about 65 MiB
# of readings (`make plan` shows the measured ratio, 5.6), what one run read before.
MAX_ARCHIVE_BYTES = 12 * 1024 * 1024
MAX_UNICORNS = 200


@dataclass(frozen=True)
class Point:
    status_time: str
    latitude: float
    longitude: float


@dataclass
class UnicornHour:
    """One unicorn's hour: its trail, its per-window summaries, its latest status."""

    name: str
    trail: list[Point] = field(default_factory=list)
    summaries: list[Summary] = field(default_factory=list)
    status: Status | None = None

    @property
    def distance(self) -> float:
        return sum(s.distance for s in self.summaries)

    @property
    def samples(self) -> int:
        return sum(s.samples for s in self.summaries)

    @property
    def min_health(self) -> int | None:
        return min((s.min_health for s in self.summaries), default=None)

    @property
    def min_magic(self) -> int | None:
        return min((s.min_magic for s in self.summaries), default=None)


@dataclass(frozen=True)
class Incident:
    """A stretch of consecutive windows in which a unicorn had a vital below the threshold."""

    name: str
    vitals: tuple[str, ...]
    started: str  # StatusTime of the first low window (or the status's incident start)
    ended: str | None  # last report of the last low window; None while still open
    lowest: int  # the lowest value of a low vital in the stretch


@dataclass
class Report:
    start: datetime
    end: datetime
    threshold: int
    unicorns: list[UnicornHour]
    incidents: list[Incident]
    archive_objects: int = 0
    archive_records: int = 0
    skipped_lines: int = 0  # archive lines that were not readings
    truncated: bool = False  # the archive held more than one run reads

    @property
    def total_distance(self) -> float:
        return sum(u.distance for u in self.unicorns)


def report_key(end: datetime) -> str:
    """The dated copy's key: `reports/YYYY/MM/DD/HHMM.html`, by the hour's end (UTC)."""
    return f"{names.REPORT_PREFIX}{end:%Y/%m/%d/%H%M}.html"


def period_end(event: dict[str, Any] | None, clock: Callable[[], float]) -> datetime:
    """The end of the hour to report: the scheduled event's time, else now."""
    text = (event or {}).get("time")
    if isinstance(text, str):
        try:
            return parse_instant(text)
        except ValueError:
            log.warning("scheduled event time %r is not a time; using the clock", text)
    return from_epoch(clock())


class Reporter:
    """Gathers the hour, renders it and stores it; `handle` is the scheduled function."""

    def __init__(
        self,
        statuses: StatusStore,
        summaries: SummaryStore,
        archive: Archive,
        threshold: int,
        render: Callable[[Report], str],
        clock: Callable[[], float],
        archive_budget: int = MAX_ARCHIVE_BYTES,
        *,
        metrics: MetricsFactory = no_metrics,
    ) -> None:
        self.statuses = statuses
        self.summaries = summaries
        self.archive = archive
        self.threshold = threshold
        self.render = render
        self.clock = clock
        self.archive_budget = archive_budget
        self.metrics = metrics

    def handle(self, event: dict[str, Any] | None) -> dict[str, Any]:
        end = period_end(event, self.clock)
        report = self.gather(end - PERIOD, end)
        html = self.render(report)
        key = report_key(end)
        size = len(html.encode("utf-8"))
        self.archive.write(key, html, latest=False)
        self.archive.write(names.LATEST_REPORT, html, latest=True)
        result = {
            "report": f"s3://{self.archive.bucket}/{key}",
            "latest": f"s3://{self.archive.bucket}/{names.LATEST_REPORT}",
            "start": format_status_time(report.start),
            "end": format_status_time(report.end),
            "unicorns": len(report.unicorns),
            "incidents": len(report.incidents),
            "bytes": size,
        }
        log.info(
            "report for %s to %s: %d unicorns, %d incidents, %d bytes, in %s",
            result["start"],
            result["end"],
            result["unicorns"],
            result["incidents"],
            result["bytes"],
            result["report"],
        )
        metrics = self.metrics("report")
        metrics.put("ReportBytes", size, "Bytes")
        metrics.count("Unicorns", len(report.unicorns))
        metrics.count("Incidents", len(report.incidents))
        metrics.flush()
        return result

    def gather(self, start: datetime, end: datetime) -> Report:
        low, high = format_status_time(start), format_status_time(end)
        report = Report(start, end, self.threshold, [], [])
        hours: dict[str, UnicornHour] = {}
        for status in self.statuses.scan():
            hours[status.name] = UnicornHour(status.name, status=status)
        self._read_trails(report, hours, low, high)
        for hour in hours.values():
            hour.summaries = self._summaries(hour.name, low, high)
        active = [
            h
            for h in hours.values()
            if h.trail or h.summaries or (h.status is not None and low <= h.status.status_time)
        ]
        active.sort(key=lambda h: (-h.distance, h.name))
        report.unicorns = active[:MAX_UNICORNS]
        report.incidents = incidents(report.unicorns, self.threshold)
        return report

    def _summaries(self, name: str, low: str, high: str) -> list[Summary]:
        rows: list[Summary] = []
        after = None
        while True:
            page, more = self.summaries.query(SummaryQuery(name, low, high, MAX_LIMIT, after))
            rows.extend(page)
            if not more or not page:
                return rows
            after = page[-1].status_time

    def _read_trails(
        self, report: Report, hours: dict[str, UnicornHour], low: str, high: str
    ) -> None:
        budget = self.archive_budget
        # One position per unicorn per TRAIL_SPACING seconds, kept while reading,
        # so memory grows with the fleet and the hour, not with the archive.
        kept: dict[tuple[str, str, int], Point] = {}
        for key, size in self.archive.keys(report.start, report.end):
            if size > budget:
                report.truncated = True
                break
            budget -= size
            report.archive_objects += 1
            for line in self.archive.lines(key):
                try:
                    reading = parse_reading(line)
                except InvalidRecord:
                    report.skipped_lines += 1
                    continue
                if not low <= reading.status_time < high:
                    continue
                report.archive_records += 1
                time = reading.status_time
                slot = (reading.name, time[:16], int(time[17:19]) // TRAIL_SPACING)
                if slot not in kept or time < kept[slot].status_time:
                    kept[slot] = Point(time, reading.latitude, reading.longitude)
        points: dict[str, list[Point]] = {}
        for (name, _, _), point in kept.items():
            points.setdefault(name, []).append(point)
        for name, trail in points.items():
            trail.sort(key=lambda p: p.status_time)
            hour = hours.setdefault(name, UnicornHour(name))
            hour.trail = thin(trail, MAX_TRAIL_POINTS)


def thin(points: Sequence[Point], most: int) -> list[Point]:
    """At most `most` points, evenly spaced, always keeping the first and the last."""
    if len(points) <= most:
        return list(points)
    step = (len(points) - 1) / (most - 1)
    return [points[round(i * step)] for i in range(most)]


def incidents(unicorns: Iterable[UnicornHour], threshold: int) -> list[Incident]:
    """Stretches of consecutive low windows per unicorn, latest first.

    A stretch that reaches the unicorn's last window while its status is
    still alerting is open (`ended` is None). An alerting status with no such
    stretch (its window has not closed yet) is an open incident of its own.
    """
    found: list[Incident] = []
    for hour in unicorns:
        stretch: list[Summary] = []
        stretches: list[list[Summary]] = []
        ordered = sorted(hour.summaries, key=lambda s: s.status_time)
        for summary in ordered:
            if summary.min_health < threshold or summary.min_magic < threshold:
                stretch.append(summary)
            elif stretch:
                stretches.append(stretch)
                stretch = []
        if stretch:
            stretches.append(stretch)
        current = hour.status.incident if hour.status is not None else None
        open_found = False
        for number, low in enumerate(stretches, 1):
            still_open = (
                current is not None and number == len(stretches) and low[-1] is ordered[-1]
            )
            open_found = open_found or still_open
            found.append(_incident(hour.name, low, threshold, still_open))
        if current is not None and hour.status is not None and not open_found:
            found.append(
                Incident(
                    hour.name,
                    current.vitals,
                    current.started_at,
                    None,
                    min(hour.status.health, hour.status.magic),
                )
            )
    found.sort(key=lambda i: (i.started, i.name), reverse=True)
    return found


def _incident(name: str, low: list[Summary], threshold: int, still_open: bool) -> Incident:
    vitals = []
    if any(s.min_health < threshold for s in low):
        vitals.append("HealthPoints")
    if any(s.min_magic < threshold for s in low):
        vitals.append("MagicPoints")
    lowest = min(min(s.min_health, s.min_magic) for s in low)
    return Incident(
        name,
        tuple(vitals),
        low[0].first_status_time,
        None if still_open else low[-1].last_status_time,
        lowest,
    )
