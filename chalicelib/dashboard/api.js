// The API: JSON answers from its read routes, and the API key they may want.
//
// Paths are relative to the page's <base href>, which the server sets to the
// API's own path. Deployed, the routes want an API key: a 403 (API Gateway's
// "Forbidden") means a missing or wrong one. The key is kept in sessionStorage
// (this tab only) and sent as the `x-api-key` header, never in a URL. Locally
// (`make up`) nothing is refused, so nothing is asked.

import { noteServerClock } from "./time.js";

const REQUEST_TIMEOUT_MS = 8000;
const KEY_STORAGE = "wildrydes.apiKey";
const KEY_SHAPE = /^[\x21-\x7e]{1,512}$/; // printable ASCII without spaces: a header value

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status; // 0: no answer at all
  }
}

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
let wanted = false; // the API refused a request for want of a (valid) key

export const validKey = (text) => KEY_SHAPE.test(text);
export const hasKey = () => apiKey !== null;
export const keyWanted = () => wanted;

export function useKey(key) {
  apiKey = key;
  storeKey(key);
  wanted = false;
}

export function forgetKey() {
  apiKey = null;
  storeKey(null);
}

// A 403 means a missing or wrong key: the caller asks for one, and stops polling until it is given.
export function keyRefused(error) {
  if (!(error instanceof ApiError) || error.status !== 403) return false;
  error.refusedKey = apiKey !== null;
  if (apiKey !== null) forgetKey(); // a refused key is of no further use
  wanted = true;
  return true;
}

export async function getJson(path) {
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

// Anything a load threw, as an ApiError; what is not one (a script error) counts as no answer.
export function asApiError(error) {
  return error instanceof ApiError ? error : new ApiError(0, String(error));
}

export function describeProblem(error) {
  if (error.status === 0) return "API unreachable";
  if (error.status === 403) {
    return error.refusedKey ? "The API refused this API key" : "The API needs an API key";
  }
  if (error.status >= 500) return `The API answered with an error (${error.status}: ${error.message})`;
  if (error.status >= 400) return `The API refused the request (${error.status}: ${error.message})`;
  return `The API's answer was not understood (${error.message})`;
}
