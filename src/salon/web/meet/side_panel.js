// The side panel's frame: its heading, its Close button, Escape, and where focus goes.
//
// On a wide screen the panel sits beside the stage. On a phone or a landscape phone
// (meet.css, the same media query as SHEET below) it is a sheet over the meeting: the
// whole width, a visible Close (testid `panel-close`), Escape closes it; focus moves into
// it when it opens and back to what opened it (a tab, the More button, a shortcut's
// target) when it closes, so a keyboard or screen-reader user is never left on a
// control hidden behind the sheet.

/** When the side panel is a sheet (keep in step with meet.css). */
export const SHEET = "(max-width: 800px), (max-height: 500px)";

export class SidePanel {
  /** @param {{side: HTMLElement, title: HTMLElement, close: HTMLButtonElement}} els
   *  @param {{close: () => void}} actions  `close`: what closes the panel (app.js showPanel(null)) */
  constructor({side, title, close}, {close: closePanel}) {
    Object.assign(this, {side, title, closeButton: close});
    this.opener = null;
    this.open = null;
    window.matchMedia(SHEET).addEventListener("change", () => this.cover());
    close.onclick = () => closePanel();
    side.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || event.defaultPrevented) return;
      event.preventDefault();
      closePanel();
    });
  }

  get isSheet() { return window.matchMedia(SHEET).matches; }

  /** While a sheet is open, what it covers takes no focus and no clicks (Tab stays in it). */
  cover() {
    const covered = Boolean(this.open) && this.isSheet;
    for (const el of document.querySelectorAll("#meeting > .topbar, #meeting .stage, #meeting > .controls")) el.inert = covered;
  }

  /** Before the panel changes to `name`: note where focus is to go back to. */
  before(name, opener) {
    if (name && !this.open) {
      const active = document.activeElement;
      this.opener = opener || (active && !this.side.contains(active) ? active : null);
    }
  }

  /** After the panel changed to `name` (null: closed), with its heading `title`. */
  after(name, title) {
    const wasOpen = this.open;
    this.open = name;
    this.side.dataset.panel = name || "";
    this.cover();
    if (name) {
      this.title.textContent = title;
      // A sheet covers the meeting: focus goes into it (chat has already focused its box).
      if (this.isSheet && !this.side.contains(document.activeElement)) this.closeButton.focus();
      return;
    }
    if (!wasOpen) return;
    const back = this.opener;
    this.opener = null;
    const focusLost = !document.activeElement || document.activeElement === document.body || this.side.contains(document.activeElement);
    if (focusLost && back && back.isConnected && back.offsetParent !== null) back.focus();
  }
}
