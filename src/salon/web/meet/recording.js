// The meeting page's recording indicator and controls.
//
// Everyone sees the indicator while the meeting has an active recording: a red dot and
// "Recording" (RECORDING), "Recording paused" (PAUSED), "Starting recording…" (INVOKED),
// and screen readers hear when it starts, pauses, resumes and stops. People whose preset
// has `can_record` get Record / Stop recording and Pause / Resume in the control bar;
// starting needs no confirmation. The server checks `can_record` on every request (the
// buttons are only left out for others), and a refusal shows as a toast with its code.
// The state is the SDK's (`client.recordings`, `client.recordingStatus`, the
// `recordings.changed` event); this view only paints it. Protocol: docs/protocol.md,
// "Recordings".

import { SalonError } from "/sdk/v1/salon.js";
import { fill, message } from "/meet/messages.js";

/** The indicator's words for a status: the catalogue's `recording.status.<STATUS>`. */
const statusWords = (status) => message(`recording.status.${status}`);

/** Whether this peer's preset may record (the server decides; this only hides buttons). */
export function mayRecord(client) {
  return Boolean(client.self && client.self.permissions && client.self.permissions.can_record);
}

/** What to tell a screen reader when the indicator goes from `before` to `after`. */
function announcement(before, after) {
  if (before === after) return "";
  if (before === undefined) {  // entering the meeting (or the page): what is going on
    return after ? message(`recording.said.now.${after}`) : "";
  }
  if (!after) return message("recording.said.stopped");
  if (after === "INVOKED") return before ? "" : message("recording.said.now.INVOKED");
  if (after === "PAUSED") return message("recording.said.paused");
  if (before === "PAUSED") return message("recording.said.resumed");
  return message("recording.said.started");
}

export class RecordingControls {
  /**
   * @param {{indicator: HTMLElement, label: HTMLElement, announce: HTMLElement,
   *          record: HTMLButtonElement, pause: HTMLButtonElement}} els
   * @param {object} client a SalonClient
   * @param {{toast: Function}} ui `toast(text)` shows a notice and returns its element
   */
  constructor(els, client, {toast}) {
    this.els = els;
    this.client = client;
    this.toast = toast;
    this.busy = false;    // a request of ours is on its way: clicks do nothing until it is answered
    this.shown = undefined;  // the status the indicator last showed (none yet)
    els.record.onclick = (event) => { event.preventDefault(); this.toggle(); };
    els.pause.onclick = (event) => { event.preventDefault(); this.pauseOrResume(); };
    client.on("recordings.changed", () => this.paint());
    client.on("self.updated", () => this.paint());  // can_record may change mid-session
    this.paint();
  }

  get status() {
    return this.client.recordingStatus;
  }

  /** Record, or stop every active recording. */
  toggle() {
    return this.status ? this.stop() : this.start();
  }

  pauseOrResume() {
    if (this.status === "PAUSED") return this.resume();
    if (this.status === "RECORDING") return this.pause();
    return Promise.resolve(null);
  }

  start() { return this.send("start", () => this.client.startRecording()); }
  stop() { return this.send("stop", () => this.client.stopRecording()); }
  pause() { return this.send("pause", () => this.client.pauseRecording()); }
  resume() { return this.send("resume", () => this.client.resumeRecording()); }

  /** One request; a refusal becomes a toast (resolves with null then). */
  async send(action, request) {
    if (this.busy) return null;
    this.busy = true;
    this.paint();
    try {
      return await request();
    } catch (error) {
      this.refused(action, error);
      return null;
    } finally {
      this.busy = false;
      this.paint();
    }
  }

  refused(action, error) {
    const code = error instanceof SalonError ? error.code : "ERROR";
    let text;
    if (code === "FORBIDDEN") text = message("recording.refused.forbidden");
    else if (code === "RATE_LIMITED") {
      const secs = Math.max(1, Math.ceil((error.retryAfterMs || 1000) / 1000));
      text = fill("recording.refused.rate", {secs});
    } else if (code === "CONFLICT") {
      text = message(action === "start" ? "recording.refused.already" : `recording.refused.none.${action}`);
    } else text = error instanceof SalonError ? error.reason : String((error && error.message) || error);
    const el = this.toast(fill("recording.refused", {text}));
    if (el) {
      el.dataset.code = code;
      el.classList.add("error");
    }
  }

  paint() {
    const {indicator, label, announce, record, pause} = this.els;
    const status = this.status;
    indicator.hidden = !status;
    indicator.dataset.status = status || "";
    label.textContent = status ? statusWords(status) : "";
    const said = announcement(this.shown, status);
    if (said) announce.textContent = said;
    this.shown = status;

    const may = mayRecord(this.client);
    record.hidden = !may;
    // aria-disabled, not disabled: a disabled button would drop the keyboard focus.
    record.setAttribute("aria-disabled", String(this.busy));
    record.dataset.recording = String(Boolean(status));
    record.textContent = message(status ? "recording.stop" : "recording.record");
    record.title = message(status ? "recording.stop.title" : "recording.record.title");
    pause.hidden = !may || !["RECORDING", "PAUSED"].includes(status);
    pause.setAttribute("aria-disabled", String(this.busy));
    pause.textContent = message(status === "PAUSED" ? "recording.resume" : "recording.pause");
    pause.dataset.status = status || "";
  }
}
