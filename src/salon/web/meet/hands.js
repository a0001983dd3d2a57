// Raised hands on the meeting page (docs/meeting-page.md "Raised hands").
//
// - The "Raise hand" / "Lower hand" control (`btn-hand`, aria-pressed), made here and put
//   in the control bar before its spacer; `toggle()` is what a keyboard shortcut calls.
// - Hosts (whoever may lower hands: `disable_participant_audio`, the server's rule) get a
//   "Raised hands (N)" section at the top of the People panel, first raised first, with
//   "Lower hand" on each and "Lower all hands", and a notice (host_tools.js's `notify`)
//   when someone raises a hand; the notice goes when the hand does.
// - Everyone: `mark(peer)` puts a hand and the place in line on a row of the People list,
//   and `handBadge(peer)` one on a video tile's label.
// The order is the server's: raise times are distinct in a room, so sorting by
// `hand_raised_at` (`client.raisedHands`) is the order hands went up.

import { h } from "/sdk/v1/ui/dom.js";
import { fill, message } from "/meet/messages.js";

const NOTICE_MS = 8000;
/** The preset permission the server asks of `host.lower_hands` (docs/protocol.md). */
const LOWER_PERMISSION = "disable_participant_audio";

/** A hand on a tile's label, or null while the peer's hand is down. */
export function handBadge(peer) {
  if (!peer || !peer.hand_raised_at) return null;
  return h("span", {class: "icon hand", role: "img", "aria-label": message("hand.raised"),
                    title: message("hand.raised"), dataset: {testid: "tile-hand"}});
}

export class Hands {
  /**
   * @param {{controls: HTMLElement, before: Element}} els the control bar, and what the
   *   button goes before (its spacer)
   * @param {object} client a SalonClient
   * @param {{act: Function, toast: Function, notify: Function, dropNotice: Function}} ui
   *   `act(fn)` makes a handler that reports failures; `toast(text)` a brief note;
   *   `notify(text, options)` and `dropNotice(peerId, kind)` are host_tools.js's notices
   */
  constructor({controls, before}, client, {act, toast, notify, dropNotice}) {
    this.client = client;
    this.act = act;
    this.notify = notify;
    this.dropNotice = dropNotice;
    this.known = new Map();  // peer id -> hand_raised_at as last seen, to tell a new raise
    this.button = h("button", {type: "button", id: "btn-hand", class: "control hand-toggle",
                               "aria-pressed": "false", dataset: {testid: "btn-hand"},
                               onclick: act(() => this.toggle())});
    controls.insertBefore(this.button, before);
    this.remember();
    client.on("peer.updated", ({peer}) => this.updated(peer));
    client.on("peer.left", ({peer_id: peerId}) => this.gone(peerId));
    client.on("hand.lowered", ({by_peer_id: by}) => { if (by !== client.peerId) toast(message("hand.lowered_by_host")); });
    for (const event of ["self.updated", "self.admitted", "resumed"]) client.on(event, () => this.paint());
    client.on("meeting.changed", () => { this.remember(); this.paint(); });
    this.paint();
  }

  get raised() { return Boolean(this.client.self && this.client.self.hand_raised_at); }
  get canLower() {
    const p = (this.client.self && this.client.self.permissions) || {};
    return Boolean(p[LOWER_PERMISSION]);
  }

  /** Raise the hand, or lower it when it is up. The button follows the server's answer
   * (`self.updated`), so two quick presses cannot leave it saying the wrong thing. */
  async toggle() {
    await this.client.hand.toggle();
    this.paint();
  }

  paint() {
    const self = this.client.self;
    this.button.hidden = !self || Boolean(self.hidden);
    const raised = this.raised;
    this.button.setAttribute("aria-pressed", String(raised));
    this.button.textContent = message(raised ? "hand.lower" : "hand.raise");
    this.button.title = message(raised ? "hand.lower.title" : "hand.raise.title");
  }

  /** Who has a hand up now, without a notice for any of them (entering a room). */
  remember() {
    this.known = new Map([...this.client.peers.values()].map((p) => [p.peer_id, p.hand_raised_at]));
  }

  updated(peer) {
    if (!peer) return;
    const before = this.known.get(peer.peer_id) || null;
    this.known.set(peer.peer_id, peer.hand_raised_at);
    if (peer.hand_raised_at && !before) this.announce(peer);
    if (!peer.hand_raised_at && before) this.dropNotice(peer.peer_id, "hand");
  }

  gone(peerId) {
    if (this.known.get(peerId)) this.dropNotice(peerId, "hand");
    this.known.delete(peerId);
  }

  announce(peer) {
    if (!this.canLower || peer.peer_id === this.client.peerId) return;
    this.notify(fill("hand.notice", {name: peer.name}), {
      testid: "hand", peerId: peer.peer_id, ms: NOTICE_MS, action: message("hand.lower_one"),
      actionTestid: "notice-lower-hand", actionLabel: fill("hand.lower_one.label", {name: peer.name}),
      onAction: () => this.client.host.lowerHands([peer.peer_id])});
  }

  /** 1 for the first hand up, 2 for the next…; 0 while the peer's hand is down. */
  place(peerId) {
    return this.client.raisedHands.findIndex((p) => p.peer_id === peerId) + 1;
  }

  /** The hand and place in line on a People row, or null. */
  mark(peer) {
    const n = peer && peer.hand_raised_at ? this.place(peer.peer_id) : 0;
    if (!n) return null;
    return h("span", {class: "hand-mark", dataset: {testid: "person-hand", order: String(n)},
                      title: fill("hand.place", {n})},
      h("span", {class: "icon hand", "aria-hidden": "true"}), h("span", {"aria-hidden": "true"}, String(n)),
      h("span", {class: "sr-only"}, fill("hand.place", {n})));
  }

  /** The "Raised hands (N)" section for the top of the People panel: nodes, none for
   * someone who may not lower hands or while no hand is up. */
  section() {
    if (!this.canLower) return [];
    const hands = this.client.raisedHands;
    if (!hands.length) return [];
    const self = this.client.peerId;
    return [
      h("h2", {dataset: {testid: "raised-hands-title"}}, fill("hand.section", {count: hands.length})),
      hands.length > 1 ? h("button", {type: "button", class: "small", dataset: {testid: "lower-all-hands"},
                                      onclick: this.act(() => this.client.host.lowerHands(null))},
        message("hand.lower_all")) : null,
      h("ol", {class: "people raised-hands", dataset: {testid: "raised-hands"}}, hands.map((peer, i) =>
        h("li", {class: "person", dataset: {testid: "raised-hand", peerId: peer.peer_id, name: peer.name}},
          h("span", {class: "hand-order", "aria-hidden": "true"}, String(i + 1)),
          h("div", {class: "who"},
            h("div", {class: "name"}, peer.peer_id === self ? fill("hand.you", {name: peer.name}) : peer.name)),
          h("div", {class: "actions"},
            h("button", {type: "button", class: "small", dataset: {testid: "action-lower-hand"},
                         "aria-label": fill("hand.lower_one.label", {name: peer.name}),
                         onclick: this.act(() => this.client.host.lowerHands([peer.peer_id]))},
              message("hand.lower_one")))))),
    ];
  }
}
