// Wild Rydes operations console.
//
// Reads the query API only (`unicorns`, `alerts`, `unicorns/<name>/summaries`;
// on the Taxi tab `taxi/peaks`, `taxi/zones` and `taxi/fares`), relative to
// the page's <base href>, which the server sets to the API's own path. Every
// element is built with createElement(NS) and textContent: unicorn names come
// from whoever sends records, so they are never markup. The address's hash
// names the tab: `#unicorns`, `#taxi` (today, UTC) or `#taxi/YYYY-MM-DD`.
//
// Deployed, those routes want an API key: a 403 (API Gateway's "Forbidden")
// opens a form asking for it; the key is kept in sessionStorage (this tab
// only) and sent as the `x-api-key` header, never in a URL. Locally
// (`make up`) nothing is refused, so nothing is asked.

const REFRESH_MS = 2000;
const REQUEST_TIMEOUT_MS = 8000;
const SILENT_AFTER_MS = 30_000;
const TRAIL_POINTS = 120; // positions kept per unicorn, one per refresh at most
const HISTORY_SPAN_MS = 60 * 60 * 1000;
const HISTORY_MIN_SPAN_MS = 2 * 60 * 1000;
const HISTORY_REFRESH_MS = 5000;
const HISTORY_PAGE = 500;
const HISTORY_MAX_PAGES = 20;
const EARTH_RADIUS = 6378137; // metres: the sphere of Web Mercator
const MIN_SPAN_M = 600; // the map never zooms in further than this many metres across
const MAP_PAD = 40; // pixels kept clear around the fleet
const REFIT_MARGIN = 1.5; // a refit leaves room to fly before the next one
const VITAL_WORDS = { HealthPoints: "health", MagicPoints: "magic" };

const page = document.body;
const THRESHOLD = Number(page.dataset.threshold) || 100;
const TILES = page.dataset.tiles || "";
const TILES_CREDIT = page.dataset.tilesAttribution || "";

const $ = (id) => document.getElementById(id);
const mapSvg = $("map");
// The HTML parser puts inline <svg> in the SVG namespace; ask it rather than spell it out.
const SVG_NS = mapSvg.namespaceURI;
const layers = {
  tiles: mapSvg.querySelector(".tiles"),
  trails: mapSvg.querySelector(".trails"),
  markers: mapSvg.querySelector(".markers"),
  scale: mapSvg.querySelector(".scale"),
  credit: mapSvg.querySelector(".attribution"),
};
const fleetTable = $("fleet");
const fleetBody = fleetTable.tBodies[0];

// ---------------------------------------------------------------- elements

function html(tag, attributes = {}, text) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  if (text !== undefined) element.textContent = text;
  return element;
}

function svg(tag, attributes = {}, text) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

// ---------------------------------------------------------------- time

let clockOffset = 0; // server clock minus this browser's, when they disagree by over 2 s

function now() {
  return Date.now() + clockOffset;
}

function noteServerClock(response) {
  const date = Date.parse(response.headers.get("Date") || "");
  if (Number.isNaN(date)) return;
  const offset = date + 500 - Date.now(); // the header has whole seconds
  clockOffset = Math.abs(offset) > 2000 ? offset : 0;
}

function parseStatusTime(text) {
  // "YYYY-MM-DD HH:MM:SS.mmm", UTC
  if (typeof text !== "string" || !/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/.test(text)) return NaN;
  return Date.parse(`${text.replace(" ", "T")}Z`);
}

const clockFormat = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
});
const shortClockFormat = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit", minute: "2-digit", hourCycle: "h23",
});

function clock(ms) {
  return Number.isFinite(ms) ? clockFormat.format(new Date(ms)) : "–";
}

function ago(ms) {
  if (!Number.isFinite(ms)) return "never";
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 1) return "just now";
  if (seconds < 90) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

// ---------------------------------------------------------------- the API key

const KEY_STORAGE = "wildrydes.apiKey";
const KEY_SHAPE = /^[\x21-\x7e]{1,512}$/; // printable ASCII without spaces: a header value

function storedKey() {
  try {
    const key = sessionStorage.getItem(KEY_STORAGE);
    return key !== null && KEY_SHAPE.test(key) ? key : null;
  } catch {
    return null; // storage disabled: the key lasts as long as the page
  }
}

function storeKey(key) {
  try {
    if (key === null) sessionStorage.removeItem(KEY_STORAGE);
    else sessionStorage.setItem(KEY_STORAGE, key);
  } catch {
    // Storage disabled: keep it in memory only.
  }
}

let apiKey = storedKey();
let keyWanted = false; // the API refused a request for want of a (valid) key

// ---------------------------------------------------------------- the API

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status; // 0: no answer at all
  }
}

async function getJson(path) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  try {
    let response;
    const headers = { Accept: "application/json" };
    if (apiKey !== null) headers["x-api-key"] = apiKey;
    try {
      response = await fetch(path, {
        signal: controller.signal,
        cache: "no-store",
        credentials: "same-origin",
        headers,
      });
    } catch {
      throw new ApiError(0, "no answer");
    }
    noteServerClock(response);
    let payload = null;
    try {
      payload = await response.json();
    } catch {
      payload = null;
    }
    if (!response.ok) {
      const message = payload && typeof payload.Message === "string" ? payload.Message : response.statusText;
      throw new ApiError(response.status, message || "no reason given");
    }
    if (payload === null || typeof payload !== "object") throw new ApiError(response.status, "not JSON");
    return payload;
  } finally {
    clearTimeout(timer);
  }
}

function describeProblem(error) {
  if (error.status === 0) return "API unreachable";
  if (error.status === 403) {
    return error.refusedKey ? "The API refused this API key" : "The API needs an API key";
  }
  if (error.status >= 500) return `The API answered with an error (${error.status}: ${error.message})`;
  if (error.status >= 400) return `The API refused the request (${error.status}: ${error.message})`;
  return `The API's answer was not understood (${error.message})`;
}

// ---------------------------------------------------------------- state

const fleet = new Map(); // name -> {row, time, trail: [{lat, lon, t}], speed}
let alerts = [];
let loaded = false; // a refresh has worked at least once
let lastGood = NaN; // when, by this browser's clock
let problem = null; // the ApiError of the last refresh, if it failed
let selected = null; // the unicorn whose history is shown
let sort = { key: "name", direction: 1 };
let view = null; // the map's projection: {cx, cy, scale, width, height}

function validStatus(row) {
  return (
    row !== null && typeof row === "object" && typeof row.Name === "string" && row.Name !== "" &&
    Number.isFinite(row.Latitude) && Number.isFinite(row.Longitude) && Math.abs(row.Latitude) < 85
  );
}

function metresBetween(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS * Math.asin(Math.min(1, Math.sqrt(h)));
}

function applyFleet(rows) {
  const present = new Set();
  for (const row of rows) {
    if (!validStatus(row)) continue;
    present.add(row.Name);
    const time = parseStatusTime(row.StatusTime);
    let entry = fleet.get(row.Name);
    if (entry === undefined) {
      entry = { row, time, trail: [], speed: null };
      fleet.set(row.Name, entry);
    }
    entry.row = row;
    entry.time = time;
    const point = { lat: row.Latitude, lon: row.Longitude, t: time };
    let previous = entry.trail.at(-1);
    if (previous !== undefined && !(time >= previous.t)) {
      // Time went backwards: a new run under an old name.
      entry.trail = [];
      entry.speed = null;
      previous = undefined;
    }
    if (previous === undefined || time > previous.t) {
      if (previous !== undefined) entry.speed = metresBetween(previous, point) / ((time - previous.t) / 1000);
      entry.trail.push(point);
      if (entry.trail.length > TRAIL_POINTS) entry.trail.shift();
    }
  }
  for (const name of [...fleet.keys()]) if (!present.has(name)) fleet.delete(name);
}

function condition(entry, at) {
  const age = at - entry.time;
  return {
    age,
    silent: !(age <= SILENT_AFTER_MS),
    alerting: entry.row.AlertState === "alert",
  };
}

function vitalWords(list) {
  return (Array.isArray(list) ? list : []).map((v) => VITAL_WORDS[v] || String(v));
}

function lowWords(row) {
  const words = vitalWords(row.Incident && row.Incident.Vitals).concat(vitalWords(row.LowVitals));
  return [...new Set(words)];
}

// A 403 means a missing or wrong key: ask for one, and stop polling until it is given.
function keyRefused(error) {
  if (!(error instanceof ApiError) || error.status !== 403) return false;
  error.refusedKey = apiKey !== null;
  if (apiKey !== null) {
    apiKey = null; // a refused key is of no further use
    storeKey(null);
  }
  keyWanted = true;
  return true;
}

function renderKey() {
  const panel = $("key-panel");
  const wasHidden = panel.hidden;
  panel.hidden = !keyWanted;
  $("key-status").hidden = keyWanted || apiKey === null;
  if (keyWanted && wasHidden) {
    setText($("key-reason"), problem && problem.refusedKey
      ? "The API refused the key this tab had: enter the current one."
      : "This API answers only requests that carry its API key.");
    // Take the focus only from nobody (or from the button that just went away).
    const focused = document.activeElement;
    if (focused === null || focused === document.body || focused.id === "key-forget") {
      $("key-input").focus();
    }
  }
}

function useKey(event) {
  event.preventDefault(); // never a navigation: the key must not reach a URL
  const input = $("key-input");
  const key = input.value.trim();
  if (!KEY_SHAPE.test(key)) {
    setText($("key-error"), "An API key is one word of letters, digits and symbols, no spaces.");
    input.focus();
    return;
  }
  setText($("key-error"), "");
  input.value = "";
  apiKey = key;
  storeKey(key);
  keyWanted = false;
  problem = null;
  renderKey();
  refreshNow();
  if (selected !== null) loadHistory();
  if (activeTab === "taxi") loadTaxi();
}

function forgetKey() {
  apiKey = null;
  storeKey(null);
  renderKey();
  refreshNow(); // deployed, this is refused and the form asks again
}

// ---------------------------------------------------------------- refresh loop

let refreshTimer = null;

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
    alerts = alertsAnswer.alerts.filter(validStatus);
    loaded = true;
    lastGood = Date.now();
    problem = null;
  } catch (error) {
    problem = error instanceof ApiError ? error : new ApiError(0, String(error));
  }
  clearTimeout(refreshTimer);
  // Waiting for a key, polling would only be refused again: the form restarts it.
  if (!keyRefused(problem)) refreshTimer = setTimeout(refresh, REFRESH_MS);
  render();
}

function render() {
  const at = now();
  renderKey();
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
  if (keyWanted) {
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
  const alerting = alerts.length;
  const state = Number.isFinite(lastGood) ? `Updated ${clock(lastGood)}` : "Connecting to the API…";
  const count = loaded ? ` · ${fleet.size} ${fleet.size === 1 ? "unicorn" : "unicorns"}` : "";
  setText($("updated"), state + count);
  document.title = `${alerting ? `(${alerting} ${alerting === 1 ? "alert" : "alerts"}) ` : ""}Wild Rydes operations console`;
  const empty = loaded && fleet.size === 0;
  $("fleet-empty").hidden = !empty;
  fleetTable.closest(".table-wrap").hidden = empty;
  const silent = [...fleet.values()].filter((e) => condition(e, at).silent).length;
  setText(
    $("map-summary"),
    !loaded
      ? "Waiting for the fleet…"
      : empty
        ? "No unicorn has reported yet."
        : `${fleet.size} ${fleet.size === 1 ? "unicorn" : "unicorns"}: ${alerting} in alert, ${silent} silent.` +
          (view ? ` Scale bar ${layers.scale.dataset.label || ""}.` : ""),
  );
}

// ---------------------------------------------------------------- the map

function project(lat, lon) {
  const rad = Math.PI / 180;
  return { x: lon * rad, y: Math.log(Math.tan(Math.PI / 4 + (lat * rad) / 2)) };
}

function latitudeOf(y) {
  return 2 * Math.atan(Math.exp(y)) - Math.PI / 2;
}

function toScreen(v, p) {
  return { x: v.width / 2 + (p.x - v.cx) * v.scale, y: v.height / 2 - (p.y - v.cy) * v.scale };
}

function bounds(points) {
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  return { minX: Math.min(...xs), maxX: Math.max(...xs), minY: Math.min(...ys), maxY: Math.max(...ys) };
}

function fit(points, width, height, margin) {
  const b = bounds(points);
  const cx = (b.minX + b.maxX) / 2;
  const cy = (b.minY + b.maxY) / 2;
  const minSpan = MIN_SPAN_M / (EARTH_RADIUS * Math.cos(latitudeOf(cy)));
  const spanX = Math.max(b.maxX - b.minX, minSpan) * margin;
  const spanY = Math.max(b.maxY - b.minY, minSpan) * margin;
  const scale = Math.min((width - 2 * MAP_PAD) / spanX, (height - 2 * MAP_PAD) / spanY);
  return { cx, cy, scale, width, height };
}

// The view stays put while the fleet flies inside it, so that movement shows;
// it is fitted again when a unicorn nears the edge or the fleet has shrunk.
function needsRefit(points, width, height) {
  if (view === null || view.width !== width || view.height !== height) return true;
  const inset = MAP_PAD / 2;
  for (const p of points) {
    const s = toScreen(view, p);
    if (s.x < inset || s.x > width - inset || s.y < inset || s.y > height - inset) return true;
  }
  return fit(points, width, height, 1).scale > view.scale * 4;
}

function sizeOf(element, fallbackWidth, fallbackHeight) {
  const box = element.getBoundingClientRect();
  return {
    width: Math.max(100, Math.round(box.width) || fallbackWidth),
    height: Math.max(100, Math.round(box.height) || fallbackHeight),
  };
}

function renderMap(at) {
  const { width, height } = sizeOf(mapSvg, 800, 500);
  mapSvg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const entries = [...fleet.values()];
  const live = entries.filter((e) => !condition(e, at).silent);
  const basis = live.length > 0 ? live : entries;
  const points = basis.flatMap((e) => e.trail.map((p) => project(p.lat, p.lon)));
  if (points.length > 0 && needsRefit(points, width, height)) {
    view = fit(points, width, height, REFIT_MARGIN);
  }
  renderTiles(width, height);
  renderTrails(entries, at);
  renderMarkers(entries, at, width, height);
  renderScale(width, height);
}

function renderTrails(entries, at) {
  const lines = [];
  if (view !== null) {
    for (const entry of entries) {
      if (entry.trail.length < 2) continue;
      const c = condition(entry, at);
      const points = entry.trail
        .map((p) => toScreen(view, project(p.lat, p.lon)))
        .map((s) => `${s.x.toFixed(1)},${s.y.toFixed(1)}`)
        .join(" ");
      const state = c.silent ? "is-silent" : c.alerting ? "is-alert" : "is-ok";
      lines.push(svg("polyline", { class: `trail ${state}`, points }));
    }
  }
  layers.trails.replaceChildren(...lines);
}

const markers = new Map(); // name -> {group, key}

function renderMarkers(entries, at, width, height) {
  const present = new Set();
  const ordered = [];
  for (const entry of entries) {
    const name = entry.row.Name;
    present.add(name);
    const c = condition(entry, at);
    let marker = markers.get(name);
    if (marker === undefined) {
      const group = svg("g", { class: "marker" });
      group.dataset.name = name;
      group.addEventListener("click", () => select(name, { scroll: true }));
      marker = { group, key: "" };
      markers.set(name, marker);
    }
    // A narrow map shortens long names; the marker's title and the table keep them whole.
    const limit = width < 560 ? 18 : 40;
    const key = `${c.alerting}|${c.silent}|${selected === name}|${limit}`;
    if (marker.key !== key) {
      drawMarker(marker.group, name, c, selected === name, limit);
      marker.key = key;
    }
    const last = entry.trail[entry.trail.length - 1];
    let point = null;
    if (view !== null && last !== undefined) {
      point = toScreen(view, project(last.lat, last.lon));
      marker.group.setAttribute("transform", `translate(${point.x.toFixed(1)} ${point.y.toFixed(1)})`);
    }
    const state = c.silent ? "silent" : c.alerting ? `alert, low ${lowWords(entry.row).join(" and ")}` : "OK";
    setText(marker.group.querySelector("title"), `${name}: ${state}; last seen ${ago(c.age)}`);
    // Drawn last, on top: the selected unicorn, then those in alert.
    const rank = selected === name ? 2 : c.alerting && !c.silent ? 1 : 0;
    ordered.push({ group: marker.group, rank, point });
  }
  for (const name of [...markers.keys()]) if (!present.has(name)) markers.delete(name);
  ordered.sort((a, b) => a.rank - b.rank);
  const wanted = ordered.map((o) => o.group);
  const current = [...layers.markers.children].filter((e) => e.classList.contains("marker"));
  if (wanted.length !== current.length || wanted.some((g, i) => g !== current[i])) {
    layers.markers.replaceChildren(...wanted);
  }
  placeLabels([...ordered].reverse(), width); // in the page, where labels can be measured
  if (entries.length === 0) {
    const text = loaded ? "No unicorn has reported yet" : "Waiting for the fleet…";
    layers.markers.replaceChildren(svg("text", { class: "map-empty", x: width / 2, y: height / 2 }, text));
  }
}

// Where a label may go, beside its marker: right, then below, above, left.
const LABEL_SPOTS = [
  [14, 4, "start"], [14, 20, "start"], [14, -12, "start"],
  [-14, 4, "end"], [-14, 20, "end"], [-14, -12, "end"],
];

// Each label takes the first spot that covers no other marker or label and
// stays on the map; the most important markers choose first.
function placeLabels(markersByImportance, width) {
  const placed = markersByImportance.filter((m) => m.point !== null);
  const dots = placed.map((m) => ({ x0: m.point.x - 12, y0: m.point.y - 12, x1: m.point.x + 12, y1: m.point.y + 12 }));
  const taken = [];
  const overlaps = (a, b) => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
  placed.forEach((m, index) => {
    const label = m.group.querySelector(".label");
    const length = label.getComputedTextLength() || label.textContent.length * 7.5;
    const box = ([dx, dy, anchor]) => {
      const x0 = m.point.x + (anchor === "end" ? dx - length : dx);
      return { x0, y0: m.point.y + dy - 11, x1: x0 + length, y1: m.point.y + dy + 3 };
    };
    const inside = (spot) => box(spot).x0 >= 0 && box(spot).x1 <= width;
    const free = (spot) =>
      inside(spot) &&
      !taken.some((t) => overlaps(t, box(spot))) &&
      !dots.some((d, other) => other !== index && overlaps(d, box(spot)));
    const spot = LABEL_SPOTS.find(free) || LABEL_SPOTS.find(inside) || LABEL_SPOTS[0];
    label.setAttribute("x", String(spot[0]));
    label.setAttribute("y", String(spot[1]));
    label.setAttribute("text-anchor", spot[2]);
    taken.push(box(spot));
  });
}

function drawMarker(group, name, c, isSelected, limit) {
  const state = c.silent ? "is-silent" : c.alerting ? "is-alert" : "is-ok";
  group.setAttribute("class", `marker ${state}`);
  group.dataset.state = c.silent ? "silent" : c.alerting ? "alert" : "ok";
  const parts = [svg("title")];
  if (isSelected) parts.push(svg("circle", { class: "ring", r: 15 }));
  if (c.alerting) {
    // Not by colour alone: a triangle with "!" and the word in the label.
    parts.push(svg("path", { class: "shape", d: "M0 -12 L11 8 L-11 8 Z" }));
    parts.push(svg("text", { class: "glyph", y: 5 }, "!"));
  } else {
    parts.push(svg("circle", { class: "shape", r: 7 }));
  }
  const suffix = c.silent ? " — silent" : c.alerting ? " — ALERT" : "";
  const shown = name.length > limit ? `${name.slice(0, limit - 1)}…` : name;
  parts.push(svg("text", { class: "label", x: 14, y: 4 }, shown + suffix));
  group.replaceChildren(...parts);
}

function niceBelow(value) {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const m of [5, 2, 1]) if (m * power <= value) return m * power;
  return power;
}

function formatMetres(m) {
  return m >= 1000 ? `${m / 1000} km` : `${m} m`;
}

function renderScale(width, height) {
  if (view === null) {
    layers.scale.replaceChildren();
    return;
  }
  const metresPerPixel = (EARTH_RADIUS * Math.cos(latitudeOf(view.cy))) / view.scale;
  const length = niceBelow(metresPerPixel * Math.min(160, width * 0.3));
  const pixels = length / metresPerPixel;
  const x = 14;
  const y = height - 16;
  const label = formatMetres(length);
  layers.scale.dataset.label = label;
  layers.scale.replaceChildren(
    svg("line", { x1: x, y1: y, x2: x + pixels, y2: y }),
    svg("line", { x1: x, y1: y - 5, x2: x, y2: y + 1 }),
    svg("line", { x1: x + pixels, y1: y - 5, x2: x + pixels, y2: y + 1 }),
    svg("text", { x, y: y - 8 }, label),
  );
}

let tilesKey = "";

function renderTiles(width, height) {
  if (TILES === "" || view === null) return;
  const key = [view.cx, view.cy, view.scale, width, height].join();
  if (key === tilesKey) return;
  tilesKey = key;
  const world = view.scale * 2 * Math.PI; // pixels round the world at this scale
  const zoom = Math.max(0, Math.min(19, Math.round(Math.log2(world / 256))));
  const count = 2 ** zoom;
  const size = world / count;
  const column = (x) => Math.floor(((x + Math.PI) / (2 * Math.PI)) * count);
  const row = (y) => Math.floor(((1 - y / Math.PI) / 2) * count);
  const left = view.cx - width / 2 / view.scale;
  const right = view.cx + width / 2 / view.scale;
  const top = view.cy + height / 2 / view.scale;
  const bottom = view.cy - height / 2 / view.scale;
  const images = [];
  for (let ty = Math.max(0, row(top)); ty <= Math.min(count - 1, row(bottom)); ty++) {
    for (let tx = column(left); tx <= column(right) && images.length < 150; tx++) {
      const corner = toScreen(view, {
        x: (tx / count) * 2 * Math.PI - Math.PI,
        y: Math.PI * (1 - (2 * ty) / count),
      });
      const href = TILES.replaceAll("{z}", String(zoom))
        .replaceAll("{x}", String(((tx % count) + count) % count))
        .replaceAll("{y}", String(ty));
      images.push(svg("image", {
        href, x: corner.x.toFixed(1), y: corner.y.toFixed(1),
        width: (size + 0.5).toFixed(1), height: (size + 0.5).toFixed(1),
        preserveAspectRatio: "none",
      }));
    }
  }
  layers.tiles.replaceChildren(...images);
  layers.credit.setAttribute("x", String(width - 6));
  layers.credit.setAttribute("y", String(height - 6));
  layers.credit.setAttribute("text-anchor", "end");
  setText(layers.credit, TILES_CREDIT);
}

// ---------------------------------------------------------------- the fleet table

const SORT_KEYS = {
  name: (e) => e.row.Name,
  state: (e, c) => (c.silent ? 2 : c.alerting ? 0 : 1),
  speed: (e) => (e.speed === null ? -1 : e.speed),
  health: (e) => Number(e.row.HealthPoints),
  magic: (e) => Number(e.row.MagicPoints),
  seen: (e, c) => (Number.isFinite(c.age) ? c.age : Infinity),
};

function sortedEntries(at) {
  const keyOf = SORT_KEYS[sort.key];
  const rows = [...fleet.values()].map((e) => ({ e, k: keyOf(e, condition(e, at)) }));
  rows.sort((a, b) => {
    const order = typeof a.k === "string" ? a.k.localeCompare(b.k) : a.k - b.k;
    return sort.direction * order || a.e.row.Name.localeCompare(b.e.row.Name);
  });
  return rows.map((r) => r.e);
}

const tableRows = new Map(); // name -> tr

function makeRow(name) {
  const tr = html("tr", { tabindex: "0" });
  tr.dataset.name = name;
  tr.append(
    html("th", { scope: "row" }, name),
    html("td", { class: "state-cell" }),
    html("td", { class: "num" }),
    html("td", { class: "num" }),
    html("td", { class: "num" }),
    html("td"),
  );
  tr.addEventListener("click", () => select(name, { scroll: true }));
  tr.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      select(name);
    }
  });
  return tr;
}

function vitalCell(cell, value) {
  const points = Number(value);
  const low = Number.isFinite(points) && points < THRESHOLD;
  cell.className = low ? "num low" : "num";
  setText(cell, Number.isFinite(points) ? `${points}${low ? " low" : ""}` : "–");
}

function stateCell(cell, entry, c) {
  const [className, symbol, text] = c.silent
    ? ["is-silent", "○", `Silent${c.alerting ? " (last: alert)" : ""}`]
    : c.alerting
      ? ["is-alert", "▲", `Alert: low ${lowWords(entry.row).join(" and ")}`]
      : ["is-ok", "●", "OK"];
  const key = `${className}|${text}`;
  if (cell.dataset.key === key) return;
  cell.dataset.key = key;
  const badge = html("span", { class: `state ${className}` });
  badge.append(html("span", { "aria-hidden": "true" }, `${symbol} `), text);
  cell.replaceChildren(badge);
}

function renderTable(at) {
  const entries = sortedEntries(at);
  for (const entry of entries) {
    const name = entry.row.Name;
    let tr = tableRows.get(name);
    if (tr === undefined) {
      tr = makeRow(name);
      tableRows.set(name, tr);
    }
    const c = condition(entry, at);
    const [, state, speed, health, magic, seen] = tr.cells;
    stateCell(state, entry, c);
    setText(speed, entry.speed === null ? "–" : entry.speed.toFixed(1));
    vitalCell(health, entry.row.HealthPoints);
    vitalCell(magic, entry.row.MagicPoints);
    setText(seen, ago(c.age) + (c.silent ? " · silent" : ""));
    tr.classList.toggle("is-silent", c.silent);
    tr.classList.toggle("is-selected", selected === name);
  }
  for (const name of [...tableRows.keys()]) if (!fleet.has(name)) tableRows.delete(name);
  const wanted = entries.map((e) => tableRows.get(e.row.Name));
  const current = [...fleetBody.rows];
  if (wanted.length !== current.length || wanted.some((tr, i) => tr !== current[i])) {
    const focused = document.activeElement;
    fleetBody.replaceChildren(...wanted);
    // Moving a focused row blurs it; a keyboard user must not lose their place.
    if (wanted.includes(focused) && document.activeElement !== focused) focused.focus({ preventScroll: true });
  }
}

function setSort(key) {
  sort = sort.key === key ? { key, direction: -sort.direction } : { key, direction: 1 };
  for (const button of fleetTable.querySelectorAll("thead button")) {
    const th = button.closest("th");
    if (button.dataset.sort === sort.key) {
      th.setAttribute("aria-sort", sort.direction === 1 ? "ascending" : "descending");
    } else {
      th.removeAttribute("aria-sort");
    }
  }
  renderTable(now());
}

// ---------------------------------------------------------------- open alerts

const alertItems = new Map(); // name -> li

function renderAlerts(at) {
  setText($("alert-count"), alerts.length ? `(${alerts.length})` : "");
  $("alerts-empty").hidden = alerts.length > 0;
  const wanted = [];
  for (const row of alerts) {
    let item = alertItems.get(row.Name);
    if (item === undefined) {
      item = html("li");
      item.dataset.name = row.Name;
      const button = html("button", { type: "button", class: "alert-name" }, row.Name);
      button.addEventListener("click", () => select(row.Name, { scroll: true }));
      item.append(button, html("span", { class: "alert-detail" }));
      alertItems.set(row.Name, item);
    }
    const points = { health: row.HealthPoints, magic: row.MagicPoints };
    const low = lowWords(row).map((word) => `${word} ${points[word] ?? ""}`.trim());
    const started = parseStatusTime(row.Incident && row.Incident.StartedAt);
    const detail = item.querySelector(".alert-detail");
    const summary = `Low ${low.join(" and ") || "vitals"} · started `;
    const when = `${clock(started)} (${ago(at - started)})`;
    if (detail.dataset.key !== summary + when) {
      detail.dataset.key = summary + when;
      const time = html("time", Number.isFinite(started) ? { datetime: new Date(started).toISOString() } : {}, when);
      detail.replaceChildren(summary, time);
    }
    wanted.push(item);
  }
  const names = new Set(alerts.map((a) => a.Name));
  for (const name of [...alertItems.keys()]) if (!names.has(name)) alertItems.delete(name);
  const list = $("alerts");
  const current = [...list.children];
  if (wanted.length !== current.length || wanted.some((li, i) => li !== current[i])) {
    const focused = document.activeElement;
    list.replaceChildren(...wanted);
    if (focused && wanted.some((li) => li.contains(focused)) && document.activeElement !== focused) {
      focused.focus({ preventScroll: true });
    }
  }
}

// ---------------------------------------------------------------- history

let historyRows = null; // the selected unicorn's summaries, oldest first; null while loading
let historyError = null;
let historyTimer = null;
let historyToken = 0;

function select(name, { scroll = false } = {}) {
  const changed = selected !== name;
  selected = name;
  const panel = $("history");
  panel.hidden = false;
  setText($("history-title"), `History of ${name}`);
  if (changed) {
    historyRows = null;
    historyError = null;
    renderHistory();
  }
  loadHistory();
  render();
  if (scroll) panel.scrollIntoView({ block: "nearest" });
}

function closeHistory() {
  const panel = $("history");
  const hadFocus = panel.contains(document.activeElement);
  const name = selected;
  selected = null;
  historyToken++;
  clearTimeout(historyTimer);
  panel.hidden = true;
  render();
  const row = tableRows.get(name);
  if (hadFocus && row !== undefined) row.focus();
}

async function loadHistory() {
  clearTimeout(historyTimer);
  const name = selected;
  if (name === null) return;
  const token = ++historyToken;
  const from = new Date(now() - HISTORY_SPAN_MS).toISOString();
  const path = `unicorns/${encodeURIComponent(name)}/summaries`;
  try {
    const rows = [];
    let next = null;
    for (let n = 0; n < HISTORY_MAX_PAGES; n++) {
      const query = new URLSearchParams({ from, limit: String(HISTORY_PAGE) });
      if (next !== null) query.set("next", next);
      const answer = await getJson(`${path}?${query}`);
      if (token !== historyToken) return;
      if (!Array.isArray(answer.summaries)) throw new ApiError(200, "no summaries in it");
      rows.push(...answer.summaries.filter((r) => Number.isFinite(parseStatusTime(r.StatusTime))));
      next = typeof answer.next === "string" && answer.next !== "" ? answer.next : null;
      if (next === null) break;
    }
    historyRows = rows;
    historyError = null;
  } catch (error) {
    if (token !== historyToken) return;
    historyError = error instanceof ApiError ? error : new ApiError(0, String(error));
  }
  renderHistory();
  if (keyRefused(historyError)) {
    problem = historyError;
    render(); // the form; history resumes when a key is given
    return;
  }
  historyTimer = setTimeout(loadHistory, HISTORY_REFRESH_MS);
}

function windowMs(rows) {
  const lengths = rows
    .map((r) => parseStatusTime(r.WindowEnd) - parseStatusTime(r.StatusTime))
    .filter((ms) => ms > 0)
    .sort((a, b) => a - b);
  return lengths.length ? lengths[Math.floor(lengths.length / 2)] : 60_000;
}

function windowWords(ms) {
  if (ms === 60_000) return "minute";
  if (ms % 60_000 === 0) return `${ms / 60_000}-minute window`;
  return `${Math.round(ms / 1000)}-second window`;
}

function renderHistory() {
  const status = $("history-status");
  const charts = $("history-charts");
  const name = selected;
  if (name === null) return;
  if (historyRows === null) {
    setText(status, historyError ? `History unavailable: ${describeProblem(historyError)} — retrying…` : `Loading the history of ${name}…`);
    charts.hidden = true;
    return;
  }
  if (historyRows.length === 0) {
    setText(
      status,
      `No history yet for ${name}: its first summary appears when its first window closes (a minute on AWS).`,
    );
    charts.hidden = true;
    return;
  }
  setText(status, historyError ? `Showing the last history loaded; ${describeProblem(historyError)} — retrying…` : "");
  charts.hidden = false;
  drawHistory(historyRows);
}

function niceTicks(low, high, count) {
  const raw = (high - low) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) || raw;
  const ticks = [];
  for (let v = Math.ceil(low / step) * step; v <= high + step * 1e-9; v += step) ticks.push(Number(v.toFixed(6)));
  return ticks;
}

const TIME_STEPS = [
  5e3, 10e3, 15e3, 30e3, 60e3, 120e3, 300e3, 600e3, 900e3, 1800e3, 3600e3, 7200e3, 10800e3, 21600e3,
];
const utcClockFormat = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: "UTC",
});

function timeTicks(start, end, count, utc) {
  const step = TIME_STEPS.find((s) => (end - start) / s <= count) || TIME_STEPS[TIME_STEPS.length - 1];
  const ticks = [];
  for (let t = Math.ceil(start / step) * step; t <= end; t += step) ticks.push(t);
  const format = utc ? utcClockFormat : step < 60e3 ? clockFormat : shortClockFormat;
  return { ticks, format: (t) => format.format(new Date(t)) };
}

// `utc`: label times in UTC (the taxi data's days), not this browser's time zone.
function chartFrame(element, domainX, domainY, unit, { height = 170, utc = false, xLabel = "" } = {}) {
  const { width } = sizeOf(element, 480, height);
  const m = { left: 46, right: 12, top: 18, bottom: xLabel ? 38 : 24 };
  element.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const plotWidth = width - m.left - m.right;
  const x = (t) => m.left + ((t - domainX[0]) / (domainX[1] - domainX[0])) * plotWidth;
  const y = (v) => height - m.bottom - ((v - domainY[0]) / (domainY[1] - domainY[0])) * (height - m.top - m.bottom);
  const parts = [];
  const yAxis = svg("g", { class: "axis y-axis" });
  for (const v of niceTicks(domainY[0], domainY[1], 5)) {
    parts.push(svg("line", { class: "grid", x1: m.left, x2: width - m.right, y1: y(v), y2: y(v) }));
    yAxis.append(svg("text", { x: m.left - 6, y: y(v) + 4, "text-anchor": "end" }, String(v)));
  }
  yAxis.append(svg("text", { x: 4, y: 11 }, unit));
  const xAxis = svg("g", { class: "axis x-axis" });
  const { ticks, format } = timeTicks(domainX[0], domainX[1], Math.max(2, Math.floor(plotWidth / 75)), utc);
  for (const t of ticks) {
    xAxis.append(svg("line", { x1: x(t), x2: x(t), y1: height - m.bottom, y2: height - m.bottom + 4 }));
    const anchor = x(t) > width - 24 ? "end" : "middle"; // the last label stays inside
    xAxis.append(svg("text", { x: x(t), y: height - m.bottom + 18, "text-anchor": anchor }, format(t)));
  }
  if (xLabel) xAxis.append(svg("text", { x: m.left + plotWidth / 2, y: height - 3, "text-anchor": "middle" }, xLabel));
  xAxis.append(svg("line", { x1: m.left, x2: width - m.right, y1: height - m.bottom, y2: height - m.bottom }));
  parts.push(yAxis, xAxis);
  return { x, y, parts, width, height, m };
}

function drawHistory(rows) {
  const windowLength = windowMs(rows);
  const words = windowWords(windowLength);
  const end = now();
  const first = parseStatusTime(rows[0].StatusTime);
  const span = Math.min(HISTORY_SPAN_MS, Math.max(HISTORY_MIN_SPAN_MS, end - first + windowLength));
  const domainX = [end - span, end];
  const windows = rows.map((r) => {
    const start = parseStatusTime(r.StatusTime);
    const stop = parseStatusTime(r.WindowEnd);
    return { r, start, stop: Number.isFinite(stop) ? stop : start + windowLength };
  }).filter((w) => w.stop > domainX[0]);
  const range = `${windows.length} ${words}s from ${clock(windows[0] ? windows[0].start : first)} to ${clock(end)}`;

  // Distance per window: bars.
  setText($("chart-distance-title"), `Distance flown per ${words} (metres)`);
  const distances = windows.map((w) => Number(w.r.Distance) || 0);
  const top = Math.max(1, ...distances) * 1.15;
  const d = chartFrame($("chart-distance"), domainX, [0, top], "m");
  for (const w of windows) {
    const x0 = Math.max(d.x(w.start), d.m.left);
    const x1 = d.x(w.stop);
    const value = Number(w.r.Distance) || 0;
    const bar = svg("rect", {
      class: "bar", x: x0 + 0.5, y: d.y(value), width: Math.max(1, x1 - x0 - 1), height: Math.max(0, d.y(0) - d.y(value)),
    });
    bar.append(svg("title", {}, `${clock(w.start)}: ${value.toFixed(0)} m`));
    d.parts.push(bar);
  }
  drawChart("chart-distance", d.parts, `${range}; ${distances.length ? Math.round(Math.min(...distances)) : 0} to ${Math.round(Math.max(0, ...distances))} m per window.`);

  // Health and magic: a band from the lowest to the highest value of each window.
  for (const [id, low, high, label] of [
    ["chart-health", "MinHealthPoints", "MaxHealthPoints", "Health"],
    ["chart-magic", "MinMagicPoints", "MaxMagicPoints", "Magic"],
  ]) {
    setText($(`${id}-title`), `${label} points per ${words}, lowest to highest`);
    const lows = windows.map((w) => Number(w.r[low])).filter(Number.isFinite);
    const highs = windows.map((w) => Number(w.r[high])).filter(Number.isFinite);
    const floor = Math.floor((Math.min(THRESHOLD, ...lows) - 10) / 10) * 10;
    const ceiling = Math.ceil((Math.max(THRESHOLD, ...highs) + 10) / 10) * 10;
    const f = chartFrame($(id), domainX, [Math.max(0, floor), ceiling], "points");
    for (const w of windows) {
      const lo = Number(w.r[low]);
      const hi = Number(w.r[high]);
      if (!Number.isFinite(lo) || !Number.isFinite(hi)) continue;
      const x0 = Math.max(f.x(w.start), f.m.left);
      const x1 = f.x(w.stop);
      const band = svg("rect", {
        class: `band${lo < THRESHOLD ? " is-low" : ""}`,
        x: x0 + 0.5, y: f.y(hi) - 1, width: Math.max(1, x1 - x0 - 1), height: Math.max(2, f.y(lo) - f.y(hi) + 2),
      });
      band.append(svg("title", {}, `${clock(w.start)}: ${lo}–${hi}${lo < THRESHOLD ? " (below the threshold)" : ""}`));
      f.parts.push(band);
    }
    const ty = f.y(THRESHOLD);
    f.parts.push(svg("line", { class: "threshold", x1: f.m.left, x2: f.width - f.m.right, y1: ty, y2: ty }));
    // At the left: the newest windows, at the right, are the ones to see.
    f.parts.push(svg("text", { class: "threshold-label", x: f.m.left + 4, y: ty - 4 }, `${THRESHOLD}: alert threshold`));
    const below = windows.filter((w) => Number(w.r[low]) < THRESHOLD).length;
    drawChart(id, f.parts, `${range}; ${label.toLowerCase()} ${lows.length ? Math.min(...lows) : "–"} to ${highs.length ? Math.max(...highs) : "–"}, ${below} ${below === 1 ? "window" : "windows"} below ${THRESHOLD}.`);
  }
}

function drawChart(id, parts, description) {
  const element = $(id);
  const desc = $(`${id}-desc`);
  setText(desc, description);
  element.replaceChildren(desc, ...parts);
}

// ---------------------------------------------------------------- tabs

const TABS = ["unicorns", "taxi"];
let activeTab = "unicorns";

// `#taxi` or `#taxi/YYYY-MM-DD` open the Taxi tab (today, UTC, or that day); anything else the fleet.
function followHash() {
  const match = /^#taxi(?:\/(.*))?$/.exec(location.hash);
  const day = match !== null && match[1] !== undefined && validDay(match[1]) ? match[1] : null;
  setTaxiDay(day ?? (match !== null ? todayUtc() : taxiDay));
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
  if (link) linkTo(name === "taxi" ? `#taxi/${taxiDay}` : "#unicorns");
  if (name === "taxi") {
    loadTaxi();
  } else {
    clearTimeout(taxiTimer);
    taxiToken++; // an answer on its way is of no use now
    if (changed) {
      render();
      if (selected !== null) renderHistory();
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

// ---------------------------------------------------------------- taxi

const TAXI_REFRESH_MS = 30_000;
const TAXI_RETRY_MS = 5000;
const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;
const TAXI_WINDOW_MS = 15 * 60 * 1000;
const DEMAND_ZONES = 6;
const TAXI_CHART = { height: 260, utc: true, xLabel: "pickup time (UTC)" };
const countFormat = new Intl.NumberFormat(undefined);
const moneyFormat = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });

let taxiDay = todayUtc();
let taxi = null; // the day's answers: {day, peaks, zones, fares: Map(zone -> answer)}; null while loading
let taxiError = null;
let taxiTimer = null;
let taxiToken = 0;
let fareZone = null; // the zone whose fares are charted

function todayUtc() {
  return new Date(now()).toISOString().slice(0, 10);
}

function validDay(day) {
  const start = Date.parse(`${day}T00:00:00Z`);
  return /^\d{4}-\d\d-\d\d$/.test(day) && Number.isFinite(start) && new Date(start).toISOString().startsWith(day);
}

function setTaxiDay(day) {
  taxiDay = day;
  $("taxi-date").value = day;
}

const count = (n) => (Number.isFinite(n) ? countFormat.format(n) : "–");
const dollars = (n) => (Number.isFinite(n) ? `$${moneyFormat.format(n)}` : "–");
const hhmm = (statusTime) => String(statusTime).slice(11, 16); // StatusTimes are UTC already
const utcHhmm = (ms) => new Date(ms).toISOString().slice(11, 16);
const validZone = (row) => row !== null && typeof row === "object" && Number.isInteger(row.zone) && typeof row.name === "string";

function zoneFares(day, zone) {
  const next = new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
  const query = new URLSearchParams({ zone: String(zone), from: `${day}T00:00:00Z`, to: `${next}T00:00:00Z` });
  return getJson(`taxi/fares?${query}`).then((answer) => {
    if (!Array.isArray(answer.points)) throw new ApiError(200, "no points in it");
    return answer;
  });
}

async function loadTaxi() {
  clearTimeout(taxiTimer);
  const day = taxiDay;
  const token = ++taxiToken;
  if (taxi !== null && taxi.day !== day) {
    taxi = null; // another day: say it is loading rather than show the last one's
    taxiError = null;
  }
  renderTaxi();
  try {
    const [peaks, zones] = await Promise.all([
      getJson(`taxi/peaks?${new URLSearchParams({ date: day, top: "3" })}`),
      getJson(`taxi/zones?${new URLSearchParams({ date: day })}`),
    ]);
    if (![peaks.demand, peaks.busiestWindows, zones.zones].every(Array.isArray)) {
      throw new ApiError(200, "no windows or zones in it");
    }
    const rows = zones.zones.filter(validZone);
    const chosen = rows.some((row) => row.zone === fareZone) ? fareZone : rows.length ? rows[0].zone : null;
    const wanted = rows.slice(0, DEMAND_ZONES).map((row) => row.zone);
    if (chosen !== null && !wanted.includes(chosen)) wanted.push(chosen);
    const answers = await Promise.all(wanted.map((zone) => zoneFares(day, zone)));
    if (token !== taxiToken) return;
    taxi = { day, peaks, zones: rows, fares: new Map(wanted.map((zone, i) => [zone, answers[i]])) };
    fareZone = chosen;
    taxiError = null;
  } catch (error) {
    if (token !== taxiToken) return;
    taxiError = error instanceof ApiError ? error : new ApiError(0, String(error));
  }
  const waiting = keyRefused(taxiError);
  renderTaxi();
  if (waiting) {
    problem = taxiError;
    render(); // the form; the tab loads again when a key is given
    return;
  }
  taxiTimer = setTimeout(loadTaxi, taxiError ? TAXI_RETRY_MS : TAXI_REFRESH_MS);
}

function chooseFareZone() {
  fareZone = Number($("fare-zone").value);
  if (taxi !== null && taxi.fares.has(fareZone)) drawFares();
  else loadTaxi(); // a zone outside the chart of demand: its fares are fetched with the rest
}

function renderTaxi() {
  const status = $("taxi-status");
  const next = keyWanted ? ": enter it above." : " — retrying…"; // the key form, or the timer
  const retrying = taxiError ? describeProblem(taxiError) + next : "";
  const empty = taxi !== null && (taxi.zones.length === 0 || taxi.peaks.demand.length === 0);
  $("taxi-empty").hidden = !empty;
  $("taxi-summary").hidden = $("taxi-data").hidden = taxi === null || empty;
  if (taxi === null) {
    setText(status, taxiError ? `Taxi data unavailable: ${retrying}` : `Loading the taxi trips of ${taxiDay}…`);
    return;
  }
  if (empty) {
    setText(status, `No trips recorded for ${taxi.day}.${retrying ? ` ${retrying}` : ""}`);
    return;
  }
  setText(status, retrying ? `Showing the last data loaded; ${retrying}` : "");
  const { peaks } = taxi;
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
  renderZones();
  drawDemand();
  drawFares();
}

function renderZones() {
  $("zones").tBodies[0].replaceChildren(
    ...taxi.zones.map((z) => {
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
  const options = taxi.zones.map((z) => `${z.zone}|${z.name}`).join();
  if (choice.dataset.options !== options) {
    choice.dataset.options = options;
    choice.replaceChildren(...taxi.zones.map((z) => html("option", { value: String(z.zone) }, `${z.name} (zone ${z.zone})`)));
  }
  choice.value = String(fareZone);
}

// The day's span on the time axis: from the hour of its first window to the hour after its last.
function taxiSpan() {
  const starts = taxi.peaks.demand.map((d) => parseStatusTime(d.windowStart)).filter(Number.isFinite);
  const first = Math.min(...starts);
  const last = Math.max(...starts) + TAXI_WINDOW_MS;
  return { first, last, domainX: [Math.floor(first / HOUR_MS) * HOUR_MS, Math.ceil(last / HOUR_MS) * HOUR_MS] };
}

// A line through each window's middle, broken where a window is missing or has no value.
function linePath(points, f) {
  let d = "";
  let previous = NaN;
  for (const { t, v } of points) {
    if (!Number.isFinite(v)) {
      previous = NaN;
      continue;
    }
    d += `${t - previous === TAXI_WINDOW_MS ? "L" : "M"}${f.x(t + TAXI_WINDOW_MS / 2).toFixed(1)} ${f.y(v).toFixed(1)}`;
    previous = t;
  }
  return d;
}

function drawTaxiChart(id, parts, description) {
  const element = $(id);
  const title = $(`${id}-title`);
  const desc = $(`${id}-desc`);
  setText(desc, description);
  element.replaceChildren(title, desc, ...parts);
}

function drawDemand() {
  const { first, last, domainX } = taxiSpan();
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
    const line = svg("path", { class: `line series-${i}`, d: linePath(points, f) });
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
  drawTaxiChart("chart-demand", f.parts, `Trips per 15-minute window ${span} in the ${series.length} busiest zones: ${zones.join("; ")}.`);
}

function drawFares() {
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
  const f = chartFrame($("chart-fares"), taxiSpan().domainX, domainY, "$/mile", TAXI_CHART);
  const line = (field, className) =>
    svg("path", { class: `line ${className}`, d: linePath(points.map((w) => ({ t: w.t, v: w.p[field] })), f) });
  f.parts.push(line("farePerMile", "fare"), line("movingAverageFarePerMile", "average"));
  const shown = points.filter((w) => Number.isFinite(w.p.farePerMile));
  for (const { p, t } of shown) {
    const dot = svg("circle", { class: "dot", cx: f.x(t + TAXI_WINDOW_MS / 2), cy: f.y(p.farePerMile), r: 3 });
    dot.dataset.window = p.windowStart;
    dot.append(svg("title", {}, `${hhmm(p.windowStart)}: ${dollars(p.farePerMile)} a mile, ${count(p.trips)} trips`));
    f.parts.push(dot);
  }
  if (shown.length === 0) {
    drawTaxiChart("chart-fares", f.parts, `No fare per mile for ${name} that day.`);
    return;
  }
  const perMile = shown.map((w) => w.p.farePerMile);
  const lastAverage = points.map((w) => w.p.movingAverageFarePerMile).filter(Number.isFinite).at(-1);
  drawTaxiChart(
    "chart-fares",
    f.parts,
    `${shown.length} windows with trips from ${hhmm(shown[0].p.windowStart)} to ${hhmm(shown.at(-1).p.windowEnd)} UTC; ` +
      `fare per mile ${dollars(Math.min(...perMile))} to ${dollars(Math.max(...perMile))}, ` +
      `its moving average ending at ${dollars(lastAverage)}.`,
  );
}

// ---------------------------------------------------------------- wiring

for (const button of fleetTable.querySelectorAll("thead button")) {
  button.addEventListener("click", () => setSort(button.dataset.sort));
}
$("history-close").addEventListener("click", closeHistory);
$("key-form").addEventListener("submit", useKey);
$("key-forget").addEventListener("click", forgetKey);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && selected !== null && activeTab === "unicorns") closeHistory();
});

let resizeFrame = 0;
const resizes = new ResizeObserver(() => {
  cancelAnimationFrame(resizeFrame);
  resizeFrame = requestAnimationFrame(() => {
    render();
    if (selected !== null) renderHistory();
    if (activeTab === "taxi") renderTaxi();
  });
});
resizes.observe(mapSvg);
resizes.observe($("history-charts"));
resizes.observe($("taxi-data"));

for (const tab of TABS) {
  $(`tab-${tab}`).addEventListener("click", () => showTab(tab, { link: true }));
  $(`tab-${tab}`).addEventListener("keydown", onTabKey);
}
$("taxi-date").addEventListener("change", () => {
  const day = $("taxi-date").value;
  if (!validDay(day) || day === taxiDay) return;
  taxiDay = day;
  linkTo(`#taxi/${day}`);
  loadTaxi();
});
$("fare-zone").addEventListener("change", chooseFareZone);
window.addEventListener("hashchange", followHash);

followHash();
refresh();
