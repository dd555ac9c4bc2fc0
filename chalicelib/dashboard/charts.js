// Time charts in SVG: nice ticks, a frame with both axes, and lines through
// windows, shared by the unicorn's history and the taxi tab.

import { $, setText, sizeOf, svg } from "./elements.js";
import { clockFormat, shortClockFormat, utcClockFormat } from "./time.js";

const TIME_STEPS = [
  5e3, 10e3, 15e3, 30e3, 60e3, 120e3, 300e3, 600e3, 900e3, 1800e3, 3600e3, 7200e3, 10800e3, 21600e3,
];

function niceTicks(low, high, count) {
  const raw = (high - low) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) || raw;
  const ticks = [];
  for (let v = Math.ceil(low / step) * step; v <= high + step * 1e-9; v += step) ticks.push(Number(v.toFixed(6)));
  return ticks;
}

function timeTicks(start, end, count, utc) {
  const step = TIME_STEPS.find((s) => (end - start) / s <= count) || TIME_STEPS[TIME_STEPS.length - 1];
  const ticks = [];
  for (let t = Math.ceil(start / step) * step; t <= end; t += step) ticks.push(t);
  const format = utc ? utcClockFormat : step < 60e3 ? clockFormat : shortClockFormat;
  return { ticks, format: (t) => format.format(new Date(t)) };
}

// The axes and grid of a chart of values over time, sized to its element; the
// caller adds its marks to `parts` and hands them to drawChart.
// `utc`: label times in UTC (the taxi data's days), not this browser's time zone.
export function chartFrame(element, domainX, domainY, unit, { height = 170, utc = false, xLabel = "" } = {}) {
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

// A line through the middle of each `step`-long window, broken where a window
// is missing or has no value.
export function linePath(points, f, step) {
  let d = "";
  let previous = NaN;
  for (const { t, v } of points) {
    if (!Number.isFinite(v)) {
      previous = NaN;
      continue;
    }
    d += `${t - previous === step ? "L" : "M"}${f.x(t + step / 2).toFixed(1)} ${f.y(v).toFixed(1)}`;
    previous = t;
  }
  return d;
}

// The chart `id` becomes `parts`, described in words by its <desc> (`id`-desc);
// a <title> of its own, if it has one, stays.
export function drawChart(id, parts, description) {
  const element = $(id);
  const title = element.querySelector(":scope > title");
  const desc = $(`${id}-desc`);
  setText(desc, description);
  element.replaceChildren(...(title === null ? [] : [title]), desc, ...parts);
}
