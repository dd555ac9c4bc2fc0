// The fleet's lists: the table of every unicorn's latest report, sortable by
// any column, and the list of open alerts. Rows and items are kept from one
// refresh to the next, so that focus and screen readers keep their place.

import { $, html, setText } from "./elements.js";
import { THRESHOLD, condition, lowWords, state } from "./state.js";
import { ago, clock, now, parseStatusTime } from "./time.js";

const fleetTable = $("fleet");
const fleetBody = fleetTable.tBodies[0];
const alertList = $("alerts");

const SORT_KEYS = {
  name: (e) => e.row.Name,
  state: (e, c) => (c.silent ? 2 : c.alerting ? 0 : 1),
  speed: (e) => (e.speed === null ? -1 : e.speed),
  health: (e) => Number(e.row.HealthPoints),
  magic: (e) => Number(e.row.MagicPoints),
  seen: (e, c) => (Number.isFinite(c.age) ? c.age : Infinity),
};

let sort = { key: "name", direction: 1 };
const tableRows = new Map(); // name -> tr
const alertItems = new Map(); // name -> li

// A unicorn is chosen by its row (a click, Enter or Space) or its name in the alert list.
export function whenUnicornChosen(choose) {
  fleetBody.addEventListener("click", (event) => {
    const tr = event.target.closest("tr");
    if (tr !== null) choose(tr.dataset.name, { scroll: true });
  });
  fleetBody.addEventListener("keydown", (event) => {
    const tr = event.target.closest("tr");
    if (tr !== null && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      choose(tr.dataset.name);
    }
  });
  alertList.addEventListener("click", (event) => {
    const button = event.target.closest(".alert-name");
    if (button !== null) choose(button.parentElement.dataset.name, { scroll: true });
  });
}

// The table's row of a unicorn, if it has one.
export function rowOf(name) {
  return tableRows.get(name);
}

function sortedEntries(at) {
  const keyOf = SORT_KEYS[sort.key];
  const rows = [...state.fleet.values()].map((e) => ({ e, k: keyOf(e, condition(e, at)) }));
  rows.sort((a, b) => {
    const order = typeof a.k === "string" ? a.k.localeCompare(b.k) : a.k - b.k;
    return sort.direction * order || a.e.row.Name.localeCompare(b.e.row.Name);
  });
  return rows.map((r) => r.e);
}

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

export function renderTable(at) {
  const entries = sortedEntries(at);
  for (const entry of entries) {
    const name = entry.row.Name;
    let tr = tableRows.get(name);
    if (tr === undefined) {
      tr = makeRow(name);
      tableRows.set(name, tr);
    }
    const c = condition(entry, at);
    const [, stateTd, speed, health, magic, seen] = tr.cells;
    stateCell(stateTd, entry, c);
    setText(speed, entry.speed === null ? "–" : entry.speed.toFixed(1));
    vitalCell(health, entry.row.HealthPoints);
    vitalCell(magic, entry.row.MagicPoints);
    setText(seen, ago(c.age) + (c.silent ? " · silent" : ""));
    tr.classList.toggle("is-silent", c.silent);
    tr.classList.toggle("is-selected", state.selected === name);
  }
  for (const name of [...tableRows.keys()]) if (!state.fleet.has(name)) tableRows.delete(name);
  const wanted = entries.map((e) => tableRows.get(e.row.Name));
  const current = [...fleetBody.rows];
  if (wanted.length !== current.length || wanted.some((tr, i) => tr !== current[i])) {
    const focused = document.activeElement;
    fleetBody.replaceChildren(...wanted);
    // Moving a focused row blurs it; a keyboard user must not lose their place.
    if (wanted.includes(focused) && document.activeElement !== focused) focused.focus({ preventScroll: true });
  }
}

// Sort by a column; the same column again turns the order round.
export function setSort(key) {
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

export function renderAlerts(at) {
  const { alerts } = state;
  setText($("alert-count"), alerts.length ? `(${alerts.length})` : "");
  $("alerts-empty").hidden = alerts.length > 0;
  const wanted = [];
  for (const row of alerts) {
    let item = alertItems.get(row.Name);
    if (item === undefined) {
      item = html("li");
      item.dataset.name = row.Name;
      item.append(html("button", { type: "button", class: "alert-name" }, row.Name), html("span", { class: "alert-detail" }));
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
  const current = [...alertList.children];
  if (wanted.length !== current.length || wanted.some((li, i) => li !== current[i])) {
    const focused = document.activeElement;
    alertList.replaceChildren(...wanted);
    if (focused && wanted.some((li) => li.contains(focused)) && document.activeElement !== focused) {
      focused.focus({ preventScroll: true });
    }
  }
}
