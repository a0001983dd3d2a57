// Keyboard shortcuts: one registry the whole page adds to, and the dialog listing them.
//
// `shortcuts.add(key, labelId, fn, {when})` registers a single key (as KeyboardEvent.key:
// "m", "?") with the catalogue id of what it does; `when()` says whether it applies now
// (e.g. only in the meeting). Other parts of the page (raised hands: "h") register through
// the same export, so the "?" dialog always lists every shortcut there is.
//
// Keys are plain letters on purpose: a shortcut never fires while the person types (in an
// input, a textarea, a select, anything editable), nor with Ctrl, Meta or Alt held, so it
// never takes a browser's or the system's own shortcut, and never eats a letter typed in
// the chat. Shift is allowed ("?" is Shift+/ on most layouts). While a modal dialog is
// open (a confirmation), keys are left to it.

import { h } from "/sdk/v1/ui/dom.js";
import { message } from "/meet/messages.js";

/** Is the key event aimed at something the person types into? */
export function typing(target) {
  if (!(target instanceof Element)) return false;
  if (target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']")) return true;
  return Boolean(target.isContentEditable);
}

export class Shortcuts {
  constructor() {
    /** key → {key, labelId, fn, when} */
    this.entries = new Map();
    this.dialog = null;
    this.opener = null;
    this.onKey = (event) => this.handle(event);
  }

  /** Listen on `target` (the document). */
  listen(target = document) {
    target.addEventListener("keydown", this.onKey);
    return this;
  }

  /** Register `key`; a later add of the same key replaces the earlier one. */
  add(key, labelId, fn, {when = () => true} = {}) {
    this.entries.set(key, {key, labelId, fn, when});
    return this;
  }

  remove(key) { this.entries.delete(key); }

  /** The shortcuts that apply now, in the order they were added. */
  list() { return [...this.entries.values()].filter((e) => e.when()); }

  handle(event) {
    if (event.defaultPrevented || event.repeat || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) return;
    const modal = document.querySelector("dialog[open]");
    if (modal && modal !== this.dialog) return;
    const entry = this.entries.get(event.key) || this.entries.get(event.key.toLowerCase());
    if (!entry || !entry.when()) return;
    event.preventDefault();
    entry.fn(event);
  }

  /** The list of shortcuts, as a modal dialog (testid `shortcuts`); Escape or Close shuts
   * it and focus goes back where it was. */
  show() {
    if (!this.dialog) this.dialog = this.build();
    const {dialog} = this;
    if (dialog.open) return;
    const rows = this.list().map((e) => h("tr", {dataset: {testid: "shortcut", key: e.key}},
      h("td", {}, h("kbd", {}, e.key)), h("td", {}, message(e.labelId))));
    dialog.querySelector("tbody").replaceChildren(...rows);
    this.opener = document.activeElement;
    dialog.showModal();
    dialog.querySelector("[data-testid=shortcuts-close]").focus();
  }

  close() {
    if (this.dialog && this.dialog.open) this.dialog.close();
  }

  build() {
    const dialog = h("dialog", {class: "confirm shortcuts", "aria-labelledby": "shortcuts-title", dataset: {testid: "shortcuts"}},
      h("h2", {id: "shortcuts-title", class: "confirm-title"}, message("shortcut.title")),
      h("p", {class: "confirm-text"}, message("shortcut.hint")),
      h("table", {class: "shortcut-list"},
        h("thead", {}, h("tr", {}, h("th", {scope: "col"}, message("shortcut.key")), h("th", {scope: "col"}, message("shortcut.action")))),
        h("tbody")),
      h("div", {class: "confirm-actions"},
        h("button", {type: "button", class: "primary", dataset: {testid: "shortcuts-close"}, onclick: () => this.close()},
          message("shortcut.close"))));
    // Escape closes a modal dialog natively; either way focus goes back to the opener.
    dialog.addEventListener("close", () => {
      const back = this.opener;
      this.opener = null;
      if (back && back.isConnected && !back.closest("[hidden]") && typeof back.focus === "function") back.focus();
    });
    document.body.append(dialog);
    return dialog;
  }
}

/** The page's one registry (app.js adds the defaults; hands.js adds "h"). */
export const shortcuts = new Shortcuts();
