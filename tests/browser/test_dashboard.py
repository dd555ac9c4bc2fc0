"""The operations console in headless Chromium, against a running local stack.

Each test looks at what a person would: markers on the map, rows in the
table, the alert list, the history charts, the banner. The page may talk
only to its own origin (see conftest). Screenshots go to build/screenshots/;
with WILDRYDES_DOCS_SCREENSHOT=1 the desktop one also replaces
docs/dashboard.png, the README's picture.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
import shutil
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from infra.stages import PROJECT_DIR
from tests.browser.conftest import (
    AWKWARD_NAME,
    DOCS_SCREENSHOT,
    HOSTILE_NAME,
    MOVE_WAIT_MS,
    Console,
    Watch,
    screenshot,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ALERT_WAIT_MS = 150_000  # longer than the longest illness cycle (130 s): an alert opens within it
HISTORY_WAIT_MS = 30_000

# What the page shows for each unicorn in alert, read in one go so that the
# map, the table and the list come from the same refresh.
ALERTS_EVERYWHERE = """
() => {
  const named = (selector, name) =>
    [...document.querySelectorAll(selector)].find((e) => e.dataset.name === name);
  const text = (element, selector) => {
    const found = element && element.querySelector(selector);
    return found ? found.textContent : null;
  };
  const seen = [...document.querySelectorAll("#alerts li")].map((item) => {
    const name = text(item, ".alert-name");
    const marker = named("#map .marker", name);
    const row = named("#fleet tbody tr", name);
    return {
      name,
      detail: text(item, ".alert-detail"),
      markerShape: marker ? marker.querySelector(".shape").tagName : null,
      markerGlyph: text(marker, ".glyph"),
      markerLabel: text(marker, ".label"),
      rowState: row ? row.cells[1].textContent : null,
    };
  });
  const everywhere = seen.every(
    (s) => s.markerShape === "path" && s.rowState && s.rowState.includes("Alert")
  );
  return seen.length > 0 && everywhere ? seen : null;
}
"""

TRAILS_OF_AT_LEAST = """
([points, unicorns]) => [...document.querySelectorAll("#map .trail")]
  .filter((trail) => trail.getAttribute("points").split(" ").length >= points).length >= unicorns
"""


def open_console(page: Page, console: Console) -> None:
    page.goto(console.url)
    expect(page.locator("#fleet tbody tr")).to_have_count(len(console.names))


def marker_of(page: Page, name: str) -> Any:
    return page.locator(f'#map .marker[data-name="{name}"]')


def tab_to(page: Page, selector: str, presses: int = 60) -> None:
    """Press Tab until the element matching `selector` has the focus."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with Tab")


def test_the_map_shows_every_unicorn_and_they_move(page: Page, console: Console) -> None:
    open_console(page, console)
    markers = page.locator("#map .marker")
    expect(markers).to_have_count(len(console.names))
    for name in console.names:
        expect(marker_of(page, name).locator(".label")).to_contain_text(name)
    before = {name: marker_of(page, name).get_attribute("transform") for name in console.names}
    for name, transform in before.items():
        expect(marker_of(page, name)).not_to_have_attribute(
            "transform", transform or "", timeout=MOVE_WAIT_MS
        )
    expect(page.locator("#map .trail")).to_have_count(len(console.names))
    expect(page.locator("#map .scale text")).to_have_text(re.compile(r"^\d+ (m|km)$"))
    expect(page.locator("#updated")).to_have_text(
        re.compile(rf"^Updated \d\d:\d\d:\d\d · {len(console.names)} unicorns$")
    )


def test_every_module_is_loaded_once_at_its_versioned_url(page: Page, console: Console) -> None:
    """The import map is applied: a changed module reaches a browser that cached the old one."""
    scripts: list[str] = []
    page.on(
        "request",
        lambda request: scripts.append(request.url) if request.resource_type == "script" else None,
    )
    open_console(page, console)

    modules = sorted(p.name for p in (PROJECT_DIR / "chalicelib" / "dashboard").glob("*.js"))
    paths = sorted(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1] for url in scripts)
    assert paths == modules  # each module once
    assert all(re.search(r"\?v=[0-9a-f]{12}$", url) for url in scripts), scripts


@pytest.mark.parametrize("name", [HOSTILE_NAME, AWKWARD_NAME])
def test_a_name_is_shown_as_text_and_reaches_its_history(
    page: Page, console: Console, watch: Watch, name: str
) -> None:
    open_console(page, console)
    row_header = page.get_by_role("rowheader", name=name, exact=True)
    expect(row_header).to_have_text(name)
    expect(marker_of(page, name).locator(".label")).to_contain_text(name)

    row_header.click()
    expect(page.locator("#history-title")).to_have_text(f"History of {name}")
    # Found only if the name was encoded in the URL's path.
    expect(page.locator("#chart-distance rect.bar").first).to_be_visible(timeout=HISTORY_WAIT_MS)

    assert page.evaluate("document.querySelectorAll('img, [onerror]').length") == 0
    assert watch.dialogs == []


def test_clicking_a_marker_shows_its_history(page: Page, console: Console) -> None:
    open_console(page, console)
    name = console.names[0]
    marker_of(page, name).locator(".shape").click()

    history = page.get_by_role("region", name=f"History of {name}")
    expect(history).to_be_visible()
    expect(page.locator("#fleet tbody tr.is-selected")).to_have_attribute("data-name", name)
    expect(marker_of(page, name).locator(".ring")).to_have_count(1)
    for chart, mark in (("distance", "rect.bar"), ("health", "rect.band"), ("magic", "rect.band")):
        expect(page.locator(f"#chart-{chart} {mark}").first).to_be_visible(timeout=HISTORY_WAIT_MS)
        expect(page.locator(f"#chart-{chart} .x-axis text").first).to_have_text(
            re.compile(r"^\d\d:\d\d(:\d\d)?$")
        )
        assert page.locator(f"#chart-{chart} .y-axis text").count() >= 3
    for vital in ("health", "magic"):
        expect(page.locator(f"#chart-{vital} line.threshold")).to_have_count(1)
        expect(page.locator(f"#chart-{vital} .threshold-label")).to_have_text(
            "100: alert threshold"
        )
    expect(page.locator("#chart-distance-title")).to_have_text(
        "Distance flown per 5-second window (metres)"
    )
    history.scroll_into_view_if_needed()
    screenshot(page, "history.png", full_page=True)

    page.locator("#history-close").click()
    expect(history).to_be_hidden()


def test_the_table_sorts_and_selects_with_the_keyboard_alone(page: Page, console: Console) -> None:
    open_console(page, console)
    names = page.locator("#fleet tbody th")

    tab_to(page, '#fleet thead button[data-sort="name"]')
    page.keyboard.press("Enter")
    expect(page.locator('#fleet thead th:has(button[data-sort="name"])')).to_have_attribute(
        "aria-sort", "descending"
    )
    expect(names).to_have_text(sorted(console.names, reverse=True))

    tab_to(page, '#fleet thead button[data-sort="health"]')
    page.keyboard.press("Enter")
    expect(page.locator('#fleet thead th:has(button[data-sort="health"])')).to_have_attribute(
        "aria-sort", "ascending"
    )
    expect(page.locator('#fleet thead th:has(button[data-sort="name"])')).not_to_have_attribute(
        "aria-sort", re.compile(".*")
    )
    health = page.evaluate(
        "[...document.querySelectorAll('#fleet tbody tr')]"
        ".map((r) => parseInt(r.cells[3].textContent))"
    )
    assert health == sorted(health)

    tab_to(page, "#fleet tbody tr")
    focused = page.evaluate("document.activeElement.dataset.name")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused row shows no focus"
    page.keyboard.press("Enter")
    expect(page.locator("#history-title")).to_have_text(f"History of {focused}")

    page.keyboard.press("Tab")
    second = page.evaluate("document.activeElement.dataset.name")
    assert second and second != focused
    page.keyboard.press("Space")
    expect(page.locator("#history-title")).to_have_text(f"History of {second}")
    page.keyboard.press("Escape")
    expect(page.locator("#history")).to_be_hidden()


def test_at_phone_width_the_page_does_not_scroll_sideways(page: Page, console: Console) -> None:
    page.set_viewport_size({"width": 375, "height": 812})
    open_console(page, console)
    marker_of(page, console.names[1]).locator(".shape").click()
    expect(page.locator("#chart-magic rect.band").first).to_be_visible(timeout=HISTORY_WAIT_MS)

    widths = page.evaluate(
        "({page: document.documentElement.scrollWidth, view: document.documentElement.clientWidth,"
        " table: document.querySelector('.table-wrap').getBoundingClientRect().right})"
    )
    assert widths["page"] <= widths["view"] == 375
    assert widths["table"] <= 375
    columns = page.evaluate(
        "new Set([...document.querySelectorAll('#unicorns-panel > section')]"
        ".filter((s) => !s.hidden).map((s) => s.getBoundingClientRect().left)).size"
    )
    assert columns == 1
    screenshot(page, "phone.png", full_page=True)


# Every visible piece of text with its colour and the colour behind it: the
# first opaque background up the tree (for SVG text, its fill on the map).
TEXT_COLOURS = """
() => {
  const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const behind = (element) => {
    for (let e = element; e; e = e.parentElement) {
      const [r, g, b, a] = rgb(getComputedStyle(e).backgroundColor);
      if (a === undefined || a === 1) return [r, g, b];
    }
    return [255, 255, 255];
  };
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const element = node.parentElement;
    if (!node.textContent.trim() || !element.getClientRects().length) continue;
    const style = getComputedStyle(element);
    if (style.visibility === "hidden" || Number(style.opacity) < 1) continue;
    const svg = element instanceof SVGElement;
    if (svg && element.closest(".faded")) continue;  // silent unicorns fade on purpose
    const colour = rgb(svg ? style.fill : style.color).slice(0, 3);
    // A marker's glyph is drawn on the marker's shape, not on the map.
    const shape = element.matches(".glyph") && element.parentElement.querySelector(".shape");
    const background = shape ? rgb(getComputedStyle(shape).fill).slice(0, 3) : behind(element);
    found.push({text: node.textContent.trim().slice(0, 40), colour, background});
  }
  return found;
}
"""


def contrast(first: list[float], second: list[float]) -> float:
    """The WCAG 2 contrast ratio of two sRGB colours."""

    def luminance(colour: list[float]) -> float:
        channels = [c / 255 for c in colour]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_every_text_meets_the_wcag_aa_contrast_ratio(page: Page, console: Console) -> None:
    open_console(page, console)
    marker_of(page, console.names[0]).locator(".shape").click()
    expect(page.locator("#chart-distance rect.bar").first).to_be_visible(timeout=HISTORY_WAIT_MS)
    page.wait_for_function(ALERTS_EVERYWHERE, timeout=ALERT_WAIT_MS)

    texts = page.evaluate(TEXT_COLOURS)
    assert len(texts) > 50
    poor = [
        (t["text"], round(contrast(t["colour"], t["background"]), 2))
        for t in texts
        if contrast(t["colour"], t["background"]) < 4.5
    ]
    assert poor == []


def test_a_unicorn_silent_for_30_seconds_fades_and_says_so(page: Page, console: Console) -> None:
    quiet = console.names[0]

    def last_heard_40_seconds_ago(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        for row in body["unicorns"]:
            if row["Name"] == quiet:
                heard = datetime.now(UTC) - timedelta(seconds=40)
                row["StatusTime"] = heard.strftime("%Y-%m-%d %H:%M:%S.000")
        route.fulfill(response=response, json=body)

    page.route("**/unicorns", last_heard_40_seconds_ago)
    open_console(page, console)
    expect(marker_of(page, quiet)).to_have_attribute("data-state", "silent")
    expect(marker_of(page, quiet).locator(".label")).to_contain_text(f"{quiet} — silent")
    row = page.locator("#fleet tbody tr", has=page.get_by_role("rowheader", name=quiet))
    expect(row).to_contain_text("Silent")
    expect(row.locator("td").last).to_have_text(re.compile(r"^[4-5]\d s ago · silent$"))
    others = [marker_of(page, name) for name in console.names[1:]]
    for marker in others:
        expect(marker).not_to_have_attribute("data-state", "silent")


def test_an_empty_fleet_and_a_failing_api_say_so(page: Page, console: Console) -> None:
    page.route("**/unicorns", lambda route: route.fulfill(json={"unicorns": [], "count": 0}))
    page.route("**/alerts", lambda route: route.fulfill(json={"alerts": [], "count": 0}))
    page.goto(console.url)
    empty = page.locator("#fleet-empty")
    expect(empty).to_be_visible()
    expect(empty).to_contain_text("No unicorn has reported yet")
    expect(empty).to_contain_text("python -m producer")
    expect(page.locator("#map")).to_contain_text("No unicorn has reported yet")

    page.unroute("**/unicorns")
    page.route(
        "**/unicorns",
        lambda route: route.fulfill(
            status=503,
            json={"Code": "ServiceUnavailable", "Message": "the fleet data is not reachable"},
        ),
    )
    banner = page.locator("#banner")
    expect(banner).to_contain_text(
        "The API answered with an error (503: the fleet data is not reachable) — retrying…"
    )
    expect(banner).to_have_attribute("role", "status")


# A one-pixel PNG: what each tile looks like here (no tile server is reached).
TILE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
TILE_UNDER_EACH_MARKER = """
() => {
  const map = document.querySelector("#map").getBoundingClientRect();
  const tiles = [...document.querySelectorAll("#map .tiles image")];
  return [...document.querySelectorAll("#map .marker")].map((marker) => {
    const at = marker.transform.baseVal.consolidate().matrix;
    const x = map.left + at.e;
    const y = map.top + at.f;
    const tile = tiles.find((image) => {
      const r = image.getBoundingClientRect();
      return r.left <= x && x < r.right && r.top <= y && y < r.bottom;
    });
    return [marker.dataset.name, tile ? tile.getAttribute("href") : null];
  });
}
"""


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """South, north, west and east edges of a Web Mercator (slippy map) tile, in degrees."""
    count = 2**z

    def latitude(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / count))))

    return latitude(y + 1), latitude(y), x / count * 360 - 180, (x + 1) / count * 360 - 180


def test_map_tiles_line_up_with_the_fleet(page: Page, console: Console) -> None:
    # The console as served with MAP_TILES_URL set to tiles on its own origin,
    # which the Content-Security-Policy allows as it stands.
    template = f"{console.api.url}/tiles/{{z}}/{{x}}/{{y}}.png"

    def with_tiles(route: Route) -> None:
        response = route.fetch()
        body = response.text().replace('data-tiles=""', f'data-tiles="{template}"')
        body = body.replace('data-tiles-attribution=""', 'data-tiles-attribution="Test tiles"')
        route.fulfill(response=response, body=body)

    page.route(console.url, with_tiles)
    page.route("**/tiles/**", lambda route: route.fulfill(body=TILE, content_type="image/png"))
    open_console(page, console)
    expect(page.locator("#map .tiles image").first).to_be_attached()
    expect(page.locator("#map .attribution")).to_have_text("Test tiles")

    under = dict(page.evaluate(TILE_UNDER_EACH_MARKER))
    with urllib.request.urlopen(f"{console.api.url}/unicorns", timeout=5) as response:
        fleet = {u["Name"]: u for u in json.loads(response.read())["unicorns"]}
    margin = 0.003  # degrees, 250 m or so: the fleet moved on while we looked
    for name, href in under.items():
        assert href is not None, f"no tile under {name}"
        z, x, y = (int(n) for n in re.findall(r"/(\d+)", href)[-3:])
        assert 10 <= z <= 19, href
        south, north, west, east = tile_bounds(z, x, y)
        unicorn = fleet[name]
        assert south - margin <= unicorn["Latitude"] <= north + margin, (name, href)
        assert west - margin <= unicorn["Longitude"] <= east + margin, (name, href)


def test_an_unwell_unicorn_is_marked_on_the_map_in_the_table_and_under_alerts(
    page: Page, console: Console
) -> None:
    open_console(page, console)
    # A few refreshes, so that the trails (and the screenshot) show the fleet moving.
    page.wait_for_function(
        TRAILS_OF_AT_LEAST, arg=[4, len(console.names)], timeout=4 * MOVE_WAIT_MS
    )
    shown = page.wait_for_function(ALERTS_EVERYWHERE, timeout=ALERT_WAIT_MS).json_value()

    assert {s["name"] for s in shown} <= console.unwell
    for seen in shown:
        assert seen["markerGlyph"] == "!"
        assert seen["markerLabel"] == f"{seen['name']} — ALERT"
        assert re.match(r"▲ Alert: low (health|magic)", seen["rowState"])
        assert re.match(
            r"Low (health|magic) \d+( and magic \d+)? · started \d\d:\d\d:\d\d "
            r"\((just now|\d+ s ago)\)$",
            seen["detail"],
        ), seen["detail"]
    expect(page.locator("#alert-count")).to_have_text(re.compile(r"\(\d\)"))

    # The picture for the README: the fleet on the move, an alert, its history.
    page.locator("#alerts .alert-name").first.click()
    expect(page.locator("#chart-distance rect.bar").first).to_be_visible(timeout=HISTORY_WAIT_MS)
    page.evaluate("window.scrollTo(0, 0)")
    path = screenshot(page, "desktop.png", full_page=True)
    if os.environ.get("WILDRYDES_DOCS_SCREENSHOT") == "1":
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(path, DOCS_SCREENSHOT)


def test_the_banner_says_when_the_api_is_unreachable_and_clears_itself(
    page: Page, console: Console
) -> None:
    open_console(page, console)
    page.evaluate("window.sameDocument = true")
    banner = page.locator("#banner")
    expect(banner).to_be_empty()
    try:
        console.api.stop()
        expect(banner).to_have_text(
            re.compile(r"^API unreachable — retrying… Last good refresh at \d\d:\d\d:\d\d\.$")
        )
        updated = page.locator("#updated").text_content()
        screenshot(page, "unreachable.png")
    finally:
        if not console.api.running:
            console.api.start()
    expect(banner).to_be_empty()
    expect(page.locator("#updated")).not_to_have_text(updated or "")
    expect(page.locator("#fleet tbody tr")).to_have_count(len(console.names))
    assert page.evaluate("window.sameDocument") is True  # no reload


# An API key as API Gateway makes them: 40 letters and digits.
API_KEY = "Wr7q" * 10
DATA_ROUTE = re.compile(r"/(unicorns|alerts)(/|\?|$)")


def test_locally_no_api_key_is_asked_for_or_sent(page: Page, console: Console) -> None:
    keys: list[str | None] = []
    page.on("request", lambda request: keys.append(request.headers.get("x-api-key")))
    open_console(page, console)

    expect(page.locator("#key-panel")).to_be_hidden()
    expect(page.locator("#key-status")).to_be_hidden()
    assert keys and set(keys) == {None}


def test_a_refused_request_asks_for_the_api_key_which_travels_only_as_a_header(
    page: Page, console: Console
) -> None:
    # API Gateway on AWS: the data routes answer 403 unless the header has the key.
    sent: list[tuple[str, str | None]] = []

    def gateway(route: Route) -> None:
        key = route.request.headers.get("x-api-key")
        sent.append((route.request.url, key))
        if key == API_KEY:
            route.fallback()
        else:
            route.fulfill(status=403, json={"message": "Forbidden"})

    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    page.route(DATA_ROUTE, gateway)
    page.goto(console.url)

    form = page.get_by_role("region", name="API key needed")
    expect(form).to_be_visible()
    expect(page.locator("#banner")).to_have_text(
        "The API needs an API key: enter it below to see the fleet."
    )
    field = page.get_by_label("API key", exact=True)
    expect(field).to_be_focused()
    expect(field).to_have_attribute("type", "password")
    screenshot(page, "api-key.png")
    poor = [
        (t["text"], round(contrast(t["colour"], t["background"]), 2))
        for t in page.evaluate(TEXT_COLOURS)
        if contrast(t["colour"], t["background"]) < 4.5
    ]
    assert poor == []

    # Not a key at all: said so, nothing sent.
    field.fill("two words")
    page.get_by_role("button", name="Use this key").click()
    expect(page.locator("#key-error")).to_contain_text("no spaces")
    # A wrong key: refused by the API, asked for again.
    field.fill("not-the-key-" + "x" * 28)
    page.get_by_role("button", name="Use this key").click()
    expect(page.locator("#banner")).to_have_text(
        "The API refused this API key: enter it below to see the fleet."
    )
    expect(page.locator("#key-reason")).to_have_text(
        "The API refused the key this tab had: enter the current one."
    )
    # The right one, by keyboard.
    field.fill(API_KEY)
    field.press("Enter")
    expect(form).to_be_hidden()
    expect(page.locator("#fleet tbody tr")).to_have_count(len(console.names))
    expect(page.locator("#banner")).to_be_empty()
    expect(page.locator("#key-status")).to_contain_text("Using an API key in this tab.")
    assert page.evaluate("sessionStorage.getItem('wildrydes.apiKey')") == API_KEY
    # The history is a data route too.
    page.get_by_role("rowheader", name=console.names[0], exact=True).click()
    expect(page.locator("#chart-distance rect.bar").first).to_be_visible(timeout=HISTORY_WAIT_MS)
    assert any("/summaries?" in url and key == API_KEY for url, key in sent)

    # The tab keeps it across a reload; nothing is asked.
    page.reload()
    expect(page.locator("#fleet tbody tr")).to_have_count(len(console.names))
    expect(form).to_be_hidden()

    # Forgotten, it is gone and asked for again.
    page.get_by_role("button", name="Forget the key").click()
    expect(form).to_be_visible()
    expect(field).to_be_focused()
    assert page.evaluate("sessionStorage.getItem('wildrydes.apiKey')") is None

    assert urls and not [url for url in urls if API_KEY in url]
    assert API_KEY not in page.url
