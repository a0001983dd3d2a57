// The meeting page's words: `message(id)` and `fill(id, vars)` over the catalogue of the
// person's language, falling back to English key by key.
//
// The English catalogue (messages/en.js) is complete; a translation is one more file,
// messages/<language>.js (`export default {"exit.rejoin": "…", …}`), with as many keys
// as are translated: a key it lacks is said in English, so a partial translation never
// leaves a blank. The language is the fragment flag `lang=…` when given, else the
// browser's (navigator.language): `pt-BR` tries messages/pt-br.js, then messages/pt.js.
// No list of languages is kept: the file is looked for, and English is used when there
// is none.

import ENGLISH from "./messages/en.js";

/** The English catalogue, complete (tests compare translations and pages against it). */
export const MESSAGES = ENGLISH;

const TAG = /^[a-z]{2,3}(-[a-z0-9]{2,8})?$/;

/** The language tags to look for, most specific first ("pt-br", "pt"); none for English. */
export function wantedLanguages(fragment = location.hash, browser = navigator.language) {
  const flag = new URLSearchParams(String(fragment).replace(/^#/, "")).get("lang");
  const tag = String(flag || browser || "en").toLowerCase();
  if (!TAG.test(tag)) return [];
  const primary = tag.split("-")[0];
  const tags = tag === primary ? [tag] : [tag, primary];
  return tags.filter((t) => t !== "en" && !t.startsWith("en-"));
}

async function load(tags) {
  for (const tag of tags) {
    try {
      const module = await import(`./messages/${tag}.js`);
      return {tag, words: module.default || {}};
    } catch {
      // no such file (or a broken one): the next tag, then English
    }
  }
  return {tag: "en", words: {}};
}

let chosen = await load(wantedLanguages());
document.documentElement.lang = chosen.tag;

/** The language the page speaks ("en" when no translation was found). */
export const language = () => chosen.tag;

/** Use `words` (a partial catalogue) over English from now on (tests; a language switch). */
export function useCatalogue(words, tag = "xx") {
  chosen = {tag, words: words || {}};
}

/** The text of `id` (or of `fallback` when there is none for `id`), in the chosen
 * language, else in English. */
export function message(id, fallback) {
  const {words} = chosen;
  return words[id] ?? ENGLISH[id] ?? (fallback === undefined ? "" : words[fallback] ?? ENGLISH[fallback] ?? "");
}

/** A close code in words. */
export const closeReason = (code) => message(`close.${code}`, "close.unknown");

/** An error code (a refused join, the SDK's CLOSED or TIMEOUT) in words. */
export const errorReason = (code) => message(`error.${code}`, "error.unknown");

/** Why the meeting ended (`room.ended`'s `reason`) in words. */
export const endedReason = (reason) => message(`ended.${reason}`, "ended.unknown");

/** The text of `id` with `{key}` replaced by `vars[key]` (as text: the caller sets it with textContent). */
export function fill(id, vars = {}) {
  return message(id).replace(/\{(\w+)\}/g, (all, key) => (key in vars ? String(vars[key]) : all));
}

/**
 * Put the catalogue's words into static markup (index.html): `data-msg="key"` sets the
 * element's text, `data-msg-label`, `data-msg-title` and `data-msg-placeholder` its
 * aria-label, title and placeholder. The English in the HTML is only what shows before
 * this runs.
 */
export function applyCatalogue(root = document) {
  for (const el of root.querySelectorAll("[data-msg]")) el.textContent = message(el.dataset.msg);
  for (const [data, attribute] of [["msgLabel", "aria-label"], ["msgTitle", "title"], ["msgPlaceholder", "placeholder"]]) {
    const selector = `[data-${data.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}]`;
    for (const el of root.querySelectorAll(selector)) el.setAttribute(attribute, message(el.dataset[data]));
  }
}
