// The control bar's More menu (testid `btn-more`): what does not fit elsewhere.
//
// On a phone the top bar has no room for the panel tabs (People, Chat, Polls, …): they are
// hidden there (meet.css) and the same panels open from this menu, each item a copy of a
// tab that is shown (so permissions keep deciding which panels there are), with its count.
// On every screen the menu has "Keyboard shortcuts", so mouse and touch users find the
// list too. Escape or a click elsewhere closes it; focus goes back to the More button.

import { h } from "/sdk/v1/ui/dom.js";
import { fill, message } from "/meet/messages.js";

export class MoreMenu {
  /** @param {{button: HTMLButtonElement, tabs: NodeListOf<HTMLElement>}} els
   *  @param {{openPanel: (name: string, opener: HTMLElement) => void, showShortcuts: () => void}} actions */
  constructor({button, tabs}, {openPanel, showShortcuts}) {
    Object.assign(this, {button, tabs: [...tabs], openPanel, showShortcuts});
    this.menu = h("div", {id: "more-menu", class: "menu-popover more-menu", role: "group", hidden: true,
                          "aria-label": message("control.more"), dataset: {testid: "more-menu"}});
    button.after(this.menu);
    button.onclick = () => (this.menu.hidden ? this.show() : this.close(true));
    for (const el of [button, this.menu]) {
      el.addEventListener("keydown", (event) => {
        if (event.key === "Escape" && !this.menu.hidden) { event.preventDefault(); this.close(true); }
      });
    }
    document.addEventListener("pointerdown", (event) => {
      if (!this.menu.hidden && !this.menu.contains(event.target) && !button.contains(event.target)) this.close(false);
    });
    window.addEventListener("resize", () => this.place());
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
    return [...panels, item("more-shortcuts", message("shortcut.title"), () => this.showShortcuts())];
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
  }

  /** Above the control bar, at its right end (or beside it when the bar is a column). */
  place() {
    if (this.menu.hidden) return;
    const bar = this.button.closest(".controls").getBoundingClientRect();
    this.menu.style.bottom = `${Math.round(Math.max(8, window.innerHeight - bar.top + 8))}px`;
  }
}
