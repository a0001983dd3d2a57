// Join and leave notices on the meeting page: "Ana joined", "Ana left", as brief toasts
// in the page's polite live region.
//
// Joins (and leaves) that come close together are said once ("3 people joined"): a
// notice waits until no other join or leave has come for BATCH_MS (at most MAX_MS).
// Nothing is said about yourself (this tab, or you in another tab), nor about hidden
// participants (they are never in the room state, so no peer.joined names them), nor in
// your own first second in a room: the room state you enter with is not "joins".

import { fill } from "/meet/messages.js";

const QUIET_MS = 1000;
const BATCH_MS = 1000;
const MAX_MS = 3000;
const SHOW_MS = 4000;

export class PresenceNotices {
  /**
   * @param {object} client a SalonClient
   * @param {{toast: (text: string, ms: number) => HTMLElement}} ui
   */
  constructor(client, {toast}) {
    this.client = client;
    this.toast = toast;
    this.names = new Map();          // peer id -> name, so a peer.left (which has no name) can be said
    this.pending = {joined: [], left: []};
    this.timer = null;
    this.first = 0;                  // when the batch began
    this.start();
    client.on("peer.joined", ({peer}) => this.joined(peer));
    client.on("peer.updated", ({peer}) => { if (peer) this.names.set(peer.peer_id, peer.name); });
    client.on("peer.left", ({peer_id: id}) => this.left(id));
    client.on("meeting.changed", () => this.start());   // a new room: its people are not joins
  }

  /** Entering a room: know who is here, say nothing for a second. */
  start() {
    this.since = performance.now();
    this.pending = {joined: [], left: []};
    clearTimeout(this.timer);
    this.timer = null;
    for (const peer of this.client.peers.values()) this.names.set(peer.peer_id, peer.name);
  }

  quiet() {
    return performance.now() - this.since < QUIET_MS;
  }

  isSelf(peer) {
    const self = this.client.self || {};
    return peer.peer_id === this.client.peerId || (self.participant_id && peer.participant_id === self.participant_id);
  }

  joined(peer) {
    if (!peer) return;
    this.names.set(peer.peer_id, peer.name);
    if (this.quiet() || this.isSelf(peer) || peer.hidden) return;
    this.queue("joined", peer.name);
  }

  left(id) {
    const name = this.names.get(id);
    this.names.delete(id);
    if (name === undefined || id === this.client.peerId || this.quiet()) return;
    this.queue("left", name);
  }

  queue(kind, name) {
    if (!this.timer) this.first = performance.now();
    this.pending[kind].push(name);
    clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(BATCH_MS, this.first + MAX_MS - performance.now()));
    this.timer = setTimeout(() => this.flush(), wait);
  }

  flush() {
    this.timer = null;
    const {joined, left} = this.pending;
    this.pending = {joined: [], left: []};
    for (const [kind, names] of [["joined", joined], ["left", left]]) {
      if (!names.length) continue;
      const text = names.length === 1 ? fill(`notice.${kind}`, {name: names[0]})
        : names.length === 2 ? fill(`notice.${kind}.two`, {first: names[0], second: names[1]})
        : fill(`notice.${kind}.many`, {count: names.length});
      const el = this.toast(text, SHOW_MS);
      el.dataset.kind = "presence";
    }
  }
}
