// The meeting page's live captions.
//
// The last few captions show over the bottom of the stage as "Name: text" (your own as
// "You: text"): an utterance's interim text, lighter, is replaced in place by the next
// interim and then by its final text, which fades out a few seconds later. Screen
// readers hear the final captions only, from a polite live log (never every interim).
// A "Captions" toggle in the control bar (aria-pressed) shows while anyone in the meeting
// is captioned; captions start on, and the choice is kept in localStorage. Turned off,
// nothing is drawn or announced. Peers who are captioned (PeerView `transcribed`) get a
// "CC" badge on their tile, so everyone knows. The state is the SDK's
// (`client.transcripts`, `client.interimTranscripts`, the `transcripts.changed` event);
// this view only paints it. Caption text is only ever set as text, never as HTML.
// Protocol: docs/protocol.md, "Captions".

import { h } from "/sdk/v1/ui/dom.js";
import { fill, message } from "/meet/messages.js";

const STORAGE_KEY = "salon.captions";
const LINES = 3;          // utterances on screen at once
const ANNOUNCED = 5;      // finals kept in the live log
const FADE_MS = 5000;     // a final line stays this long
const STALE_MS = 15000;   // an interim line nobody finalizes (the transcriber stopped)
const FADING_MS = 600;    // the fade itself (meet.css .caption.fading)

/** The "CC" badge for a captioned peer's tile (null for others). */
/**
 * The "Transcribed" notice in the top bar: shown while the meeting keeps every voice for
 * a transcript made when it ends (RoomState `meeting.transcribe_on_end`), so nobody is
 * transcribed without knowing.
 */
export function paintTranscribed(el, client) {
  const meeting = client.room && client.room.meeting;
  el.hidden = !(meeting && meeting.transcribe_on_end);
}

/** What the "meeting has ended" screen adds when a transcript is being made of it. */
export function afterwords(client) {
  const meeting = client.room && client.room.meeting;
  return meeting && meeting.transcribe_on_end
    ? message("captions.afterwords")
    : "";
}

export function captionBadge(peer, isSelf = false) {
  if (!peer || !peer.transcribed) return null;
  const title = isSelf ? message("captions.on_for_you") : fill("captions.on_for", {name: peer.name});
  return h("span", {class: "cc-badge", title, role: "img", "aria-label": title,
                    dataset: {testid: "tile-cc"}}, "CC");
}

function remembered(storage) {
  try {
    return storage.getItem(STORAGE_KEY) !== "off";
  } catch (_) {
    return true;  // storage blocked: captions on, not remembered
  }
}

export class Captions {
  /**
   * @param {{region: HTMLElement, lines: HTMLElement, announce: HTMLElement,
   *          toggle: HTMLButtonElement}} els `region`: the caption box (aria-hidden),
   *   shown while it has lines; `lines`: where they are drawn; `announce`: the polite live log
   * @param {object} client a SalonClient
   */
  constructor(els, client, {storage = window.localStorage} = {}) {
    this.els = els;
    this.client = client;
    this.storage = storage;
    this.on = remembered(storage);
    this.fadeMs = FADE_MS;
    this.staleMs = STALE_MS;
    this.lines = new Map();  // utterance id -> {el, text, final, timer}
    els.toggle.onclick = (event) => { event.preventDefault(); this.setOn(!this.on); };
    client.on("transcripts.changed", ({transcript}) => this.changed(transcript));
    for (const event of ["peer.joined", "peer.left", "peer.updated", "self.updated", "self.admitted",
                         "meeting.changed", "resumed"]) {
      client.on(event, () => this.paintToggle());
    }
    this.paintToggle();
  }

  /** Show or hide captions (and remember it). Turned on, interim lines in progress show. */
  setOn(on) {
    this.on = Boolean(on);
    try {
      this.storage.setItem(STORAGE_KEY, this.on ? "on" : "off");
    } catch (_) { /* not remembered */ }
    this.clear();
    if (this.on) for (const caption of this.client.interimTranscripts.values()) this.draw(caption);
    this.paintToggle();
  }

  paintToggle() {
    const {toggle} = this.els;
    toggle.hidden = !this.client.captionsAvailable;
    toggle.setAttribute("aria-pressed", String(this.on));
    toggle.title = message(this.on ? "captions.turn_off" : "captions.turn_on");
    this.els.region.hidden = !this.on || !this.lines.size;
  }

  /** After the SDK's state changed: one caption came, or some were dropped. */
  changed(caption) {
    if (!this.on) return;
    if (caption) {
      this.draw(caption);
      if (!caption.isPartialTranscript) this.announce(caption);
      return;
    }
    // Interims that will never be final (their speaker left, or we moved rooms).
    const interim = this.client.interimTranscripts;
    for (const [id, line] of this.lines) if (!line.final && !interim.has(id)) this.remove(id);
    if (!this.client.transcripts.length && !interim.size) this.clear();
  }

  label(caption) {
    return caption.peerId === this.client.peerId ? message("captions.you") : (caption.name || message("captions.someone"));
  }

  /** Add the caption's line, or replace its utterance's line in place. */
  draw(caption) {
    const final = !caption.isPartialTranscript;
    let line = this.lines.get(caption.id);
    if (!line) {
      const text = h("span", {class: "text"});
      const el = h("div", {class: "caption", dataset: {testid: "caption", id: caption.id, peerId: caption.peerId}},
        h("span", {class: "who"}, `${this.label(caption)}:`), " ", text);
      line = {el, text, final, timer: null};
      this.lines.set(caption.id, line);
      this.els.lines.append(el);
      while (this.lines.size > LINES) this.remove(this.lines.keys().next().value);
    }
    line.final = final;
    line.text.textContent = caption.transcript;
    line.el.dataset.final = String(final);
    line.el.classList.remove("fading");
    clearTimeout(line.timer);
    line.timer = setTimeout(() => this.fade(caption.id), final ? this.fadeMs : this.staleMs);
    this.paintToggle();
  }

  announce(caption) {
    const log = this.els.announce;
    log.append(h("p", {}, `${this.label(caption)}: ${caption.transcript}`));
    while (log.childElementCount > ANNOUNCED) log.firstElementChild.remove();
  }

  fade(id) {
    const line = this.lines.get(id);
    if (!line) return;
    line.el.classList.add("fading");
    line.timer = setTimeout(() => this.remove(id), FADING_MS);
  }

  remove(id) {
    const line = this.lines.get(id);
    if (!line) return;
    clearTimeout(line.timer);
    line.el.remove();
    this.lines.delete(id);
    this.paintToggle();
  }

  clear() {
    for (const id of [...this.lines.keys()]) this.remove(id);
    this.paintToggle();
  }
}
