// salon browser SDK, media: the subscribe connection. Answering the server's offers (one
// at a time, stale ones dropped), remote tracks known by the offer's mid -> track_id map
// (`track` / `trackended`), the server's ICE candidates, and what this peer asks to
// receive: data saver and the rendered size of each tile.

import { SalonError } from "../salon.js";
import { gathered } from "./negotiation.js";

// MediaSession's methods: media.js copies them onto MediaSession.prototype (this class is
// never instantiated), so `this` is the session and every field is the session's.
export class SubscribeMethods {
  _ensureSubPc() {
    if (this.closed) throw new SalonError("CLOSED", "the media session is closed");
    if (this.subPc) return this.subPc;
    const pc = new RTCPeerConnection(this._rtcConfig());
    pc.addEventListener("icecandidate", (e) => this.subTrickle.candidate(e.candidate));
    pc.addEventListener("connectionstatechange", () => {
      this._emit("transport", {pc: "subscribe", state: pc.connectionState, by: "client"});
    });
    this.subPc = pc;
    return pc;
  }

  _offered(data) {
    this.client._lastOffer = null;
    // Between meeting.changing and meeting.changed an offer is the old room's, made
    // before the move began; the new room offers after meeting.changed.
    if (this._leaving) return Promise.resolve();
    return this.subSerial.run(() => this._answer(data)).catch((error) => {
      if (error instanceof SalonError && error.code === "CLOSED") {
        this._answerLost = true;  // the WebSocket dropped: start over once resumed
        return;
      }
      this._emit("error", {during: "media.subscribe_offer", error});
      // The server waits for an answer that will not come: start the connection over,
      // at most twice a minute so a persistent problem cannot loop.
      const now = Date.now();
      this.subFailures = (this.subFailures || []).filter((t) => now - t < 60000);
      if (this.subFailures.length < 2 && !this.closed) {
        this.subFailures.push(now);
        this.reset("subscribe").catch(() => {});
      }
    });
  }

  async _answer(offer) {
    if (this.closed) return;
    // After a reset or a move the server numbers its offers from 1 on a new connection:
    // one made for the connection before (sent before the server saw the reset) is stale.
    if (this._freshOffer && offer.revision !== 1) return;
    this._freshOffer = false;
    if (this.subPc && offer.revision <= this._subRevision) {
      // The server started over (a new connection at revision 1) without our reset.
      this.subPc.close();
      this.subPc = null;
      for (const trackId of [...this.remote.keys()]) this._ended(trackId);
    }
    this._subRevision = offer.revision;
    const pc = this._ensureSubPc();
    try {
      await this._answerOn(pc, offer);
    } catch (error) {
      if (pc === this.subPc) throw error;  // else it closed under us (a move or a reset)
    }
  }

  async _answerOn(pc, {sdp, revision, tracks}) {
    await pc.setRemoteDescription({type: "offer", sdp});
    if (pc !== this.subPc) return;
    this.subMids = tracks || {};
    this._reconcile();
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    await gathered(pc);
    if (pc !== this.subPc) return;  // an answer from a closed connection would only mislead
    const local = pc.localDescription.sdp;
    this.subTrickle.offered(local);
    try {
      await this.client.request("media.subscribe_answer", {sdp: local, revision});
    } catch (error) {
      if (!(error instanceof SalonError && error.code === "CONFLICT")) throw error;
      return;  // a newer offer is on its way
    }
    this.subTrickle.signalled();
  }

  /** Remote tracks from the offer's mid map: new ones `track`, gone or replaced `trackended`. */
  _reconcile() {
    const byMid = new Map();
    for (const tx of this.subPc.getTransceivers()) if (tx.mid !== null) byMid.set(tx.mid, tx);
    const current = new Map();
    for (const [mid, entry] of Object.entries(this.subMids)) {
      if (entry && byMid.has(mid)) current.set(entry.track_id, {mid, entry});
    }
    for (const rec of [...this.remote.values()]) {
      const now = current.get(rec.trackId);
      if (!now || now.mid !== rec.mid) this._ended(rec.trackId);
    }
    for (const [trackId, {mid, entry}] of current) {
      if (this.remote.has(trackId)) continue;
      const tx = byMid.get(mid);
      const rec = {trackId, peerId: entry.peer_id, kind: entry.kind, mid,
                   track: tx.receiver.track, transceiver: tx};
      this.remote.set(trackId, rec);
      this._emit("track", rec);
    }
  }

  _ended(trackId) {
    const rec = this.remote.get(trackId);
    if (!rec) return;
    this.remote.delete(trackId);
    this._emit("trackended", rec);
  }

  /** Remote tracks now: [{trackId, peerId, kind, mid, track}]. */
  tracks() { return [...this.remote.values()]; }

  /** {mode: "auto"|"manual", trackIds?, device?} → what will be received. */
  subscribe({mode = "auto", trackIds, device} = {}) {
    const data = {mode};
    if (trackIds) data.track_ids = trackIds;
    if (device) data.device = device;
    return this.client.request("media.subscribe", data);
  }

  _remoteCandidate({pc, candidate}) {
    const target = pc === "publish" ? this.pubPc : this.subPc;
    if (!target) return;
    target.addIceCandidate(candidate || null).catch(() => {});
  }

  // --- what this peer receives: data saver and rendered sizes -------------------------------

  /**
   * Data saver: receive every camera at its lowest layer only (the server's choice
   * otherwise follows this peer's bandwidth and tile sizes). Sent as `media.prefer`.
   */
  async setDataSaver(on) {
    this.dataSaver = Boolean(on);
    if (this.client) await this.client.request("media.prefer", {data_saver: this.dataSaver});
  }

  /**
   * Tell the server how tall `element` shows the remote track `trackId` (followed with a
   * ResizeObserver until `unobserveTile`): a thumbnail never gets the top layer, a hidden
   * tile only the base layer. Changes are sent at most every 500 ms, in 60 px steps.
   */
  observeTile(trackId, element) {
    if (!element) return;
    this._tiles.set(element, trackId);
    if (this._sizes) this._sizes.observe(element);
    this._sizesChanged();
  }

  unobserveTile(element) {
    if (!element || !this._tiles.has(element)) return;
    this._tiles.delete(element);
    if (this._sizes) this._sizes.unobserve(element);
  }

  _sizesChanged() {
    if (this._sizeTimer || this.closed || !this.client) return;
    this._sizeTimer = setTimeout(() => {
      this._sizeTimer = null;
      const heights = {};
      for (const [element, trackId] of this._tiles) {
        const shown = element.isConnected && element.getClientRects().length > 0;
        const px = shown ? Math.round(element.getBoundingClientRect().height / 60) * 60 : 0;
        heights[trackId] = Math.max(heights[trackId] || 0, Math.min(px, 10000));
      }
      const changed = Object.entries(heights).filter(([t, px]) => this._heights.get(t) !== px);
      if (!changed.length) return;
      for (const [t, px] of changed) this._heights.set(t, px);
      this.client.request("media.prefer", {heights: Object.fromEntries(changed.slice(0, 100))})
        .catch(() => this._heights.clear());  // told again on the next change
    }, 500);
  }
}
