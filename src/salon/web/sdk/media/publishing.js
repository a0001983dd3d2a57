// salon browser SDK, media: the publish connection. Its senders (simulcast encodings,
// temporal layers, codec preference, screenshare's resolution), publish / unpublish /
// setEnabled with the caller's latest choice winning (`wanted`), parking and silencing a
// sender, and what the server decides: a host turning a kind off, rights taken away, the
// simulcast encodings it asks for.

import { SalonError } from "../salon.js";
import { applyEncodings, resetEncodings } from "../encodings.js";
import { KINDS, SIMULCAST_CAPTURE } from "./devices.js";
import { gathered } from "./negotiation.js";

/** The camera's simulcast encodings, low to high: [rid, scaleResolutionDownBy]. */
const SIMULCAST = [["q", 4], ["h", 2], ["f", 1]];

// MediaSession's methods: media.js copies them onto MediaSession.prototype (this class is
// never instantiated), so `this` is the session and every field is the session's.
export class PublishMethods {
  _ensurePubPc() {
    if (this.closed) throw new SalonError("CLOSED", "the media session is closed");
    if (this.pubPc) return this.pubPc;
    const pc = new RTCPeerConnection(this._rtcConfig());
    pc.addEventListener("icecandidate", (e) => this.pubTrickle.candidate(e.candidate));
    pc.addEventListener("connectionstatechange", () => {
      this._emit("transport", {pc: "publish", state: pc.connectionState, by: "client"});
    });
    this.pubPc = pc;
    return pc;
  }

  /** Whether the camera goes out as simulcast: the server accepts it (VP8 or H.264). */
  _simulcastCamera() {
    const config = this.client && this.client.mediaConfig;
    return Boolean(this.simulcast && config && config.simulcast);
  }

  /**
   * A sending transceiver for `kind`. The camera: as simulcast when the server accepts it
   * (three encodings, `q` a quarter of the size, `h` half, `f` whole: the server forwards
   * each subscriber the one that fits), each with temporal layers (`cameraLayers`, L1T3
   * by default: 7.5, 15 and 30 fps in one stream, so the server can also drop frames
   * without re-encoding); a browser that refuses a mode gets the next simpler one (no
   * temporal layers, then one encoding). Screenshare: one encoding, detail over frame
   * rate (`contentHint`, `degradationPreference`).
   */
  _addSender(pc, kind, track) {
    const tries = [];
    const {size: [, height], frameRate: maxFramerate} = this.capture("video");
    const layers = this.cameraLayers ? {scalabilityMode: this.cameraLayers} : {};
    if (kind === "video" && this._simulcastCamera()) {
      // the top encoding at the preset's quality, scaled from what the camera gives
      const captured = (track && track.getSettings && track.getSettings().height) || SIMULCAST_CAPTURE[1];
      const top = Math.max(1, captured / height);
      const encodings = (extra) => SIMULCAST.map(([rid, scale]) => ({rid, scaleResolutionDownBy: scale * top,
                                                                     maxFramerate, ...extra}));
      // H.264 (OpenH264 in Chromium) gets no temporal layers: the encodings alone
      if (this.cameraLayers && this.codecPreference !== "h264") tries.push(encodings(layers));
      tries.push(encodings({}));
    }
    if (kind === "video" && this.cameraLayers && this.codecPreference !== "h264") tries.push([{...layers, maxFramerate}]);
    if (kind === "video") tries.push([{maxFramerate}]);
    tries.push(null);
    if (kind === "screenshare" && track && "contentHint" in track) track.contentHint = "detail";
    let tx;
    for (const sendEncodings of tries) {
      try {
        tx = pc.addTransceiver(track || (kind === "audio" ? "audio" : "video"),
          sendEncodings ? {direction: "sendonly", sendEncodings} : {direction: "sendonly"});
        break;
      } catch (error) {
        if (!sendEncodings) throw error;  // this browser cannot send these encodings
      }
    }
    if (kind === "screenshare") this._keepResolution(tx.sender);
    this._preferCodecs(tx, kind);
    return tx;
  }

  /** The server pauses the camera's simulcast encodings nobody receives and resumes one
   * as soon as someone does (`media.encodings`; encodings.js). */
  _encodingsAsked({track_id: trackId, encodings}) {
    const kind = Object.keys(this.published).find((k) => this.published[k] && this.published[k].track_id === trackId);
    const tx = kind && this.pubTx[kind];
    if (!tx) return;
    this.pubSerial.run(() => applyEncodings(tx.sender, encodings))
      .catch((error) => this._emit("error", {during: "media.encodings", error}));
  }

  /** A congested screenshare drops frames, never resolution (text must stay legible). */
  _keepResolution(sender) {
    try {
      const params = sender.getParameters();
      params.degradationPreference = "maintain-resolution";
      sender.setParameters(params).catch(() => {});
    } catch (error) { /* a browser without the setting: contentHint still asks for it */ }
  }

  _preferCodecs(transceiver, kind) {
    if (typeof RTCRtpSender.getCapabilities !== "function" || !transceiver.setCodecPreferences) return;
    const media = kind === "audio" ? "audio" : "video";
    const allowed = (this.config.codecs || {})[media] || (media === "audio" ? ["opus"] : ["VP8", "H264"]);
    let names = allowed.map((n) => `${media}/${n}`.toLowerCase());
    if (media === "video" && this.codecPreference === "h264") {
      names = [...names.filter((n) => n.endsWith("h264")), ...names.filter((n) => !n.endsWith("h264"))];
    }
    const caps = (RTCRtpSender.getCapabilities(media) || {codecs: []}).codecs;
    const chosen = [];
    for (const name of names) {
      for (const codec of caps) {
        if (codec.mimeType.toLowerCase() !== name) continue;
        if (name.endsWith("h264")) {
          const fmtp = codec.sdpFmtpLine || "";
          if (!/packetization-mode=1/.test(fmtp) || !/profile-level-id=42(00|e0)1f/.test(fmtp)) continue;
        }
        chosen.push(codec);
      }
    }
    chosen.push(...caps.filter((c) => c.mimeType.toLowerCase() === `${media}/rtx`));
    try {
      if (chosen.length) transceiver.setCodecPreferences(chosen);
    } catch (_) { /* the browser keeps its own order; the server picks what it supports */ }
  }

  /**
   * Publish kinds (default: the open microphone and camera). Only kinds the peer may
   * publish now (`self.can_publish`) are offered; resolves with the kinds published.
   * Devices are opened as needed (screenshare: the browser's picker).
   */
  publish(kinds) {
    let asked = kinds || ["audio", "video"].filter((k) => this._live(k));
    if (typeof asked === "string") asked = [asked];
    asked = asked.filter((k) => KINDS.includes(k));
    for (const kind of asked) this.wanted[kind] = true;
    return this.pubSerial.run(() => this._publishNow(asked));
  }

  /** Whether the caller still wants this kind sent (its latest choice is not "off"). */
  _stillWanted(kind) { return this.wanted[kind] !== false; }

  async _publishNow(asked) {
    if (!this.available) throw new SalonError("CONFLICT", "Media is disabled on this server.");
    const serial = this.pubSerial;  // the queue this step runs in
    const rights = this.client.canPublish;
    let wanted = asked.filter((k) => rights[k] && !this.published[k] && this._stillWanted(k));
    if (!wanted.length) return [];
    const devices = wanted.filter((k) => k !== "screenshare" && !this._live(k));
    if (devices.length) await this.startDevices({audio: devices.includes("audio"), video: devices.includes("video")});
    if (wanted.includes("screenshare")) await this._openDevice("screenshare");
    // Turned off while the devices opened: the camera closes again, nothing is offered.
    if (wanted.includes("video") && !this._stillWanted("video") && !this.enabled.video) this._setLocal("video", null);
    wanted = wanted.filter((k) => this._stillWanted(k));
    if (!wanted.length) return [];
    if (wanted.includes("video")) await this._fitCamera(this.local.video);
    // A move (or close) while the devices opened: the connection to offer on is gone,
    // and the move publishes again what is wanted.
    if (serial.dead || this.closed || this._leaving) return [];
    const pc = this._ensurePubPc();
    for (const kind of wanted) {
      const track = this.local[kind];
      let tx = this.pubTx[kind];
      if (tx && tx.currentDirection !== "stopped" && !tx.stopped) {
        await tx.sender.replaceTrack(track);
        tx.direction = "sendonly";
        // published again: the server's new track has every encoding active (encodings.js)
        await resetEncodings(tx.sender).catch(() => {});
      } else {
        // (no track: turned off during an await above; dropped before the offer goes out)
        tx = this._addSender(pc, kind, track);
        this.pubTx[kind] = tx;
      }
    }
    let sent;
    try {
      sent = await this._negotiatePublish(Object.keys(this.published), wanted);
    } catch (error) {
      if (pc !== this.pubPc) return [];  // closed under us (a move): the senders are gone
      for (const kind of wanted) await this._park(kind);
      throw error;
    }
    if (pc !== this.pubPc) return [];
    for (const kind of wanted) if (!sent.includes(kind)) await this._park(kind);
    // A kind turned off while its offer was in flight stays off: `enabled` false and no
    // track on its sender; the `self.media` of that setEnabled(…, false) follows.
    for (const kind of sent) this.enabled[kind] = this._stillWanted(kind);
    if (sent.length) this._emit("published", {kinds: sent, tracks: {...this.published}});
    return sent;
  }

  /** A sender that will not send: no track, its m-line inactive (reused later). */
  async _park(kind) {
    const tx = this.pubTx[kind];
    if (!tx) return;
    tx.direction = "inactive";
    await tx.sender.replaceTrack(null).catch(() => {});
  }

  /**
   * Offer the `kept` kinds (already published) and the `fresh` ones; resolves with the
   * fresh kinds that went out. Fresh kinds turned off while the offer was being made are
   * dropped and the offer made again, so what goes to the server is the latest choice at
   * the moment it is sent (nothing is offered when no kind is left).
   */
  async _negotiatePublish(kept, fresh = []) {
    const pc = this.pubPc;
    for (;;) {
      if (!kept.length && !fresh.length) return [];
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      await gathered(pc);  // resolves on its timer even for a connection closed meanwhile
      if (pc !== this.pubPc || this.closed) return [];
      const dropped = fresh.filter((k) => !this._stillWanted(k));
      if (dropped.length) {
        await pc.setLocalDescription({type: "rollback"}).catch(() => {});
        for (const kind of dropped) await this._park(kind);
        fresh = fresh.filter((k) => !dropped.includes(k));
        continue;
      }
      // From here to the request nothing awaits: the choice checked is the one sent.
      const sdp = pc.localDescription.sdp;
      const tracks = {};
      for (const kind of [...kept, ...fresh]) {
        const tx = this.pubTx[kind];
        if (tx && tx.mid !== null) tracks[tx.mid] = kind;
      }
      this.pubTrickle.offered(sdp);
      let reply;
      try {
        reply = await this.client.request("media.publish", {sdp, tracks});
      } catch (error) {
        if (pc.signalingState === "have-local-offer") await pc.setLocalDescription({type: "rollback"}).catch(() => {});
        throw error;
      }
      if (pc !== this.pubPc) return [];  // closed while the server answered (a move)
      await pc.setRemoteDescription({type: "answer", sdp: reply.sdp});
      this.pubTrickle.signalled();
      for (const track of reply.tracks || []) {
        const kind = track.kind || tracks[track.mid];
        if (kind) this.published[kind] = track;
      }
      return fresh;
    }
  }

  /** Share the screen (the browser asks which); `publish(["screenshare"])`. */
  publishScreen() { return this.publish(["screenshare"]); }

  /** Stop publishing a kind: the m-line goes inactive and is reused next time. */
  unpublish(kind, {request = true} = {}) {
    this.wanted[kind] = false;
    return this.pubSerial.run(async () => {
      if (!this.published[kind]) return;
      delete this.published[kind];
      this.enabled[kind] = false;
      const tx = this.pubTx[kind];
      if (tx) {
        await tx.sender.replaceTrack(null).catch(() => {});
        tx.direction = "inactive";
      }
      if (kind === "screenshare") this._setLocal("screenshare", null);
      this._emit("unpublished", {kind});
      if (request) await this.client.request("media.unpublish", {kinds: [kind]}).catch(() => {});
    });
  }

  /**
   * Turn a kind on or off; the latest call wins. On: publishes it if it is not yet (or
   * re-opens the device), then `self.media`; off: the sender stops at once (the camera
   * is closed, the microphone kept for a quick unmute), then `self.media` once any
   * publish in flight has settled.
   */
  async setEnabled(kind, on) {
    if (on) {
      if (!this.client.canPublish[kind]) {
        throw new SalonError("FORBIDDEN", `this peer may not publish ${kind} now`);
      }
      this.wanted[kind] = true;
      const serial = this.pubSerial;
      await serial.run(async () => {
        if (!this._stillWanted(kind)) return;  // turned off again meanwhile: that wins
        if (!this.published[kind]) {
          await this._publishNow([kind]);
          return;
        }
        const track = await this._openDevice(kind);
        if (serial.dead) return;  // moved meanwhile: the move publishes what is wanted
        if (!this._stillWanted(kind)) {
          if (kind === "video") this._setLocal("video", null);
          return;
        }
        const tx = this.pubTx[kind];
        try {
          await tx.sender.replaceTrack(track);
        } catch (error) {
          if (serial.dead) return;  // its connection closed by a move: the move publishes
          throw error;
        }
        if (serial.dead) return;  // moved during the swap: that old sender is gone
        tx.direction = "sendonly";
        await this.client.setMedia({[kind]: true});
        if (!this._stillWanted(kind)) return;
        this.enabled[kind] = true;
        this._emit("enabled", {kind, on: true});
      });
    } else {
      if (kind === "screenshare") {
        await this.unpublish("screenshare");
        return;
      }
      // At once, whatever is in flight: nothing more is sent, the camera light goes off.
      this.wanted[kind] = false;
      this.enabled[kind] = false;
      await this._silence(kind);
      this._emit("enabled", {kind, on: false});
      // Then the server, after any publish in flight (which may just have turned it on).
      await this.pubSerial.run(async () => {
        if (this._stillWanted(kind)) return;  // turned on again meanwhile
        await this._silence(kind);
        const serverOn = this.published[kind] || (this.client.self && this.client.self[kind]);
        if (serverOn) await this.client.setMedia({[kind]: false}).catch(() => {});
      });
    }
  }

  async _silence(kind) {
    const tx = this.pubTx[kind];
    if (tx) await tx.sender.replaceTrack(null).catch(() => {});
    if (kind === "video") this._setLocal("video", null);  // the camera light goes off
  }

  _disabledByHost({kinds}) {
    for (const kind of kinds || []) {
      if (kind === "screenshare") {
        this.unpublish("screenshare", {request: false}).catch(() => {});
        continue;
      }
      this.wanted[kind] = false;
      if (!this.enabled[kind]) continue;
      this.enabled[kind] = false;
      this._silence(kind);
      this._emit("enabled", {kind, on: false, byHost: true});
    }
  }

  _rightsChanged(canPublish) {
    for (const kind of KINDS) {
      if (this.published[kind] && canPublish[kind] === false) {
        this.unpublish(kind).catch(() => {});
        if (kind !== "screenshare") this._setLocal(kind, null);
        this._emit("revoked", {kind});
      }
    }
  }
}
