// Wild Rydes operations console: the entry module, which wires the parts together.
//
// Reads the query API only (`unicorns`, `alerts`, `unicorns/<name>/summaries`;
// on the Taxi tab `taxi/peaks`, `taxi/zones` and `taxi/fares`), relative to
// the page's <base href>. The address's hash names the tab: `#unicorns`,
// `#taxi` (today, UTC) or `#taxi/YYYY-MM-DD`. This module holds the refresh
// loop, the banner, the header and the tabs; each other part of the page has a
// module of its own:
//
//   api.js      getJson and the API key       keyform.js  the form asking for the key
//   map.js      the live map                  fleet.js    the fleet table, open alerts
//   history.js  a unicorn's history           taxi.js     the Taxi tab
//   charts.js   the charts' frame and lines   state.js    what the parts share
//   time.js     clocks and times              elements.js building elements
//   geo.js      the sphere and its projection
//
// The server versions each module's URL by its content through the page's import map.

import { ApiError, asApiError, describeProblem, forgetKey, getJson, keyRefused, keyWanted, useKey } from "./api.js";
import { $, setText } from "./elements.js";
import { renderAlerts, renderTable, rowOf, setSort, whenUnicornChosen } from "./fleet.js";
import { createHistory } from "./history.js";
import { renderKeyForm, takeKey } from "./keyform.js";
import { renderMap, scaleLabel, whenMarkerClicked } from "./map.js";
import { applyFleet, condition, state, validStatus } from "./state.js";
import { createTaxiTab, todayUtc, validDay } from "./taxi.js";
import { clock, now } from "./time.js";

const REFRESH_MS = 2000;
const TABS = ["unicorns", "taxi"];

let problem = null; // the ApiError of the last refresh (or load) that failed, if any
let lastGood = NaN; // when a refresh last worked, by this browser's clock
let refreshTimer = null;
let activeTab = "unicorns";

// When a load is refused for want of a key: the form asks for one, and that load waits for it.
function keyWantedBy(error) {
  problem = error;
  render();
}

const unicornHistory = createHistory({ whenKeyWanted: keyWantedBy });
const taxi = createTaxiTab({ whenKeyWanted: keyWantedBy });

// ---------------------------------------------------------------- refresh loop

function refreshNow() {
  clearTimeout(refreshTimer);
  refresh();
}

async function refresh() {
  try {
    const [fleetAnswer, alertsAnswer] = await Promise.all([getJson("unicorns"), getJson("alerts")]);
    if (!Array.isArray(fleetAnswer.unicorns) || !Array.isArray(alertsAnswer.alerts)) {
      throw new ApiError(200, "no unicorns or alerts in it");
    }
    applyFleet(fleetAnswer.unicorns);
    state.alerts = alertsAnswer.alerts.filter(validStatus);
    state.loaded = true;
    lastGood = Date.now();
    problem = null;
  } catch (error) {
    problem = asApiError(error);
  }
  clearTimeout(refreshTimer);
  // Waiting for a key, polling would only be refused again: the form restarts it.
  if (!keyRefused(problem)) refreshTimer = setTimeout(refresh, REFRESH_MS);
  render();
}

function render() {
  const at = now();
  renderKeyForm(problem);
  renderBanner();
  // A hidden map cannot be measured: the fleet view is drawn when its tab is shown.
  const shown = activeTab === "unicorns";
  if (shown) renderMap(at);
  renderHeader(at);
  if (shown) {
    renderTable(at);
    renderAlerts(at);
  }
}

function renderBanner() {
  const banner = $("banner");
  if (problem === null) {
    if (banner.textContent !== "") banner.replaceChildren();
    return;
  }
  if (keyWanted()) {
    setText(banner, `${describeProblem(problem)}: enter it below to see the fleet.`);
    return;
  }
  const since = Number.isFinite(lastGood)
    ? `Last good refresh at ${clock(lastGood)}.`
    : "No refresh has worked yet.";
  // Changes only with the problem, so the live region is not read out every tick.
  setText(banner, `${describeProblem(problem)} — retrying… ${since}`);
}

function renderHeader(at) {
  const { fleet, loaded } = state;
  const alerting = state.alerts.length;
  const updated = Number.isFinite(lastGood) ? `Updated ${clock(lastGood)}` : "Connecting to the API…";
  const count = loaded ? ` · ${fleet.size} ${fleet.size === 1 ? "unicorn" : "unicorns"}` : "";
  setText($("updated"), updated + count);
  document.title = `${alerting ? `(${alerting} ${alerting === 1 ? "alert" : "alerts"}) ` : ""}Wild Rydes operations console`;
  const empty = loaded && fleet.size === 0;
  $("fleet-empty").hidden = !empty;
  $("fleet").closest(".table-wrap").hidden = empty;
  const silent = [...fleet.values()].filter((e) => condition(e, at).silent).length;
  const scale = scaleLabel();
  setText(
    $("map-summary"),
    !loaded
      ? "Waiting for the fleet…"
      : empty
        ? "No unicorn has reported yet."
        : `${fleet.size} ${fleet.size === 1 ? "unicorn" : "unicorns"}: ${alerting} in alert, ${silent} silent.` +
          (scale !== null ? ` Scale bar ${scale}.` : ""),
  );
}

// ---------------------------------------------------------------- the API key

// A key given: everything that waited for one loads again.
function submitKey(event) {
  const key = takeKey(event);
  if (key === null) return;
  useKey(key);
  problem = null;
  renderKeyForm(problem);
  refreshNow();
  if (state.selected !== null) unicornHistory.load();
  if (activeTab === "taxi") taxi.load();
}

function dropKey() {
  forgetKey();
  renderKeyForm(problem);
  refreshNow(); // deployed, this is refused and the form asks again
}

// ---------------------------------------------------------------- a unicorn's history

function select(name, { scroll = false } = {}) {
  unicornHistory.open(name);
  render();
  if (scroll) $("history").scrollIntoView({ block: "nearest" });
}

function closeHistory() {
  const hadFocus = $("history").contains(document.activeElement);
  const name = unicornHistory.close();
  render();
  const row = rowOf(name);
  if (hadFocus && row !== undefined) row.focus();
}

// ---------------------------------------------------------------- tabs

// `#taxi` or `#taxi/YYYY-MM-DD` open the Taxi tab (today, UTC, or that day); anything else the fleet.
function followHash() {
  const match = /^#taxi(?:\/(.*))?$/.exec(location.hash);
  const day = match !== null && match[1] !== undefined && validDay(match[1]) ? match[1] : null;
  taxi.setDay(day ?? (match !== null ? todayUtc() : taxi.day()));
  showTab(match === null ? "unicorns" : "taxi");
}

function showTab(name, { focus = false, link = false } = {}) {
  const changed = name !== activeTab;
  activeTab = name;
  for (const tab of TABS) {
    const on = tab === name;
    $(`tab-${tab}`).setAttribute("aria-selected", String(on));
    $(`tab-${tab}`).tabIndex = on ? 0 : -1; // Tab reaches the selected tab; arrows the others
    $(`${tab}-panel`).hidden = !on;
  }
  if (focus) $(`tab-${name}`).focus();
  if (link) linkTo(name === "taxi" ? `#taxi/${taxi.day()}` : "#unicorns");
  if (name === "taxi") {
    taxi.load();
  } else {
    taxi.stop();
    if (changed) {
      render();
      if (state.selected !== null) unicornHistory.render();
    }
  }
}

// The address names the tab (and the day), to share or reload; no new history entry.
function linkTo(hash) {
  if (location.hash === hash) return;
  const url = new URL(location.href);
  url.hash = hash;
  history.replaceState(null, "", url);
}

function onTabKey(event) {
  const index = TABS.indexOf(activeTab);
  const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: TABS.length - 1 };
  if (!(event.key in moves)) return;
  event.preventDefault();
  showTab(TABS[(moves[event.key] + TABS.length) % TABS.length], { focus: true, link: true });
}

// ---------------------------------------------------------------- wiring

whenMarkerClicked((name) => select(name, { scroll: true }));
whenUnicornChosen(select);
for (const button of $("fleet").querySelectorAll("thead button")) {
  button.addEventListener("click", () => setSort(button.dataset.sort));
}
$("history-close").addEventListener("click", closeHistory);
$("key-form").addEventListener("submit", submitKey);
$("key-forget").addEventListener("click", dropKey);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && state.selected !== null && activeTab === "unicorns") closeHistory();
});

let resizeFrame = 0;
const resizes = new ResizeObserver(() => {
  cancelAnimationFrame(resizeFrame);
  resizeFrame = requestAnimationFrame(() => {
    render();
    if (state.selected !== null) unicornHistory.render();
    if (activeTab === "taxi") taxi.render();
  });
});
resizes.observe($("map"));
resizes.observe($("history-charts"));
resizes.observe($("taxi-data"));

for (const tab of TABS) {
  $(`tab-${tab}`).addEventListener("click", () => showTab(tab, { link: true }));
  $(`tab-${tab}`).addEventListener("keydown", onTabKey);
}
$("taxi-date").addEventListener("change", () => {
  const day = $("taxi-date").value;
  if (!validDay(day) || day === taxi.day()) return;
  taxi.setDay(day);
  linkTo(`#taxi/${day}`);
  taxi.load();
});
$("fare-zone").addEventListener("change", taxi.chooseFareZone);
window.addEventListener("hashchange", followHash);

followHash();
refresh();
