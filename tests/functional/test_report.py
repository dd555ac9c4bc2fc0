"""The scheduled report: the last hour from the stores, one self-contained page in S3."""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import bootstrap, names
from chalicelib.errors import ArchiveError
from chalicelib.pipeline.timestamps import format_status_time
from chalicelib.unicorns.records import encode_reading
from chalicelib.unicorns.summaries import Summary
from tests.faults import fail_calls
from tests.functional.conftest import ARCHIVE_BUCKET, Aws
from tests.lambda_events import kinesis_event, kinesis_record
from tests.readings import reading

END = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
EVIL = "<img src=x onerror=alert(1)>"


def at(minutes: float) -> str:
    """StatusTime `minutes` before the report's end."""
    return format_status_time(END - timedelta(minutes=minutes))


def summary(
    name: str, minutes_before: int, *, health: int = 150, distance: float = 600.0
) -> Summary:
    start = END - timedelta(minutes=minutes_before)
    return Summary(
        name=name,
        status_time=format_status_time(start),
        distance=distance,
        min_magic=150,
        max_magic=150,
        min_health=health,
        max_health=150,
        samples=60,
        window_end=format_status_time(start + timedelta(minutes=1)),
        first_status_time=format_status_time(start + timedelta(seconds=1)),
        last_status_time=format_status_time(start + timedelta(seconds=59)),
        latitude=40.75,
        longitude=-73.98,
        summary_ids=frozenset({f"{name}:{minutes_before}"}),
    )


def archive(aws: Aws, key_hour: datetime, lines: list[bytes], *, gzipped: bool = True) -> str:
    """An archive object as Firehose writes it (gzipped, `.gz`), or as it wrote it before."""
    key = (
        f"{names.ARCHIVE_PREFIX}{key_hour:%Y/%m/%d/%H}/wildrydes-1-{key_hour:%Y-%m-%d-%H}-00-00-x"
    )
    body = b"".join(lines)
    if gzipped:
        key, body = key + ".gz", gzip.compress(body)
    aws.client("s3").put_object(Bucket=ARCHIVE_BUCKET, Key=key, Body=body)
    return key


def fleet(aws: Aws, client: Client) -> None:
    """Three unicorns over the hour: one well, one that recovered, one still unwell (named
    to break markup), plus readings outside the hour and a line that is not a reading."""
    lines = []
    for n in range(50, 0, -1):  # one reading a minute, moving north-east
        step = (50 - n) * 0.0005
        lines.append(
            encode_reading(
                reading("Shadowfax", at(n), latitude=40.75 + step, longitude=-73.98 + step)
            )
        )
        lines.append(encode_reading(reading("Bucephalus", at(n), latitude=40.76 - step)))
        lines.append(
            encode_reading(
                reading(EVIL, at(n), longitude=-73.97 - step, health=90 if n < 5 else 150)
            )
        )
    lines.append(encode_reading(reading("Shadowfax", at(70), latitude=10.0)))  # before the hour
    lines.append(b"not a reading\n")
    archive(aws, END - timedelta(hours=1), lines[: len(lines) // 2])
    archive(aws, END, lines[len(lines) // 2 :])

    store = bootstrap.services().summary_store
    store.put_many(
        [summary("Shadowfax", m, distance=1000.0) for m in range(50, 0, -10)]
        + [
            summary("Bucephalus", m, health=95 if m in (30, 20) else 150)
            for m in range(50, 0, -10)
        ]
        + [summary(EVIL, m, health=90 if m == 10 else 150) for m in range(50, 0, -10)]
        + [summary("Shadowfax", 120)]  # an hour too early
    )
    latest = [
        reading("Shadowfax", at(1)),
        reading("Bucephalus", at(1)),
        reading(EVIL, at(1), health=90),
    ]
    event = kinesis_event(
        [
            kinesis_record(encode_reading(r), str(i), r.name, END.timestamp() - 60)
            for i, r in enumerate(latest, 1)
        ]
    )
    client.lambda_.invoke("vitals", event)


def run_report(client: Client, when: datetime = END) -> dict[str, Any]:
    event = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )
    event["time"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    response = client.lambda_.invoke("report", event)
    assert isinstance(response.payload, dict), response.payload
    return response.payload


def page(aws: Aws, key: str) -> tuple[str, dict[str, Any]]:
    obj = aws.client("s3").get_object(Bucket=ARCHIVE_BUCKET, Key=key)
    return obj["Body"].read().decode(), obj


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    return parser


def test_a_run_writes_a_dated_copy_and_latest_with_the_same_page(aws: Aws, client: Client) -> None:
    fleet(aws, client)
    result = run_report(client)

    assert result["report"] == f"s3://{ARCHIVE_BUCKET}/reports/2026/11/22/1500.html"
    assert result["latest"] == f"s3://{ARCHIVE_BUCKET}/reports/latest.html"
    dated, dated_obj = page(aws, "reports/2026/11/22/1500.html")
    latest, latest_obj = page(aws, "reports/latest.html")
    assert dated == latest
    assert dated_obj["ContentType"] == "text/html; charset=utf-8"
    assert latest_obj["CacheControl"] == "no-cache"
    assert result["unicorns"] == 3
    assert "The hour from 2026-11-22 14:00 to 2026-11-22 15:00 UTC" in dated


def test_the_page_is_self_contained_and_names_stay_text(aws: Aws, client: Client) -> None:
    fleet(aws, client)
    run_report(client)
    html, _ = page(aws, names.LATEST_REPORT)
    elements = parse(html)

    tags = {tag for tag, _ in elements.tags}
    assert "script" not in tags and "img" not in tags and "link" not in tags
    assert not any(
        key in ("src", "href") or key.startswith("on")
        for _, attrs in elements.tags
        for key in attrs
    )
    assert not re.search(r"https?://", html)
    # The hostile name is in the page as text only: on the map and in both tables
    # (the distance chart shortens long names).
    assert "".join(elements.text).count(EVIL) == 3
    assert "<img src=x" not in html


def test_the_map_draws_one_trail_per_unicorn_from_the_hour_only(aws: Aws, client: Client) -> None:
    fleet(aws, client)
    result = run_report(client)
    html, _ = page(aws, names.LATEST_REPORT)
    elements = parse(html)

    trails = [attrs["points"] for tag, attrs in elements.tags if tag == "polyline"]
    assert len(trails) == 3
    assert all(len((points or "").split()) == 50 for points in trails)  # not the 70-minute one
    assert re.search(r'aria-label="scale: \d+ (m|km)"', html)
    assert "1 archive line was not a reading and is left out." in html
    assert result["incidents"] == 2


def test_incidents_list_the_recovered_and_the_open_one(aws: Aws, client: Client) -> None:
    fleet(aws, client)
    run_report(client)
    html, _ = page(aws, names.LATEST_REPORT)
    section = html[html.index("<h2>Vitals incidents</h2>") : html.index("<h2>Summary</h2>")]
    rows = re.findall(r"<tr>(.*?)</tr>", section)[1:]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in rows]
    assert [c[0] for c in cells] == ["&lt;img src=x onerror=alert(1)&gt;", "Bucephalus"]
    evil, bucephalus = cells
    assert "still open" in evil[3] and evil[1] == "HealthPoints" and evil[4] == "90"
    assert bucephalus[2] == format_status_time(END - timedelta(minutes=30, seconds=-1))[:19]
    assert bucephalus[3] == format_status_time(END - timedelta(minutes=20, seconds=-59))[:19]
    assert bucephalus[4] == "95"


def test_a_retried_run_replaces_its_report_instead_of_adding_one(aws: Aws, client: Client) -> None:
    fleet(aws, client)
    run_report(client)
    run_report(client)
    run_report(client, END + timedelta(minutes=15))

    keys = [
        o["Key"]
        for o in aws.client("s3").list_objects_v2(
            Bucket=ARCHIVE_BUCKET, Prefix=names.REPORT_PREFIX
        )["Contents"]
    ]
    assert sorted(keys) == [
        "reports/2026/11/22/1500.html",
        "reports/2026/11/22/1515.html",
        "reports/latest.html",
    ]
    assert "to 2026-11-22 15:15 UTC" in page(aws, names.LATEST_REPORT)[0]


def test_an_hour_without_readings_is_still_a_report(aws: Aws, client: Client) -> None:
    result = run_report(client)
    html, _ = page(aws, names.LATEST_REPORT)
    assert result["unicorns"] == 0
    assert "No unicorn reported in this hour." in html


def test_a_report_that_cannot_be_stored_fails_the_run(aws: Aws, client: Client) -> None:
    fleet(aws, client)
    fail_calls(bootstrap.services().clients.get("s3"), "s3.PutObject", "AccessDenied")
    with pytest.raises(ArchiveError, match=r"put_object s3://.+/reports/2026/11/22/1500\.html"):
        bootstrap.services().reporter.handle({"time": "2026-11-22T15:00:00Z"})


def test_a_trail_keeps_one_position_per_quarter_minute(aws: Aws, client: Client) -> None:
    seconds = [encode_reading(reading("Shadowfax", at(10 - n / 60))) for n in range(120)]
    archive(aws, END - timedelta(hours=1), seconds)
    run_report(client)
    html, _ = page(aws, names.LATEST_REPORT)
    (trail,) = [attrs["points"] for tag, attrs in parse(html).tags if tag == "polyline"]
    assert len((trail or "").split()) == 8  # two minutes, four slots a minute
    assert "120 positions archived" not in html and "<b>120</b>positions archived" in html


def test_objects_archived_uncompressed_before_are_read_beside_gzipped_ones(
    aws: Aws, client: Client
) -> None:
    first = [encode_reading(reading("Shadowfax", at(m))) for m in range(40, 20, -1)]
    then = [encode_reading(reading("Shadowfax", at(m))) for m in range(20, 0, -1)]
    archive(aws, END - timedelta(hours=1, minutes=1), first, gzipped=False)
    archive(aws, END - timedelta(hours=1), then)

    result = run_report(client)

    html, _ = page(aws, names.LATEST_REPORT)
    (trail,) = [attrs["points"] for tag, attrs in parse(html).tags if tag == "polyline"]
    assert len((trail or "").split()) == 40  # a position a minute from both objects
    assert result["unicorns"] == 1


def test_a_damaged_gzip_object_fails_the_run_naming_it(aws: Aws, client: Client) -> None:
    key = archive(aws, END - timedelta(hours=1), [encode_reading(reading("Shadowfax", at(5)))])
    whole = aws.client("s3").get_object(Bucket=ARCHIVE_BUCKET, Key=key)["Body"].read()
    aws.client("s3").put_object(Bucket=ARCHIVE_BUCKET, Key=key, Body=whole[: len(whole) // 2])

    with pytest.raises(ArchiveError, match=rf"reading s3://{ARCHIVE_BUCKET}/{key} failed"):
        bootstrap.services().reporter.handle({"time": "2026-11-22T15:00:00Z"})


def test_when_the_archive_is_too_big_to_read_the_newest_part_is_kept(
    aws: Aws, client: Client
) -> None:
    s3 = aws.client("s3")
    hour = f"{names.ARCHIVE_PREFIX}2026/11/22/14/"
    older = b"".join(encode_reading(reading("Shadowfax", at(m))) for m in range(50, 30, -1))
    newer = b"".join(encode_reading(reading("Shadowfax", at(m))) for m in range(30, 0, -1))
    s3.put_object(
        Bucket=ARCHIVE_BUCKET, Key=hour + "wildrydes-1-2026-11-22-14-10-00-a", Body=older
    )
    s3.put_object(
        Bucket=ARCHIVE_BUCKET, Key=hour + "wildrydes-1-2026-11-22-14-30-00-b", Body=newer
    )
    reporter = bootstrap.services().reporter
    reporter.archive_budget = len(newer) + 10

    result = reporter.handle({"time": "2026-11-22T15:00:00Z"})
    html, _ = page(aws, names.LATEST_REPORT)
    (trail,) = [attrs["points"] for tag, attrs in parse(html).tags if tag == "polyline"]
    assert len((trail or "").split()) == 30  # the newer object's minutes only
    assert "trails may be incomplete" in html
    assert result["unicorns"] == 1
