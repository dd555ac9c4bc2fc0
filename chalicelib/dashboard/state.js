// What more than one part of the console reads: the fleet as last reported, the
// open alerts, whether a refresh has worked yet and which unicorn is selected;
// and the rules for reading a unicorn's condition off its latest report.
//
// The parts share only the `state` object below. The refresh loop (app.js)
// writes the fleet (through applyFleet), the alerts and `loaded`; the history
// panel (history.js) writes `selected`; the map and the lists only read.

import { metresBetween } from "./geo.js";
import { parseStatusTime } from "./time.js";

const TRAIL_POINTS = 120; // positions kept per unicorn, one per refresh at most
const SILENT_AFTER_MS = 30_000;
const VITAL_WORDS = { HealthPoints: "health", MagicPoints: "magic" };

// The vitals threshold the server renders into the page.
export const THRESHOLD = Number(document.body.dataset.threshold) || 100;

export const state = {
  fleet: new Map(), // name -> {row, time, trail: [{lat, lon, t}], speed}
  alerts: [], // the open alerts' rows
  loaded: false, // a refresh has worked at least once
  selected: null, // the unicorn whose history is shown
};

export function validStatus(row) {
  return (
    row !== null && typeof row === "object" && typeof row.Name === "string" && row.Name !== "" &&
    Number.isFinite(row.Latitude) && Number.isFinite(row.Longitude) && Math.abs(row.Latitude) < 85
  );
}

// The latest rows of the fleet: each unicorn's trail grows and its speed follows; the gone are forgotten.
export function applyFleet(rows) {
  const fleet = state.fleet;
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

export function condition(entry, at) {
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

// The vitals a row says are low, as words: its incident's and its latest report's.
export function lowWords(row) {
  const words = vitalWords(row.Incident && row.Incident.Vitals).concat(vitalWords(row.LowVitals));
  return [...new Set(words)];
}
