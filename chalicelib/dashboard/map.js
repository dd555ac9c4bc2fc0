// The live map: the fleet in Web Mercator, fitted to it, with trails, markers,
// labels that keep clear of each other, a scale bar, and tiles when configured.
//
// The tile URL template and its credit come from the page (MAP_TILES_URL on
// the server); without them nothing is fetched and the map is the fleet alone.

import { $, setText, sizeOf, svg } from "./elements.js";
import { EARTH_RADIUS, latitudeOf, project } from "./geo.js";
import { condition, lowWords, state } from "./state.js";
import { ago } from "./time.js";

const MIN_SPAN_M = 600; // the map never zooms in further than this many metres across
const MAP_PAD = 40; // pixels kept clear around the fleet
const REFIT_MARGIN = 1.5; // a refit leaves room to fly before the next one
const TILES = document.body.dataset.tiles || "";
const TILES_CREDIT = document.body.dataset.tilesAttribution || "";

const mapSvg = $("map");
const layers = {
  tiles: mapSvg.querySelector(".tiles"),
  trails: mapSvg.querySelector(".trails"),
  markers: mapSvg.querySelector(".markers"),
  scale: mapSvg.querySelector(".scale"),
  credit: mapSvg.querySelector(".attribution"),
};

let view = null; // the projection: {cx, cy, scale, width, height}
let tilesKey = ""; // the view the tiles were laid out for
const markers = new Map(); // name -> {group, key}

// A click on a unicorn's marker (or anything in it) chooses that unicorn.
export function whenMarkerClicked(choose) {
  layers.markers.addEventListener("click", (event) => {
    const marker = event.target.closest(".marker");
    if (marker !== null) choose(marker.dataset.name);
  });
}

// What the scale bar says, or null before there is a view to measure.
export function scaleLabel() {
  return view === null ? null : layers.scale.dataset.label || "";
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

export function renderMap(at) {
  const { width, height } = sizeOf(mapSvg, 800, 500);
  mapSvg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const entries = [...state.fleet.values()];
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
      const look = c.silent ? "is-silent" : c.alerting ? "is-alert" : "is-ok";
      lines.push(svg("polyline", { class: `trail ${look}`, points }));
    }
  }
  layers.trails.replaceChildren(...lines);
}

function renderMarkers(entries, at, width, height) {
  const { selected } = state;
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
    const words = c.silent ? "silent" : c.alerting ? `alert, low ${lowWords(entry.row).join(" and ")}` : "OK";
    setText(marker.group.querySelector("title"), `${name}: ${words}; last seen ${ago(c.age)}`);
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
    const text = state.loaded ? "No unicorn has reported yet" : "Waiting for the fleet…";
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
  const look = c.silent ? "is-silent" : c.alerting ? "is-alert" : "is-ok";
  group.setAttribute("class", `marker ${look}`);
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
