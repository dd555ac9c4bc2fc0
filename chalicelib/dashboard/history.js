// The selected unicorn's history: its summaries over the last hour, reloaded
// every few seconds while its panel is open, drawn as distance per window and
// lowest-to-highest health and magic against the alert threshold.

import { ApiError, asApiError, describeProblem, getJson, keyRefused } from "./api.js";
import { chartFrame, drawChart } from "./charts.js";
import { $, setText, svg } from "./elements.js";
import { THRESHOLD, state } from "./state.js";
import { clock, now, parseStatusTime } from "./time.js";

const HISTORY_SPAN_MS = 60 * 60 * 1000;
const HISTORY_MIN_SPAN_MS = 2 * 60 * 1000;
const HISTORY_REFRESH_MS = 5000;
const HISTORY_PAGE = 500;
const HISTORY_MAX_PAGES = 20;

// The panel, which tells `whenKeyWanted(error)` when the API refuses it for
// want of a key, and then waits for `load()` to be called again.
export function createHistory({ whenKeyWanted }) {
  const panel = $("history");
  let rows = null; // the selected unicorn's summaries, oldest first; null while loading
  let error = null;
  let timer = null;
  let token = 0; // the latest load's; an older load's answer is dropped

  // Show the history of `name`, loading it.
  function open(name) {
    const changed = state.selected !== name;
    state.selected = name;
    panel.hidden = false;
    setText($("history-title"), `History of ${name}`);
    if (changed) {
      rows = null;
      error = null;
      render();
    }
    load();
  }

  // Hide the panel and stop loading; returns the unicorn it showed.
  function close() {
    const name = state.selected;
    state.selected = null;
    token++;
    clearTimeout(timer);
    panel.hidden = true;
    return name;
  }

  async function load() {
    clearTimeout(timer);
    const name = state.selected;
    if (name === null) return;
    const mine = ++token;
    const from = new Date(now() - HISTORY_SPAN_MS).toISOString();
    const path = `unicorns/${encodeURIComponent(name)}/summaries`;
    try {
      const loaded = [];
      let next = null;
      for (let n = 0; n < HISTORY_MAX_PAGES; n++) {
        const query = new URLSearchParams({ from, limit: String(HISTORY_PAGE) });
        if (next !== null) query.set("next", next);
        const answer = await getJson(`${path}?${query}`);
        if (mine !== token) return;
        if (!Array.isArray(answer.summaries)) throw new ApiError(200, "no summaries in it");
        loaded.push(...answer.summaries.filter((r) => Number.isFinite(parseStatusTime(r.StatusTime))));
        next = typeof answer.next === "string" && answer.next !== "" ? answer.next : null;
        if (next === null) break;
      }
      rows = loaded;
      error = null;
    } catch (thrown) {
      if (mine !== token) return;
      error = asApiError(thrown);
    }
    render();
    if (keyRefused(error)) {
      whenKeyWanted(error); // the history resumes when a key is given
      return;
    }
    timer = setTimeout(load, HISTORY_REFRESH_MS);
  }

  function render() {
    const status = $("history-status");
    const charts = $("history-charts");
    const name = state.selected;
    if (name === null) return;
    if (rows === null) {
      setText(status, error ? `History unavailable: ${describeProblem(error)} — retrying…` : `Loading the history of ${name}…`);
      charts.hidden = true;
      return;
    }
    if (rows.length === 0) {
      setText(
        status,
        `No history yet for ${name}: its first summary appears when its first window closes (a minute on AWS).`,
      );
      charts.hidden = true;
      return;
    }
    setText(status, error ? `Showing the last history loaded; ${describeProblem(error)} — retrying…` : "");
    charts.hidden = false;
    drawHistory(rows);
  }

  return { open, close, load, render };
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
