// salon browser SDK, media: counters. The client's own per track (`stats`, with the
// publish connection's path, `_uplink`) and the server's (`serverStats`).

// MediaSession's methods: media.js copies them onto MediaSession.prototype (this class is
// never instantiated), so `this` is the session and every field is the session's.
export class StatsMethods {
  /** Client-side counters: {inbound: [...per remote track], outbound: [...per published kind]}. */
  async stats() {
    const inbound = [];
    for (const rec of this.remote.values()) {
      const report = await rec.transceiver.receiver.getStats().catch(() => null);
      const row = {trackId: rec.trackId, peerId: rec.peerId, kind: rec.kind, mid: rec.mid,
                   framesDecoded: 0, packetsReceived: 0, bytesReceived: 0, packetsLost: 0};
      if (report) {
        report.forEach((s) => {
          if (s.type !== "inbound-rtp") return;
          row.framesDecoded = s.framesDecoded || 0;
          row.framesReceived = s.framesReceived || 0;
          row.framesPerSecond = s.framesPerSecond || 0;
          row.framesDropped = s.framesDropped || 0;
          row.packetsReceived = s.packetsReceived || 0;
          row.bytesReceived = s.bytesReceived || 0;
          row.packetsLost = s.packetsLost || 0;
          row.jitter = s.jitter || 0;
          row.codec = s.codecId || null;
        });
      }
      inbound.push(row);
    }
    const outbound = [];
    for (const [kind, info] of Object.entries(this.published)) {
      const tx = this.pubTx[kind];
      const report = tx ? await tx.sender.getStats().catch(() => null) : null;
      const row = {kind, trackId: info.track_id, packetsSent: 0, bytesSent: 0, framesEncoded: 0};
      if (report) {
        report.forEach((s) => {
          if (s.type !== "outbound-rtp") return;
          row.packetsSent = s.packetsSent || 0;
          row.bytesSent = s.bytesSent || 0;
          row.framesEncoded = s.framesEncoded || 0;
        });
      }
      outbound.push(row);
    }
    return {inbound, outbound, uplink: await this._uplink()};
  }

  /**
   * The publish connection's path now: `{roundTripTime, availableOutgoingBitrate}` of
   * its selected candidate pair (seconds, bits/s) and `fractionLost` as the server
   * reports it back (RTCP, the worst published kind); null before publishing.
   */
  async _uplink() {
    if (!this.pubPc || !Object.keys(this.published).length) return null;
    const report = await this.pubPc.getStats().catch(() => null);
    if (!report) return null;
    const out = {roundTripTime: null, availableOutgoingBitrate: null, fractionLost: null};
    let pairId = null;
    report.forEach((s) => { if (s.type === "transport" && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId; });
    report.forEach((s) => {
      if (s.type === "candidate-pair" && (s.id === pairId || (!pairId && s.nominated && s.state === "succeeded"))) {
        if (typeof s.currentRoundTripTime === "number") out.roundTripTime = s.currentRoundTripTime;
        if (typeof s.availableOutgoingBitrate === "number") out.availableOutgoingBitrate = s.availableOutgoingBitrate;
      }
      if (s.type === "remote-inbound-rtp" && typeof s.fractionLost === "number") {
        out.fractionLost = Math.max(out.fractionLost || 0, s.fractionLost);
      }
    });
    return out;
  }

  /** Server-side counters of this peer's tracks (or another's, with kick_participant). */
  serverStats(peerId) {
    return this.client.request("media.stats", peerId ? {peer_id: peerId} : {});
  }
}
