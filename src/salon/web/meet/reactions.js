// Emoji reactions on the meeting page (docs/meeting-page.md "Reactions").
//
// - A "React" control (`btn-react`) in the control bar opens a small picker of the
//   server's allow-listed emoji (`REACTIONS` of the SDK), each a button with a name for
//   screen readers ("Thumbs up"). A disclosure: aria-expanded on the button; the focus goes
//   to the first emoji, arrow keys (and Home / End) move along them, Enter or Space sends,
//   Escape (or a click elsewhere) closes and gives the focus back to the button.
// - Reactions come back from the server to everyone, the sender too (one path: what
//   this page shows is what the room saw). Each floats up over the stage with the
//   sender's name; with `prefers-reduced-motion` it does not move, it shows briefly. At
//   most MAX_SHOWN are on screen (the oldest go first), so a flood cannot cover the videos.
// - A polite live region says "Ana reacted: Thumbs up", at most one sentence per
//   ANNOUNCE_MS; what came meanwhile is said once as a count.

import { REACTIONS } from "/sdk/v1/salon.js";
import { h } from "/sdk/v1/ui/dom.js";
import { fill, message } from "/meet/messages.js";

/** The catalogue key of each allow-listed emoji's name (messages.js `reaction.*`). */
const NAMES = {"👍": "reaction.thumbs_up", "👏": "reaction.clap", "❤️": "reaction.heart",
               "😂": "reaction.joy", "😮": "reaction.surprised", "🎉": "reaction.party",
               "🤔": "reaction.thinking", "👎": "reaction.thumbs_down"};
const MAX_SHOWN = 12;
const FLOAT_MS = 3000;       // as long as the CSS animation
const STILL_MS = 2000;       // with reduced motion: shown, then gone
const ANNOUNCE_MS = 2000;

export const reactionName = (emoji) => message(NAMES[emoji]) || emoji;

export class Reactions {
  /**
   * @param {{controls: HTMLElement, before: Element, stage: HTMLElement}} els the control
   *   bar and what the button goes before (its spacer); the stage the reactions float over
   * @param {object} client a SalonClient
   * @param {{act: Function}} ui `act(fn)` makes a handler that reports failures
   */
  constructor({controls, before, stage}, client, {act}) {
    this.client = client;
    this.controls = controls;
    this.button = h("button", {type: "button", id: "btn-react", class: "control react-toggle",
                               "aria-expanded": "false", "aria-controls": "reaction-picker",
                               title: message("reaction.button.title"), dataset: {testid: "btn-react"},
                               onclick: () => this.togglePicker()}, message("reaction.button"));
    this.options = REACTIONS.map((emoji) => h("button", {
      type: "button", class: "reaction-option", "aria-label": reactionName(emoji), title: reactionName(emoji),
      dataset: {testid: "reaction-option", emoji}, onclick: act(() => this.send(emoji))},
    h("span", {"aria-hidden": "true"}, emoji)));
    this.picker = h("div", {id: "reaction-picker", class: "reaction-picker", role: "group", hidden: true,
                            "aria-label": message("reaction.picker"), dataset: {testid: "reaction-picker"}},
      this.options);
    this.picker.addEventListener("keydown", (event) => this.keydown(event));
    this.button.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !this.picker.hidden) { event.preventDefault(); this.closePicker(true); }
    });
    controls.insertBefore(this.button, before);
    controls.insertBefore(this.picker, before);
    document.addEventListener("pointerdown", (event) => {
      if (!this.picker.hidden && !this.picker.contains(event.target) && !this.button.contains(event.target)) {
        this.closePicker(false);
      }
    });
    window.addEventListener("resize", () => this.place());

    this.layer = h("div", {class: "reactions-layer", "aria-hidden": "true", dataset: {testid: "reactions-layer"}});
    this.announcer = h("div", {class: "sr-only", role: "status", "aria-live": "polite",
                               dataset: {testid: "reaction-announce"}});
    stage.append(this.layer, this.announcer);
    this.lastSaid = 0;
    this.unsaid = 0;
    this.sayTimer = null;
    this.lane = 0;
    client.on("reaction", (data) => this.received(data));
    for (const event of ["self.updated", "self.admitted"]) client.on(event, () => this.paint());
    this.paint();
  }

  paint() {
    const self = this.client.self;
    this.button.hidden = !self || Boolean(self.hidden);
    if (this.button.hidden) this.closePicker(false);
  }

  async send(emoji) {
    this.closePicker(true);
    await this.client.react(emoji);
  }

  // --- the picker ----------------------------------------------------------------------------

  togglePicker() {
    if (this.picker.hidden) this.openPicker();
    else this.closePicker(true);
  }

  openPicker() {
    this.picker.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this.place();
    this.options[0].focus();
  }

  /** The button, or More while the control bar had no room for it (more_menu.js). */
  anchor() {
    return this.button.offsetParent ? this.button : document.getElementById("btn-more") || this.button;
  }

  closePicker(refocus) {
    if (this.picker.hidden) return;
    const had = this.picker.contains(document.activeElement);
    this.picker.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    if ((refocus || had) && !this.button.hidden) this.anchor().focus();
  }

  keydown(event) {
    const at = this.options.indexOf(document.activeElement);
    const last = this.options.length - 1;
    const to = {ArrowRight: at + 1, ArrowDown: at + 1, ArrowLeft: at - 1, ArrowUp: at - 1, Home: 0, End: last}[event.key];
    if (event.key === "Escape") {
      event.preventDefault();
      this.closePicker(true);
    } else if (to !== undefined) {
      event.preventDefault();
      this.options[(to + this.options.length) % this.options.length].focus();
    }
  }

  /** Just above the control bar (which wraps on a phone), next to its button, inside the window. */
  place() {
    if (this.picker.hidden) return;
    const bar = this.controls.getBoundingClientRect();
    const button = this.anchor().getBoundingClientRect();
    const width = this.picker.offsetWidth;
    const left = Math.max(8, Math.min(button.left, window.innerWidth - width - 8));
    this.picker.style.left = `${Math.round(left)}px`;
    this.picker.style.bottom = `${Math.round(window.innerHeight - bar.top + 8)}px`;
  }

  // --- reactions received ----------------------------------------------------------------------

  nameOf(peerId) {
    if (peerId === this.client.peerId) return message("reaction.you");
    const peer = this.client.peers.get(peerId);
    return peer ? peer.name : message("reaction.someone");
  }

  received({peer_id: peerId, emoji}) {
    if (!NAMES[emoji]) return;  // the server sends only these; anything else is not shown
    const name = this.nameOf(peerId);
    this.float(emoji, name);
    this.say(fill("reaction.said", {name, reaction: reactionName(emoji)}));
  }

  float(emoji, name) {
    while (this.layer.childElementCount >= MAX_SHOWN) this.layer.firstElementChild.remove();
    const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    this.lane = (this.lane + 1) % 5;  // five lanes, so a burst fans out instead of stacking
    const el = h("div", {class: `reaction-float${still ? " still" : ""}`, dataset: {testid: "reaction-float", emoji},
                         style: {left: `${4 + this.lane * 12}%`}},
      h("span", {class: "reaction-emoji"}, emoji), h("span", {class: "reaction-name"}, name));
    this.layer.append(el);
    setTimeout(() => el.remove(), still ? STILL_MS : FLOAT_MS);
  }

  /** Politely, and rate-limited: a flood becomes "5 more reactions", once. */
  say(text) {
    const now = performance.now();
    if (now - this.lastSaid >= ANNOUNCE_MS && !this.sayTimer) {
      this.lastSaid = now;
      this.speak(text);
      return;
    }
    this.unsaid += 1;
    if (this.sayTimer) return;
    this.sayTimer = setTimeout(() => {
      this.sayTimer = null;
      this.lastSaid = performance.now();
      const count = this.unsaid;
      this.unsaid = 0;
      this.speak(count === 1 ? text : fill("reaction.said_many", {count}));
    }, Math.max(0, ANNOUNCE_MS - (now - this.lastSaid)));
  }

  /** Text straight in the live region (a child element would sit outside the 1 px
   * clip); the same sentence twice in a row differs by a trailing space, so it is heard. */
  speak(text) {
    this.announcer.textContent = this.announcer.textContent === text ? `${text}\u00a0` : text;
  }
}
