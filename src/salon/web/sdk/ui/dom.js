// Tiny DOM helpers for the meeting page and other UIs built on the SDK (no framework).

/** h("button", {class: "x", dataset: {testid: "y"}, onclick: fn}, "text", child, …) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "style" && typeof value === "object") {
      for (const [name, v] of Object.entries(value)) el.style.setProperty(name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), String(v));
    }
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (value === true) el.setAttribute(key, "");
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace an element's children. */
export function render(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Up to two initials of a display name ("Ada Lovelace" → "AL"). */
export function initials(name) {
  const words = String(name || "?").trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[words.length - 1]] : [words[0] || "?"];
  return letters.map((w) => Array.from(w)[0]).join("").toUpperCase();
}

/** A stable hue for a string (avatar backgrounds). */
export function hue(text) {
  let n = 0;
  for (const ch of String(text || "")) n = (n * 31 + ch.codePointAt(0)) % 360;
  return n;
}
