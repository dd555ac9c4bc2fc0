// Time on the console: the server's clock, the API's status times, and how times read.
//
// Ages ("12 s ago") and the history's hour are measured on the server's clock,
// read from each answer's Date header, so that a browser whose clock is off
// does not call the whole fleet silent.

let clockOffset = 0; // server clock minus this browser's, when they disagree by over 2 s

export function now() {
  return Date.now() + clockOffset;
}

export function noteServerClock(response) {
  const date = Date.parse(response.headers.get("Date") || "");
  if (Number.isNaN(date)) return;
  const offset = date + 500 - Date.now(); // the header has whole seconds
  clockOffset = Math.abs(offset) > 2000 ? offset : 0;
}

export function parseStatusTime(text) {
  // "YYYY-MM-DD HH:MM:SS.mmm", UTC
  if (typeof text !== "string" || !/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/.test(text)) return NaN;
  return Date.parse(`${text.replace(" ", "T")}Z`);
}

export const clockFormat = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
});
export const shortClockFormat = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit", minute: "2-digit", hourCycle: "h23",
});
export const utcClockFormat = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: "UTC",
});

export function clock(ms) {
  return Number.isFinite(ms) ? clockFormat.format(new Date(ms)) : "–";
}

export function ago(ms) {
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
