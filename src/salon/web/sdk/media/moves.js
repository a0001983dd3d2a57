// salon browser SDK, media: starting connections over. `reset` replaces a failed
// connection (media.reset); a move to another meeting (breakout rooms: meeting.changing,
// meeting.changed, meeting.change_failed, or a resume answered by another node) drops
// both connections, keeps the devices, and publishes again what was being sent.

import { Serial, Trickle } from "./negotiation.js";

// MediaSession's methods: media.js copies them onto MediaSession.prototype (this class is
// never instantiated), so `this` is the session and every field is the session's.
export class MoveMethods {
  /** Replace a failed connection (media.reset): publish again on a new one, or await a new offer. */
  async reset(which) {
    if (this.resetting[which] || this.closed) return;
    this.resetting[which] = true;
    try {
      if (which === "subscribe") {
        // Inside the subscribe queue, so the server's new offer (revision 1), which may
        // come before the reply, is applied to a new connection.
        await this.subSerial.run(async () => {
          if (this.subPc) this.subPc.close();
          this.subPc = null;
          this.subMids = {};
          this._subRevision = 0;
          this._freshOffer = true;
          this.subTrickle = new Trickle(this.client, "subscribe");
          for (const trackId of [...this.remote.keys()]) this._ended(trackId);
          await this.client.request("media.reset", {pc: "subscribe"});
        });
      } else {
        const serial = this.pubSerial;
        await serial.run(async () => {
          const kinds = Object.keys(this.published);
          if (this.pubPc) this.pubPc.close();
          this.pubPc = null;
          this.pubTx = {};
          this.pubTrickle = new Trickle(this.client, "publish");
          await this.client.request("media.reset", {pc: "publish"});
          if (!kinds.length || serial.dead) return;
          const pc = this._ensurePubPc();
          for (const kind of kinds) {
            const track = this.enabled[kind] ? this.local[kind] : null;
            const tx = this._addSender(pc, kind, track);
            this.pubTx[kind] = tx;
          }
          this.published = {};
          await this._negotiatePublish(kinds);
          // The new connection's publish turned every kind on at the server: the
          // muted ones go off again.
          const muted = kinds.filter((k) => k !== "screenshare" && !this.enabled[k]);
          if (muted.length) await this.client.setMedia(Object.fromEntries(muted.map((k) => [k, false]))).catch(() => {});
        });
      }
    } finally {
      this.resetting[which] = false;
    }
  }

  /** Our old peer's connections close on the server: drop ours, keep the devices.
   * `leaving`: on meeting.changing, until meeting.changed or meeting.change_failed. */
  _moving({leaving = false} = {}) {
    this._leaving = leaving;
    this._freshOffer = true;
    this._subRevision = 0;
    if (this._wasPublishing === undefined || this._wasPublishing === null) {
      this._wasPublishing = Object.keys(this.published).filter((k) => k !== "screenshare" && this.enabled[k]);
    }
    for (const trackId of [...this.remote.keys()]) this._ended(trackId);
    if (this.pubPc) this.pubPc.close();
    if (this.subPc) this.subPc.close();
    this.pubPc = this.subPc = null;
    this.pubTx = {};
    this.subMids = {};
    for (const kind of Object.keys(this.published)) this._emit("unpublished", {kind});
    this.published = {};
    this._setLocal("screenshare", null);
    this.pubTrickle = new Trickle(this.client, "publish");
    this.subTrickle = new Trickle(this.client, "subscribe");
    // A promise of a connection closed mid-operation may never settle (the WebRTC spec
    // abandons it): the new connections must not queue behind the old ones' steps, and
    // the old steps must not act on the new connections.
    this.pubSerial.kill();
    this.subSerial.kill();
    this.pubSerial = new Serial();
    this.subSerial = new Serial();
    this.resetting = {};
  }

  /** What to publish again after a move: what was sent, and what was being turned on,
   * but never what the person has turned off since. */
  _republishing() {
    const kinds = new Set(this._wasPublishing || []);
    for (const kind of ["audio", "video"]) if (this.wanted[kind] === true) kinds.add(kind);
    this._wasPublishing = null;
    return [...kinds].filter((k) => this.wanted[k] !== false);
  }

  /** The move failed (meeting.change_failed): we are still the old room's peer, whose
   * connections the server kept while ours closed. Start both over there. */
  _stayed() {
    if (!this._leaving) return;
    this._leaving = false;
    const kinds = this._republishing();
    this.reset("subscribe").catch(() => {});  // the server offers again, at revision 1
    this.pubSerial.run(async () => {
      await this.client.request("media.reset", {pc: "publish"});
      if (kinds.length) await this._publishNow(kinds);
    }).catch((error) => this._emit("error", {during: "republish", error}));
  }

  /** The new meeting's peer: publish again what we were sending, where it is allowed. */
  _moved() {
    this._moving();  // synchronous: the new room's offers come after this event
    const kinds = this._republishing();
    this._emit("moved", {republish: kinds});
    // The new room's peer (or the new node's) starts with the server's defaults: the
    // person's data saver and tile sizes are theirs, not the old peer's. (After a
    // failover the track ids are the same, so the heights must be told again, not
    // filtered out as unchanged.)
    if (this.dataSaver) this.setDataSaver(true).catch(() => {});
    this._heights.clear();
    this._sizesChanged();
    if (kinds.length) {
      this.pubSerial.run(() => this._publishNow(kinds))
        .catch((error) => this._emit("error", {during: "republish", error}));
    }
  }
}
