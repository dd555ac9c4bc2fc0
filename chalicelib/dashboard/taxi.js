// The Taxi tab: one day's trips (UTC) from `taxi/peaks`, `taxi/zones` and
// `taxi/fares`, reloaded every 30 s while the tab is open: the day's totals
// and busiest windows, demand per zone, a zone's fare trend, and every zone.

import { ApiError, asApiError, describeProblem, getJson, keyRefused, keyWanted } from "./api.js";
import { chartFrame, drawChart, linePath } from "./charts.js";
import { $, html, setText, svg } from "./elements.js";
import { now, parseStatusTime } from "./time.js";

const TAXI_REFRESH_MS = 30_000;
const TAXI_RETRY_MS = 5000;
const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;
const TAXI_WINDOW_MS = 15 * 60 * 1000;
const DEMAND_ZONES = 6;
const TAXI_CHART = { height: 260, utc: true, xLabel: "pickup time (UTC)" };
const countFormat = new Intl.NumberFormat(undefined);
const moneyFormat = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });

const count = (n) => (Number.isFinite(n) ? countFormat.format(n) : "–");
const dollars = (n) => (Number.isFinite(n) ? `$${moneyFormat.format(n)}` : "–");
const hhmm = (statusTime) => String(statusTime).slice(11, 16); // StatusTimes are UTC already
const utcHhmm = (ms) => new Date(ms).toISOString().slice(11, 16);
const validZone = (row) => row !== null && typeof row === "object" && Number.isInteger(row.zone) && typeof row.name === "string";

export function todayUtc() {
  return new Date(now()).toISOString().slice(0, 10);
}

export function validDay(day) {
  const start = Date.parse(`${day}T00:00:00Z`);
  return /^\d{4}-\d\d-\d\d$/.test(day) && Number.isFinite(start) && new Date(start).toISOString().startsWith(day);
}

function zoneFares(day, zone) {
  const next = new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
  const query = new URLSearchParams({ zone: String(zone), from: `${day}T00:00:00Z`, to: `${next}T00:00:00Z` });
  return getJson(`taxi/fares?${query}`).then((answer) => {
    if (!Array.isArray(answer.points)) throw new ApiError(200, "no points in it");
    return answer;
  });
}

// The tab, which tells `whenKeyWanted(error)` when the API refuses it for want
// of a key, and then waits for `load()` to be called again.
export function createTaxiTab({ whenKeyWanted }) {
  let day = todayUtc();
  let taxi = null; // the day's answers: {day, peaks, zones, fares: Map(zone -> answer)}; null while loading
  let error = null;
  let timer = null;
  let token = 0; // the latest load's; an older load's answer is dropped
  let fareZone = null; // the zone whose fares are charted

  function setDay(chosen) {
    day = chosen;
    $("taxi-date").value = chosen;
  }

  async function load() {
    clearTimeout(timer);
    const loading = day;
    const mine = ++token;
    if (taxi !== null && taxi.day !== loading) {
      taxi = null; // another day: say it is loading rather than show the last one's
      error = null;
    }
    render();
    try {
      const [peaks, zones] = await Promise.all([
        getJson(`taxi/peaks?${new URLSearchParams({ date: loading, top: "3" })}`),
        getJson(`taxi/zones?${new URLSearchParams({ date: loading })}`),
      ]);
      if (![peaks.demand, peaks.busiestWindows, zones.zones].every(Array.isArray)) {
        throw new ApiError(200, "no windows or zones in it");
      }
      const rows = zones.zones.filter(validZone);
      const chosen = rows.some((row) => row.zone === fareZone) ? fareZone : rows.length ? rows[0].zone : null;
      const wanted = rows.slice(0, DEMAND_ZONES).map((row) => row.zone);
      if (chosen !== null && !wanted.includes(chosen)) wanted.push(chosen);
      const answers = await Promise.all(wanted.map((zone) => zoneFares(loading, zone)));
      if (mine !== token) return;
      taxi = { day: loading, peaks, zones: rows, fares: new Map(wanted.map((zone, i) => [zone, answers[i]])) };
      fareZone = chosen;
      error = null;
    } catch (thrown) {
      if (mine !== token) return;
      error = asApiError(thrown);
    }
    const waiting = keyRefused(error);
    render();
    if (waiting) {
      whenKeyWanted(error); // the tab loads again when a key is given
      return;
    }
    timer = setTimeout(load, error ? TAXI_RETRY_MS : TAXI_REFRESH_MS);
  }

  // Stop loading: the tab is hidden, and an answer on its way is of no use now.
  function stop() {
    clearTimeout(timer);
    token++;
  }

  function chooseFareZone() {
    fareZone = Number($("fare-zone").value);
    if (taxi !== null && taxi.fares.has(fareZone)) drawFares(taxi, fareZone);
    else load(); // a zone outside the chart of demand: its fares are fetched with the rest
  }

  function render() {
    const status = $("taxi-status");
    const next = keyWanted() ? ": enter it above." : " — retrying…"; // the key form, or the timer
    const retrying = error ? describeProblem(error) + next : "";
    const empty = taxi !== null && (taxi.zones.length === 0 || taxi.peaks.demand.length === 0);
    $("taxi-empty").hidden = !empty;
    $("taxi-summary").hidden = $("taxi-data").hidden = taxi === null || empty;
    if (taxi === null) {
      setText(status, error ? `Taxi data unavailable: ${retrying}` : `Loading the taxi trips of ${day}…`);
      return;
    }
    if (empty) {
      setText(status, `No trips recorded for ${taxi.day}.${retrying ? ` ${retrying}` : ""}`);
      return;
    }
    setText(status, retrying ? `Showing the last data loaded; ${retrying}` : "");
    renderTotals(taxi.peaks);
    renderZones(taxi.zones, fareZone);
    drawDemand(taxi);
    drawFares(taxi, fareZone);
  }

  return { day: () => day, setDay, load, stop, chooseFareZone, render };
}

function renderTotals(peaks) {
  setText($("taxi-trips"), count(peaks.trips));
  setText($("taxi-revenue"), dollars(peaks.revenue));
  setText($("taxi-average"), peaks.trips > 0 ? dollars(peaks.revenue / peaks.trips) : "–");
  $("taxi-peaks").replaceChildren(
    ...peaks.busiestWindows.map((w) => {
      const zone = w.busiestZone ? `; busiest zone ${w.busiestZone.name} (${count(w.busiestZone.trips)})` : "";
      const when = `${hhmm(w.windowStart)}–${hhmm(w.windowEnd)} UTC`;
      return html("li", {}, `${when}: ${count(w.trips)} trips, ${dollars(w.revenue)}${zone}`);
    }),
  );
}

function renderZones(zones, fareZone) {
  $("zones").tBodies[0].replaceChildren(
    ...zones.map((z) => {
      const tr = html("tr");
      tr.dataset.zone = String(z.zone);
      tr.append(
        html("td", { class: "num" }, String(z.zone)),
        html("th", { scope: "row" }, z.name),
        html("td", { class: "num" }, count(z.trips)),
        html("td", { class: "num" }, dollars(z.revenue)),
        html("td", { class: "num" }, dollars(z.averageFare)),
        html("td", { class: "num" }, dollars(z.farePerMile)),
        html("td", { class: "num" }, Number.isFinite(z.tipPercent) ? `${z.tipPercent.toFixed(1)} %` : "–"),
      );
      return tr;
    }),
  );
  const choice = $("fare-zone");
  const options = zones.map((z) => `${z.zone}|${z.name}`).join();
  if (choice.dataset.options !== options) {
    choice.dataset.options = options;
    choice.replaceChildren(...zones.map((z) => html("option", { value: String(z.zone) }, `${z.name} (zone ${z.zone})`)));
  }
  choice.value = String(fareZone);
}

// The day's span on the time axis: from the hour of its first window to the hour after its last.
function taxiSpan(taxi) {
  const starts = taxi.peaks.demand.map((d) => parseStatusTime(d.windowStart)).filter(Number.isFinite);
  const first = Math.min(...starts);
  const last = Math.max(...starts) + TAXI_WINDOW_MS;
  return { first, last, domainX: [Math.floor(first / HOUR_MS) * HOUR_MS, Math.ceil(last / HOUR_MS) * HOUR_MS] };
}

function drawDemand(taxi) {
  const { first, last, domainX } = taxiSpan(taxi);
  const series = taxi.zones.slice(0, DEMAND_ZONES).map((zone) => {
    const answer = taxi.fares.get(zone.zone);
    const trips = new Map((answer ? answer.points : []).map((p) => [parseStatusTime(p.windowStart), p.trips]));
    const points = [];
    for (let t = first; t < last; t += TAXI_WINDOW_MS) points.push({ t, v: trips.get(t) || 0 }); // not listed: no trips
    const peak = points.reduce((a, b) => (b.v > a.v ? b : a), points[0]);
    return { zone, points, peak };
  });
  const top = Math.max(1, ...series.map((s) => s.peak.v));
  const f = chartFrame($("chart-demand"), domainX, [0, top * 1.1], "trips", TAXI_CHART);
  const legend = [];
  series.forEach(({ zone, points, peak }, i) => {
    const line = svg("path", { class: `line series-${i}`, d: linePath(points, f, TAXI_WINDOW_MS) });
    line.dataset.zone = String(zone.zone);
    line.append(svg("title", {}, `${zone.name}: ${count(zone.trips)} trips`));
    f.parts.push(line);
    const item = html("li");
    item.dataset.zone = String(zone.zone);
    const swatch = svg("svg", { class: "swatch", viewBox: "0 0 28 10", "aria-hidden": "true" });
    swatch.append(svg("line", { class: `line series-${i}`, x1: 1, y1: 5, x2: 27, y2: 5 }));
    const most = html("span", { class: "peak" }, ` · most at ${utcHhmm(peak.t)} (${count(peak.v)})`);
    item.append(swatch, ` ${zone.name}`, most);
    legend.push(item);
  });
  $("demand-legend").replaceChildren(...legend);
  const zones = series.map((s) => `${s.zone.name} ${count(s.zone.trips)} trips, most (${count(s.peak.v)}) at ${utcHhmm(s.peak.t)}`);
  const span = `from ${utcHhmm(first)} to ${utcHhmm(last)} UTC`;
  drawChart("chart-demand", f.parts, `Trips per 15-minute window ${span} in the ${series.length} busiest zones: ${zones.join("; ")}.`);
}

function drawFares(taxi, fareZone) {
  const answer = taxi.fares.get(fareZone);
  if (answer === undefined) return; // on its way
  const zone = taxi.zones.find((z) => z.zone === fareZone);
  const name = zone ? zone.name : answer.name;
  setText($("chart-fares-title"), `Fare per mile in ${name}`);
  setText($("fares-average"), `Moving average over ${answer.averageOver} windows with trips`);
  const points = answer.points
    .map((p) => ({ p, t: parseStatusTime(p.windowStart) }))
    .filter((w) => Number.isFinite(w.t));
  const values = points.flatMap((w) => [w.p.farePerMile, w.p.movingAverageFarePerMile]).filter(Number.isFinite);
  const low = values.length ? Math.min(...values) : 0;
  const high = values.length ? Math.max(...values) : 1;
  const pad = Math.max(0.5, (high - low) * 0.15);
  const domainY = [Math.max(0, Math.floor(low - pad)), Math.ceil(high + pad)];
  const f = chartFrame($("chart-fares"), taxiSpan(taxi).domainX, domainY, "$/mile", TAXI_CHART);
  const line = (field, className) =>
    svg("path", {
      class: `line ${className}`,
      d: linePath(points.map((w) => ({ t: w.t, v: w.p[field] })), f, TAXI_WINDOW_MS),
    });
  f.parts.push(line("farePerMile", "fare"), line("movingAverageFarePerMile", "average"));
  const shown = points.filter((w) => Number.isFinite(w.p.farePerMile));
  for (const { p, t } of shown) {
    const dot = svg("circle", { class: "dot", cx: f.x(t + TAXI_WINDOW_MS / 2), cy: f.y(p.farePerMile), r: 3 });
    dot.dataset.window = p.windowStart;
    dot.append(svg("title", {}, `${hhmm(p.windowStart)}: ${dollars(p.farePerMile)} a mile, ${count(p.trips)} trips`));
    f.parts.push(dot);
  }
  if (shown.length === 0) {
    drawChart("chart-fares", f.parts, `No fare per mile for ${name} that day.`);
    return;
  }
  const perMile = shown.map((w) => w.p.farePerMile);
  const lastAverage = points.map((w) => w.p.movingAverageFarePerMile).filter(Number.isFinite).at(-1);
  drawChart(
    "chart-fares",
    f.parts,
    `${shown.length} windows with trips from ${hhmm(shown[0].p.windowStart)} to ${hhmm(shown.at(-1).p.windowEnd)} UTC; ` +
      `fare per mile ${dollars(Math.min(...perMile))} to ${dollars(Math.max(...perMile))}, ` +
      `its moving average ending at ${dollars(lastAverage)}.`,
  );
}
