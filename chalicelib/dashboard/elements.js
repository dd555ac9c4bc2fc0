// Making, filling and measuring the page's elements.
//
// Every element is built with createElement(NS) and filled with textContent:
// unicorn and zone names come from whoever sends records, so they are never
// markup.

export const $ = (id) => document.getElementById(id);

// The HTML parser puts inline <svg> in the SVG namespace; ask it rather than spell it out.
const SVG_NS = document.querySelector("svg").namespaceURI;

export function html(tag, attributes = {}, text) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  if (text !== undefined) element.textContent = text;
  return element;
}

export function svg(tag, attributes = {}, text) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

// Only a change is written, so that live regions are not read out again and again.
export function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

// An element's size in whole pixels; a hidden one (zero) takes the fallback.
export function sizeOf(element, fallbackWidth, fallbackHeight) {
  const box = element.getBoundingClientRect();
  return {
    width: Math.max(100, Math.round(box.width) || fallbackWidth),
    height: Math.max(100, Math.round(box.height) || fallbackHeight),
  };
}
