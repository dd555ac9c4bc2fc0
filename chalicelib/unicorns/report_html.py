"""The hourly report as one self-contained HTML page: inline CSS and SVG, no requests.

Every piece of data (unicorn names above all, which anyone with access to the
stream chooses) goes through `html.escape` on its way into the page, text and
attributes alike. The map uses the Web Mercator projection fitted to the
fleet's extent, with a scale bar, so it needs no tiles.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from html import escape

from chalicelib.pipeline.timestamps import format_status_time
from chalicelib.unicorns.report import Incident, Point, Report, UnicornHour

# Colour-blind-safe qualitative palette (Okabe–Ito), dark enough on white.
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")
MAP_WIDTH, MAP_HEIGHT, MAP_PADDING = 720, 440, 36
EARTH_RADIUS = 6_378_137.0  # metres, as Web Mercator takes it

STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;
margin:0 auto;max-width:980px;padding:1.5rem}
h1{font-size:1.6rem;margin:0 0 .25rem}h2{font-size:1.2rem;margin:2rem 0 .5rem}
.period{color:#4a5260;margin:0 0 1rem}
.figures{display:flex;flex-wrap:wrap;gap:.75rem;padding:0;list-style:none}
.figures li{background:#f1f3f6;border-radius:6px;padding:.5rem .9rem}
.figures b{display:block;font-size:1.3rem}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #d5d9e0}
td.n,th.n{text-align:right}
td.t{white-space:nowrap}
.alert{color:#a3000b;font-weight:600}
svg{max-width:100%;height:auto;background:#fafbfc;border:1px solid #d5d9e0;border-radius:6px}
svg text{font:12px system-ui,sans-serif;fill:#1b1f24}
.note{color:#4a5260;font-size:.9rem}
""".strip()


def render(report: Report) -> str:
    """The page for `report`."""
    start, end = _utc(report.start), _utc(report.end)
    colours = {u.name: PALETTE[i % len(PALETTE)] for i, u in enumerate(report.unicorns)}
    open_incidents = sum(1 for i in report.incidents if i.ended is None)
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        # The page is data only: it may run no script and load nothing.
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">",
        f"<title>Wild Rydes fleet report {escape(end)}</title>",
        f"<style>{STYLE}</style></head><body>",
        "<header><h1>Wild Rydes fleet report</h1>",
        f'<p class="period">The hour from {escape(start)} to {escape(end)} UTC</p>',
        '<ul class="figures">',
        f"<li><b>{len(report.unicorns)}</b>unicorns</li>",
        f"<li><b>{_km(report.total_distance)}</b>travelled</li>",
        f"<li><b>{len(report.incidents)}</b>vitals incidents ({open_incidents} open)</li>",
        f"<li><b>{report.archive_records}</b>positions archived</li>",
        "</ul></header><main>",
    ]
    if not report.unicorns:
        parts.append("<p>No unicorn reported in this hour.</p>")
    else:
        parts += [
            "<section><h2>Trails</h2>",
            trails_map(report.unicorns, colours),
            "</section><section><h2>Distance per unicorn</h2>",
            distance_chart(report.unicorns, colours),
            "</section>",
            incidents_section(report.incidents, report.threshold),
            summary_table(report.unicorns, report.threshold),
        ]
    parts += [
        "</main><footer>",
        *_notes(report),
        "</footer></body></html>",
    ]
    return "\n".join(parts) + "\n"


def _notes(report: Report) -> list[str]:
    objects = (
        "1 archive object"
        if report.archive_objects == 1
        else (f"{report.archive_objects} archive objects")
    )
    notes = [
        f"Positions from {objects}; per-window figures from the summary table; "
        f"vitals are low below {report.threshold} points."
    ]
    if report.skipped_lines:
        notes.append(
            "1 archive line was not a reading and is left out."
            if report.skipped_lines == 1
            else f"{report.skipped_lines} archive lines were not readings and are left out."
        )
    if report.truncated:
        notes.append("The archive held more than one run reads: trails may be incomplete.")
    return [f'<p class="note">{escape(n)}</p>' for n in notes]


def project(latitude: float, longitude: float) -> tuple[float, float]:
    """Web Mercator metres (x east, y north)."""
    lat = max(-85.0, min(85.0, latitude))
    x = EARTH_RADIUS * math.radians(longitude)
    y = EARTH_RADIUS * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    return x, y


def trails_map(unicorns: Sequence[UnicornHour], colours: dict[str, str]) -> str:
    """Every unicorn's trail over the hour, its last position labelled, with a scale bar."""
    tracks = {u.name: _track(u) for u in unicorns}
    projected = [project(p.latitude, p.longitude) for t in tracks.values() for p in t]
    if not projected:
        return '<p class="note">No positions archived in this hour.</p>'
    xs, ys = [x for x, _ in projected], [y for _, y in projected]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 50.0)  # at least 50 m across
    scale = min(MAP_WIDTH - 2 * MAP_PADDING, MAP_HEIGHT - 2 * MAP_PADDING) / span
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2

    def xy(point: Point) -> tuple[float, float]:
        x, y = project(point.latitude, point.longitude)
        return MAP_WIDTH / 2 + (x - cx) * scale, MAP_HEIGHT / 2 - (y - cy) * scale

    shapes = []
    for name, track in tracks.items():
        if not track:
            continue
        colour = colours[name]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in map(xy, track))
        shapes.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5" '
            'stroke-linejoin="round" stroke-linecap="round" opacity="0.85"/>'
        )
        x, y = xy(track[-1])
        # Labels on the right half point left, so none runs off the map.
        anchor, dx = ("end", -8) if x > MAP_WIDTH / 2 else ("start", 8)
        shapes.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{colour}" stroke="#fff"/>'
            f'<text x="{x + dx:.1f}" y="{y + 4:.1f}" text-anchor="{anchor}">{escape(name)}</text>'
        )
    # Web Mercator stretches distances by 1/cos(latitude): measure at the centre.
    centre_latitude = math.degrees(2 * math.atan(math.exp(cy / EARTH_RADIUS)) - math.pi / 2)
    metres_per_pixel = math.cos(math.radians(centre_latitude)) / scale
    shapes.append(scale_bar(metres_per_pixel, MAP_PADDING / 2, MAP_HEIGHT - MAP_PADDING / 2))
    return (
        f'<svg role="img" aria-label="Trails of {len(tracks)} unicorns over the hour" '
        f'viewBox="0 0 {MAP_WIDTH} {MAP_HEIGHT}" width="{MAP_WIDTH}" height="{MAP_HEIGHT}">'
        + "".join(shapes)
        + "</svg>"
    )


def _track(unicorn: UnicornHour) -> list[Point]:
    if unicorn.trail:
        return unicorn.trail
    status = unicorn.status
    if status is not None:  # no archived positions yet: at least where it is now
        return [Point(status.status_time, status.latitude, status.longitude)]
    return []


def scale_bar(metres_per_pixel: float, x: float, y: float) -> str:
    """A bar of a round length (1, 2 or 5 × 10ⁿ m) about 120 pixels long."""
    target = 120 * metres_per_pixel
    magnitude = 10 ** math.floor(math.log10(target))
    length = max(m * magnitude for m in (1, 2, 5) if m * magnitude <= target)
    pixels = length / metres_per_pixel
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    return (
        f'<g aria-label="scale: {label}"><path d="M{x:.1f},{y - 5:.1f}v5h{pixels:.1f}v-5" '
        'fill="none" stroke="#1b1f24" stroke-width="1.5"/>'
        f'<text x="{x + pixels + 6:.1f}" y="{y:.1f}">{label}</text></g>'
    )


def distance_chart(unicorns: Sequence[UnicornHour], colours: dict[str, str]) -> str:
    """Horizontal bars: each unicorn's distance over the hour."""
    row, label_width, width = 26, 190, MAP_WIDTH
    longest = max((u.distance for u in unicorns), default=0.0) or 1.0
    bar_room = width - label_width - 90
    height = row * len(unicorns) + 10
    bars = []
    for i, unicorn in enumerate(unicorns):
        y = 5 + i * row
        length = bar_room * unicorn.distance / longest
        bars.append(
            f'<text x="{label_width - 8}" y="{y + 16}" text-anchor="end">'
            f"{escape(_short(unicorn.name))}</text>"
            f'<rect x="{label_width}" y="{y + 4}" width="{length:.1f}" height="{row - 8}" '
            f'fill="{colours[unicorn.name]}"/>'
            f'<text x="{label_width + length + 6:.1f}" y="{y + 16}">{_km(unicorn.distance)}</text>'
        )
    return (
        f'<svg role="img" aria-label="Distance per unicorn" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}">' + "".join(bars) + "</svg>"
    )


def incidents_section(incidents: Iterable[Incident], threshold: int) -> str:
    rows = [
        "<tr>"
        f"<td>{escape(i.name)}</td>"
        f"<td>{escape(', '.join(i.vitals))}</td>"
        f"<td>{escape(i.started[:19])}</td>"
        f"<td>{escape(i.ended[:19]) if i.ended else '<span class=alert>still open</span>'}</td>"
        f'<td class="n">{i.lowest}</td>'
        "</tr>"
        for i in incidents
    ]
    if not rows:
        body = f"<p>No vital dropped below {threshold} points in this hour.</p>"
    else:
        body = (
            "<table><thead><tr><th>Unicorn</th><th>Low vitals</th><th>From (UTC)</th>"
            '<th>To (UTC)</th><th class="n">Lowest</th></tr></thead><tbody>'
            + "".join(rows)
            + "</tbody></table>"
            '<p class="note">From the first to the last report of the windows in which a '
            "vital was low; an open incident starts at the report that raised the alert.</p>"
        )
    return f"<section><h2>Vitals incidents</h2>{body}</section>"


def summary_table(unicorns: Iterable[UnicornHour], threshold: int) -> str:
    rows = []
    for u in unicorns:
        state = "alert" if u.status is not None and u.status.alerting else "ok"
        rows.append(
            "<tr>"
            f"<td>{escape(u.name)}</td>"
            f'<td class="n">{u.distance:,.0f}</td>'
            f'<td class="n">{len(u.summaries)}</td>'
            f'<td class="n">{u.samples}</td>'
            f'<td class="n">{_vital(u.min_health, threshold)}</td>'
            f'<td class="n">{_vital(u.min_magic, threshold)}</td>'
            f'<td class="t">{escape(u.status.status_time[:19]) if u.status else "–"}</td>'
            f"<td{' class=alert' if state == 'alert' else ''}>{state}</td>"
            "</tr>"
        )
    return (
        "<section><h2>Summary</h2><table><thead><tr><th>Unicorn</th>"
        '<th class="n">Distance (m)</th><th class="n">Windows</th><th class="n">Reports</th>'
        '<th class="n">Lowest health</th><th class="n">Lowest magic</th>'
        "<th>Last report (UTC)</th><th>State</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></section>"
    )


def _vital(value: int | None, threshold: int) -> str:
    if value is None:
        return "–"
    return f'<span class="alert">{value}</span>' if value < threshold else str(value)


def _km(metres: float) -> str:
    return f"{metres / 1000:,.1f} km" if metres >= 1000 else f"{metres:,.0f} m"


def _short(name: str, most: int = 24) -> str:
    return name if len(name) <= most else name[: most - 1] + "…"


def _utc(moment: datetime) -> str:
    return format_status_time(moment)[:16]
