"""The console's Taxi tab in headless Chromium, against a running local stack.

The stack's taxi table holds a morning of the model's day (2026-11-23), written
as the pipeline writes it (partial sums per zone and 15-minute window). What
the page shows is checked against the trips themselves: the totals, one line
per busy zone, a zone's fares, the zones table; and an empty day, a failing
or key-guarded API, and the Unicorns tab alongside.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import boto3
import pytest
from playwright.sync_api import Page, Route, expect

from chalicelib import names
from chalicelib.taxi.records import Trip, zone_name
from chalicelib.taxi.store import ZoneWindowStore
from chalicelib.taxi.summaries import ZoneWindow, partials, window_end
from tests.browser.conftest import MOVE_WAIT_MS, Console, screenshot
from tests.browser.test_dashboard import TEXT_COLOURS, contrast
from tests.taxi_events import DAY, day_trips

pytestmark = [pytest.mark.slow, pytest.mark.browser]

HOUR = 3600
DEMAND_ZONES = 6  # the chart of demand draws the busiest zones, up to six
API_KEY = "Tx9k" * 10
RETRY_WAIT_MS = 15_000  # the tab retries every 5 s


@dataclass(frozen=True)
class Morning:
    """The trips seeded, and the windows the pipeline would have made of them."""

    trips: list[Trip]
    windows: list[ZoneWindow]

    @property
    def day(self) -> str:
        return DAY.isoformat()

    def busiest_zones(self) -> list[int]:
        """By trips, then by zone number, as the API orders them."""
        counts = Counter(t.pickup_zone for t in self.trips)
        return sorted(counts, key=lambda zone: (-counts[zone], zone))

    def fare_windows(self, zone: int) -> list[str]:
        """The windows of a zone that have a fare per mile, in time order."""
        return sorted(
            w.window_start for w in self.windows if w.zone == zone and w.fare_per_mile is not None
        )


@pytest.fixture(scope="module")
def morning(console: Console) -> Iterator[Morning]:
    # The stack runs in this process and points the environment at its endpoint, with the
    # account's own credentials (the functions have their roles' clients of their own).
    trips = day_trips(6 * HOUR, 10 * HOUR)
    assert all(t.pickup_time.startswith(DAY.isoformat()) for t in trips)
    windows = list(partials(trips, "browser-seed").values())
    store = ZoneWindowStore(boto3.client("dynamodb"), names.INSIGHT_TABLE)
    assert store.put_many(windows) == []
    yield Morning(trips, windows)


def open_taxi(page: Page, console: Console, day: str) -> None:
    page.goto(f"{console.url}#taxi/{day}")
    expect(page.get_by_role("tab", name="Taxi")).to_have_attribute("aria-selected", "true")


def dots_of(page: Page) -> list[str]:
    """The windows of the fare chart's points."""
    return page.locator("#chart-fares circle.dot").evaluate_all(
        "(dots) => dots.map((dot) => dot.dataset.window)"
    )


def test_a_day_shows_its_totals_demand_per_zone_fares_and_zones(
    page: Page, console: Console, morning: Morning
) -> None:
    open_taxi(page, console, morning.day)

    trips = len(morning.trips)
    revenue = sum(w.fares for w in morning.windows) / 100  # summed in cents
    expect(page.locator("#taxi-trips")).to_have_text(f"{trips:,}")
    expect(page.locator("#taxi-revenue")).to_have_text(f"${revenue:,.2f}")
    expect(page.locator("#taxi-date")).to_have_value(morning.day)
    by_window: Counter[str] = Counter()
    for window in morning.windows:
        by_window[window.window_start] += window.trips
    busiest_window = min(by_window, key=lambda start: (-by_window[start], start))
    expect(page.locator("#taxi-peaks li")).to_have_count(3)
    expect(page.locator("#taxi-peaks li").first).to_contain_text(
        f"{busiest_window[11:16]}–{window_end(busiest_window)[11:16]} UTC: "
        f"{by_window[busiest_window]:,} trips"
    )

    # One line per busy zone, each named in the legend, busiest first.
    busiest = morning.busiest_zones()
    shown = busiest[:DEMAND_ZONES]
    expect(page.locator("#chart-demand path.line")).to_have_count(len(shown))
    legend = page.locator("#demand-legend li")
    expect(legend).to_have_count(len(shown))
    for item, zone in zip(legend.all(), shown, strict=True):
        expect(item).to_contain_text(zone_name(zone))
    assert "Midtown Center" in [zone_name(z) for z in shown]
    lines = page.locator("#chart-demand path.line").evaluate_all(
        "(paths) => paths.map((p) => [p.dataset.zone, p.getAttribute('d').split('L').length])"
    )
    assert [int(zone) for zone, _ in lines] == shown
    assert all(points >= 16 for _, points in lines), "a morning is at least 16 windows"
    expect(page.locator("#chart-demand desc")).to_contain_text("busiest zones: Midtown Center")
    expect(page.locator("#chart-demand .x-axis text").first).to_have_text(re.compile(r"^\d\d:00$"))
    expect(page.locator("#chart-demand .y-axis text").last).to_have_text("trips")

    # The fare chart: the busiest zone first, then whichever zone is chosen.
    choice = page.get_by_label("Zone", exact=True)
    expect(choice).to_have_value(str(busiest[0]))
    expect(page.locator("#chart-fares-title")).to_have_text(
        f"Fare per mile in {zone_name(busiest[0])}"
    )
    expect(page.locator("#chart-fares circle.dot")).to_have_count(
        len(morning.fare_windows(busiest[0]))
    )
    assert dots_of(page) == morning.fare_windows(busiest[0])
    expect(page.locator("#chart-fares path.average")).to_have_count(1)

    quietest = busiest[-1]  # outside the chart of demand: its fares are fetched on demand
    assert quietest not in shown
    choice.select_option(str(quietest))
    expect(page.locator("#chart-fares-title")).to_have_text(
        f"Fare per mile in {zone_name(quietest)}"
    )
    expect(page.locator("#chart-fares circle.dot")).to_have_count(
        len(morning.fare_windows(quietest))
    )
    assert dots_of(page) == morning.fare_windows(quietest)
    expect(page.locator("#chart-fares desc")).to_contain_text(
        f"{len(morning.fare_windows(quietest))} windows with trips"
    )

    # The zones table: every zone, the busiest first.
    rows = page.locator("#zones tbody tr")
    expect(rows).to_have_count(len(busiest))
    first = rows.first
    expect(first.get_by_role("rowheader")).to_have_text(zone_name(busiest[0]))
    expect(first.locator("td").nth(0)).to_have_text(str(busiest[0]))
    expect(first.locator("td").nth(1)).to_have_text(
        f"{sum(1 for t in morning.trips if t.pickup_zone == busiest[0]):,}"
    )
    expect(first.locator("td").last).to_have_text(re.compile(r"^\d+\.\d %$"))
    poor = [
        (t["text"], round(contrast(t["colour"], t["background"]), 2))
        for t in page.evaluate(TEXT_COLOURS)
        if contrast(t["colour"], t["background"]) < 4.5
    ]
    assert poor == []
    screenshot(page, "taxi.png", full_page=True)


def test_a_day_without_trips_says_so_and_another_day_can_be_chosen(
    page: Page, console: Console, morning: Morning
) -> None:
    open_taxi(page, console, "2026-11-24")

    expect(page.locator("#taxi-status")).to_have_text("No trips recorded for 2026-11-24.")
    expect(page.locator("#taxi-empty")).to_be_visible()
    expect(page.locator("#taxi-data")).to_be_hidden()
    expect(page.locator("#taxi-summary")).to_be_hidden()

    page.get_by_label("Day (UTC)").fill(morning.day)
    expect(page.locator("#taxi-trips")).to_have_text(f"{len(morning.trips):,}")
    expect(page.locator("#chart-demand path.line")).to_have_count(DEMAND_ZONES)
    expect(page.locator("#taxi-empty")).to_be_hidden()
    expect(page.locator("#taxi-status")).to_be_empty()
    assert page.url.endswith(f"#taxi/{morning.day}")


def test_switching_tabs_keeps_the_fleet_view_working(page: Page, console: Console) -> None:
    page.goto(console.url)
    unicorns = page.get_by_role("tab", name="Unicorns")
    taxi = page.get_by_role("tab", name="Taxi")
    expect(unicorns).to_have_attribute("aria-selected", "true")
    expect(page.locator("#fleet tbody tr")).to_have_count(len(console.names))
    assert page.locator("[role=tabpanel]").evaluate_all(
        "(panels) => panels.map((p) => [p.id, p.getAttribute('aria-labelledby'), p.hidden])"
    ) == [["unicorns-panel", "tab-unicorns", False], ["taxi-panel", "tab-taxi", True]]

    taxi.click()
    today = datetime.now(UTC).date().isoformat()
    expect(page.get_by_role("tabpanel", name="Taxi")).to_be_visible()
    expect(page.locator("#unicorns-panel")).to_be_hidden()
    expect(page.locator("#taxi-date")).to_have_value(today)
    assert page.url.endswith(f"#taxi/{today}")

    # The keyboard: one Tab stop for the tabs, arrows and Home/End between them.
    taxi.focus()
    page.keyboard.press("ArrowLeft")
    expect(unicorns).to_be_focused()
    expect(unicorns).to_have_attribute("aria-selected", "true")
    expect(taxi).to_have_attribute("tabindex", "-1")
    expect(page.get_by_role("tabpanel", name="Unicorns")).to_be_visible()
    assert page.url.endswith("#unicorns")
    page.keyboard.press("End")
    expect(taxi).to_be_focused()
    expect(page.locator("#taxi-panel")).to_be_visible()
    page.keyboard.press("ArrowRight")  # round to the first
    expect(unicorns).to_be_focused()
    expect(page.locator("#unicorns-panel")).to_be_visible()

    # Back on the fleet, it is still refreshed, drawn and selectable.
    name = console.names[0]
    marker = page.locator(f'#map .marker[data-name="{name}"]')
    before = marker.get_attribute("transform") or ""
    expect(marker).not_to_have_attribute("transform", before, timeout=MOVE_WAIT_MS)
    expect(page.locator("#map .marker")).to_have_count(len(console.names))
    page.get_by_role("rowheader", name=name, exact=True).click()
    expect(page.locator("#history-title")).to_have_text(f"History of {name}")

    # The address is followed as it changes: a day that does not exist is today.
    page.goto(f"{console.url}#taxi/2026-02-30")
    expect(taxi).to_have_attribute("aria-selected", "true")
    expect(page.locator("#taxi-date")).to_have_value(today)
    page.goto(f"{console.url}#unicorns")
    expect(unicorns).to_have_attribute("aria-selected", "true")
    expect(page.locator("#fleet tbody tr")).to_have_count(len(console.names))


def test_a_failing_taxi_api_says_so_as_the_fleet_does_and_recovers(
    page: Page, console: Console, morning: Morning
) -> None:
    def unavailable(route: Route) -> None:
        route.fulfill(
            status=503,
            json={"Code": "ServiceUnavailable", "Message": "the taxi data is not reachable"},
        )

    page.route("**/taxi/zones?*", unavailable)
    open_taxi(page, console, morning.day)
    expect(page.locator("#taxi-status")).to_have_text(
        "Taxi data unavailable: The API answered with an error "
        "(503: the taxi data is not reachable) — retrying…"
    )
    expect(page.locator("#taxi-status")).to_have_attribute("role", "status")
    expect(page.locator("#taxi-data")).to_be_hidden()

    page.unroute("**/taxi/zones?*")
    expect(page.locator("#taxi-trips")).to_have_text(
        f"{len(morning.trips):,}", timeout=RETRY_WAIT_MS
    )
    expect(page.locator("#taxi-status")).to_be_empty()


def test_a_refused_taxi_request_asks_for_the_api_key(
    page: Page, console: Console, morning: Morning
) -> None:
    sent: list[tuple[str, str | None]] = []

    def gateway(route: Route) -> None:
        key = route.request.headers.get("x-api-key")
        sent.append((route.request.url, key))
        if key == API_KEY:
            route.fallback()
        else:
            route.fulfill(status=403, json={"message": "Forbidden"})

    page.route(re.compile(r"/(unicorns|alerts|taxi/[a-z]+)(/|\?|$)"), gateway)
    open_taxi(page, console, morning.day)

    expect(page.get_by_role("region", name="API key needed")).to_be_visible()
    expect(page.locator("#taxi-status")).to_have_text(
        "Taxi data unavailable: The API needs an API key: enter it above."
    )
    field = page.get_by_label("API key", exact=True)
    field.fill(API_KEY)
    field.press("Enter")
    expect(page.locator("#taxi-trips")).to_have_text(f"{len(morning.trips):,}")
    expect(page.get_by_role("region", name="API key needed")).to_be_hidden()
    assert any("/taxi/fares?" in url and key == API_KEY for url, key in sent)
    assert not [url for url, _ in sent if API_KEY in url]


def test_at_phone_width_the_taxi_tab_does_not_scroll_sideways(
    page: Page, console: Console, morning: Morning
) -> None:
    page.set_viewport_size({"width": 375, "height": 812})
    open_taxi(page, console, morning.day)
    expect(page.locator("#chart-demand path.line")).to_have_count(DEMAND_ZONES)
    widths = page.evaluate(
        "({page: document.documentElement.scrollWidth,"
        " view: document.documentElement.clientWidth})"
    )
    assert widths["page"] <= widths["view"] == 375
    screenshot(page, "taxi-phone.png", full_page=True)
