// The control bar's More menu (testid `btn-more`): what does not fit elsewhere.
//
// On a phone the top bar has no room for the panel tabs (People, Chat, Polls, …): they are
// hidden there (meet.css) and the same panels open from this menu, each item a copy of a
// tab that is shown (so permissions keep deciding which panels there are), with its count.
// On every screen the menu has "Keyboard shortcuts", so mouse and touch users find the
// list too. Escape or a click elsewhere closes it; focus goes back to the More button.
//
// The control bar never overflows the window: controls marked `data-collapse="N"` move
// into this menu, lowest N first, while the bar is wider than the window (a host's many
// controls on a laptop, any bar on a phone on its side), and come back to their place when
// there is room again. The controls themselves move (not copies), so their state, labels,
// handlers and test ids stay theirs.

import { h } from "/sdk/v1/ui/dom.js";
import { fill, message } from "/meet/messages.js";

/** Two rows of 48 px controls with their gap and padding: a wrapping bar may be no taller. */
const MAX_BAR_HEIGHT = 124;

/** What moves into More first when the control bar is too wide (lowest first); the rest
 * (microphone, camera, screen, stage, More, Leave) always stay in the bar. */
export const COLLAPSE_ORDER = [".controls .layout-switch", "#btn-settings", "#btn-captions", "#btn-record-pause",
                               "#btn-live", "#btn-host", "#btn-record", "#btn-react", "#btn-hand"];

export class MoreMenu {
  /** @param {{button: HTMLButtonElement, tabs: NodeListOf<HTMLElement>}} els
   *  @param {{openPanel: (name: string, opener: HTMLElement) => void, showShortcuts: () => void}} actions */
  constructor({button, tabs}, {openPanel, showShortcuts}) {
    Object.assign(this, {button, tabs: [...tabs], openPanel, showShortcuts});
    this.menu = h("div", {id: "more-menu", class: "menu-popover more-menu", role: "group", hidden: true,
                          "aria-label": message("control.more"), dataset: {testid: "more-menu"}});
    button.after(this.menu);
    button.onclick = () => (this.menu.hidden ? this.show() : this.close(true));
    // Captured on the menu: a control moved into it never keeps Escape from closing it.
    for (const el of [button, this.menu]) {
      el.addEventListener("keydown", (event) => {
        if (event.key === "Escape" && !this.menu.hidden) { event.preventDefault(); event.stopPropagation(); this.close(true); }
      }, el === this.menu);
    }
    document.addEventListener("pointerdown", (event) => {
      if (!this.menu.hidden && !this.menu.contains(event.target) && !button.contains(event.target)) this.close(false);
    });
    window.addEventListener("resize", () => this.place());
    this.bar = button.closest(".controls");
    this.held = h("div", {class: "more-controls", hidden: true, dataset: {testid: "more-controls"}});
    this.menu.append(this.held);  // in the document from the start: a control moved here is still found
    // A moved control that opens something of its own (the reactions picker, the host
    // menu, the settings sheet) closes More first: its popup takes More's place.
    this.held.addEventListener("click", (event) => {
      if (event.target.closest("[aria-expanded], [aria-haspopup]")) this.close(false);
    }, true);
    this.homes = new Map();  // a collapsed control -> the marker where it sits in the bar
    this.fitSoon = () => { if (!this.queued) { this.queued = true; requestAnimationFrame(() => this.fit()); } };
    new ResizeObserver(this.fitSoon).observe(this.bar);
    this.watch = new MutationObserver(this.fitSoon);
    for (const el of [this.bar, this.held]) {
      this.watch.observe(el, {childList: true, subtree: true, attributes: true, attributeFilter: ["hidden"]});
    }
    // Where the tabs are hidden, unread chat shows on More (meet.css shows it there only).
    this.unread = h("span", {class: "count more-unread", dataset: {testid: "more-unread"}});
    button.append(this.unread);
    const chatCount = this.tabs.map((tab) => tab.dataset.panel === "chat" && tab.querySelector(".count")).find(Boolean);
    if (chatCount) {
      const paint = () => {
        const count = chatCount.textContent;
        this.unread.replaceChildren(...(count ? [h("span", {"aria-hidden": "true"}, count),
                                                 h("span", {class: "sr-only"}, fill("chat.unread", {count}))] : []));
      };
      new MutationObserver(paint).observe(chatCount, {childList: true, characterData: true, subtree: true});
      paint();
    }
  }

  items() {
    const item = (testid, text, fn, extra = "") => h("button", {type: "button", class: `menu-item ${extra}`, dataset: {testid},
      onclick: () => { this.close(true); fn(); }}, text);
    const panels = this.tabs.filter((tab) => !tab.hidden).map((tab) => {
      const count = tab.querySelector(".count");
      const name = tab.dataset.panel;
      const words = message(`panel.${name}`);
      const button = item(`more-${name}`, words, () => this.openPanel(name, this.button), "more-panel");
      if (count && count.textContent) button.append(" ", h("span", {class: "count"}, count.textContent));
      button.setAttribute("aria-pressed", tab.getAttribute("aria-pressed") === "true" ? "true" : "false");
      return button;
    });
    return [this.held, ...panels, item("more-shortcuts", message("shortcut.title"), () => this.showShortcuts())];
  }

  /** Mark the controls that may collapse (once every part of the page has made its own). */
  collapsible() {
    COLLAPSE_ORDER.forEach((selector, i) => {
      for (const el of document.querySelectorAll(selector)) el.dataset.collapse = String(i + 1);
    });
    this.fitSoon();
  }

  /**
   * Move the least needed shown controls here while the bar overflows; when it has room
   * again, bring them back one at a time, most needed first, as long as the bar still fits.
   * Only what must move moves (a moved control loses focus). While the menu is open nothing
   * comes back out of it (the menu would change under the pointer), but the bar still never
   * overflows: a control that appears then (Go live, once the join says so) moves in.
   */
  fit() {
    this.queued = false;
    const open = !this.menu.hidden;  // what may come back does so on closing
    const shown = (el) => !el.hidden && getComputedStyle(el).display !== "none";
    // Too wide; or, where the bar wraps (an upright phone), more than two rows.
    const overflows = () => this.bar.scrollWidth > this.bar.clientWidth + 1 || this.bar.offsetHeight > MAX_BAR_HEIGHT;
    const order = (el) => Number(el.dataset.collapse);
    if (overflows()) {
      const candidates = [...this.bar.querySelectorAll("[data-collapse]")]
        .filter((el) => !this.homes.has(el) && shown(el)).sort((a, b) => order(a) - order(b));
      for (const control of candidates) {
        if (!overflows()) break;
        this.hold(control);
      }
    } else if (!open) {
      const held = [...this.homes.keys()].sort((a, b) => order(b) - order(a));
      for (const control of held) {
        this.homes.get(control).replaceWith(control);
        this.homes.delete(control);
        if (overflows()) { this.hold(control); break; }
      }
    }
    this.held.hidden = !this.homes.size;
    if (open) this.place();
    this.watch.takeRecords();  // its own moves are not changes to fit again for
  }

  hold(control) {
    const had = control.contains(document.activeElement);
    const home = document.createComment(control.id || "control");
    control.replaceWith(home);
    this.homes.set(control, home);
    this.held.append(control);
    if (had) this.button.focus();  // the keyboard stays where the control went
  }


  show() {
    this.menu.replaceChildren(...this.items());
    this.menu.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this.place();
    const first = [...this.menu.querySelectorAll("button")].find((b) => b.offsetParent !== null);
    if (first) first.focus();
  }

  close(focusButton) {
    if (this.menu.hidden) return;
    this.menu.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    if (focusButton) this.button.focus();
    this.fitSoon();
  }

  /** Above the control bar, at its right end (or beside it when the bar is a column). */
  place() {
    if (this.menu.hidden) return;
    const bar = this.button.closest(".controls").getBoundingClientRect();
    this.menu.style.bottom = `${Math.round(Math.max(8, window.innerHeight - bar.top + 8))}px`;
  }
}
