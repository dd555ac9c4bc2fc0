// The API key form: shown while the API refuses requests for want of a key,
// and, while a key is in use, the note that offers to forget it.

import { hasKey, keyWanted, validKey } from "./api.js";
import { $, setText } from "./elements.js";

// `problem`: the refusal that asked for a key, which says whether one was refused.
export function renderKeyForm(problem) {
  const panel = $("key-panel");
  const wasHidden = panel.hidden;
  const wanted = keyWanted();
  panel.hidden = !wanted;
  $("key-status").hidden = wanted || !hasKey();
  if (wanted && wasHidden) {
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

// The key the form was submitted with; null, the form saying why, when it cannot be one.
export function takeKey(event) {
  event.preventDefault(); // never a navigation: the key must not reach a URL
  const input = $("key-input");
  const key = input.value.trim();
  if (!validKey(key)) {
    setText($("key-error"), "An API key is one word of letters, digits and symbols, no spaces.");
    input.focus();
    return null;
  }
  setText($("key-error"), "");
  input.value = "";
  return key;
}
