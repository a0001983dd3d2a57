// The meeting page's livestream indicator and its Go live / End livestream control.
//
// Everyone in the meeting sees "Live" (or "Going live…" while INVOKED) while the meeting is
// livestreamed, and screen readers hear when it starts and ends. People whose preset has
// `can_livestream` get Go live / End livestream in the control bar (not the LIVESTREAM
// viewers, who watch the stream itself: livestream_player.js). The server checks
// `can_livestream` on every request; a refusal shows as a toast with its code. The state
// is the SDK's (`client.livestream`, the `livestream.updated` event); this view paints it.
// Protocol: docs/protocol.md, "Livestreams"; the stream itself: docs/livestreaming.md.

import { SalonError } from "/sdk/v1/salon.js";
import { fill, message } from "/meet/messages.js";

/** Whether this peer's preset may livestream (the server decides; this only hides buttons). */
export function mayLivestream(client) {
  return Boolean(client.self && client.self.permissions && client.self.permissions.can_livestream);
}

export class LivestreamControls {
  /**
   * @param {{indicator: HTMLElement, announce: HTMLElement, button: HTMLButtonElement}} els
   * @param {object} client a SalonClient
   * @param {{toast: Function, watching: boolean}} ui `watching`: this page plays the
   *   stream (a LIVESTREAM viewer), so it has no control of its own
   */
  constructor(els, client, {toast, watching}) {
    this.els = els;
    this.client = client;
    this.toast = toast;
    this.watching = watching;
    this.busy = false;
    this.shown = undefined;  // the status last painted (none yet)
    els.button.onclick = (event) => { event.preventDefault(); this.toggle(); };
    for (const event of ["livestream.updated", "self.updated", "joined", "resumed"]) {
      client.on(event, () => this.paint());
    }
    this.paint();
  }

  get status() {
    const view = this.client.livestream;
    return view ? view.status : null;
  }

  toggle() {
    return this.send(this.status ? "stop" : "start",
                     () => this.status ? this.client.stopLivestream() : this.client.startLivestream());
  }

  async send(action, request) {
    if (this.busy) return null;
    this.busy = true;
    this.paint();
    try {
      return await request();
    } catch (error) {
      const code = error instanceof SalonError ? error.code : "ERROR";
      const text = code === "FORBIDDEN" ? message("livestream.refused.forbidden")
        : code === "CONFLICT" && action === "start" ? message("livestream.refused.already")
        : error instanceof SalonError ? error.reason : String((error && error.message) || error);
      const el = this.toast(fill("livestream.refused", {text}));
      if (el) {
        el.dataset.code = code;
        el.classList.add("error");
      }
      return null;
    } finally {
      this.busy = false;
      this.paint();
    }
  }

  paint() {
    const {indicator, announce, button} = this.els;
    const status = this.status;
    indicator.hidden = !status;
    indicator.dataset.status = status || "";
    indicator.textContent = status ? message(`livestream.status.${status}`) : "";
    if (this.shown !== undefined && Boolean(this.shown) !== Boolean(status)) {
      announce.textContent = message(status ? "livestream.said.started" : "livestream.said.ended");
    }
    this.shown = status;
    button.hidden = this.watching || !mayLivestream(this.client);
    // aria-disabled, not disabled: a disabled button would drop the keyboard focus.
    button.setAttribute("aria-disabled", String(this.busy));
    button.dataset.live = String(Boolean(status));
    button.textContent = message(status ? "livestream.stop" : "livestream.start");
    button.title = message(status ? "livestream.stop.title" : "livestream.start.title");
  }
}
